"""``python -m crawler …`` is ``adwatch …``: how the scheduler starts a crawl in a child process."""

from adwatch.cli import main

if __name__ == "__main__":
    main(prog_name="adwatch")
