"""The exception every user-facing failure is raised as.

The CLI prints an AdWatchError as one line on stderr and exits non-zero; the web app shows it as a
message. Its text must say what failed, where, and what to do.
"""


class AdWatchError(Exception):
    """A failure with a message fit for the user."""
