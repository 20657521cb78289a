"""Review commands: users, serve, approvals."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from adwatch.cli.common import database, settings
from adwatch.errors import AdWatchError

ROLE_CHOICES = ("admin", "crawl_staff", "reviewer", "enforcement")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise AdWatchError('no password on stdin: pipe one line, e.g. `echo "$PW" | adwatch users add …`')
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group()
def users() -> None:
    """Users and roles: `users add NAME --role ROLE`, `users set-password NAME`, `users list`."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLE_CHOICES), help="What the user may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def users_add(name: str, role: str, password_stdin: bool) -> None:
    """Create a user (the password is asked for unless --password-stdin)."""
    from review_ui.accounts import create_user

    password = _read_password(password_stdin)
    with database().session() as s:
        user = create_user(s, name, role, password)
        click.echo(f"user {user.name} ({user.role}) created")


@users.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of stdin.")
def users_set_password(name: str, password_stdin: bool) -> None:
    """Set a user's password; their open sessions end."""
    from review_ui.accounts import set_password

    password = _read_password(password_stdin)
    with database().session() as s:
        set_password(s, name, password)
    click.echo(f"password of {name} changed; their sessions were ended")


@users.command("list")
def users_list() -> None:
    """Every user with role and state."""
    from sqlalchemy import select

    from adwatch.models import User

    with database().session() as s:
        for user in s.scalars(select(User).order_by(User.name)):
            click.echo(f"{user.name}\t{user.role}\t{'active' if user.active else 'disabled'}")


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1, ADWATCH_HOST).")
@click.option("--port", default=None, type=int, help="Port (default 8000, ADWATCH_PORT).")
def serve(host: str | None, port: int | None) -> None:
    """The web app (default 127.0.0.1:8000)."""
    import uvicorn

    from review_ui.app import create_app

    s = settings()
    app = create_app(s, database())
    host, port = host or s.web_host, port or s.web_port
    click.echo(f"AdWatch web app on http://{host}:{port}/ (database {s.database_url_safe})", err=True)
    uvicorn.run(app, host=host, port=port, proxy_headers=False, server_header=False, log_level="info")


@click.group()
def approvals() -> None:
    """Advertising-approval records: `approvals import FILE`."""


@approvals.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def approvals_import(file: Path) -> None:
    """Import 医疗广告审查证明 records from CSV or XLSX, all or nothing; re-import updates by 文号."""
    from pipelines.approvals_import import ApprovalImportError, import_approvals
    from review_ui import audit

    try:
        with database().session() as s:
            report = import_approvals(s, file)
            audit.record(
                s,
                "approvals.import",
                user=None,
                username="cli",
                ip=None,
                detail={
                    "file": str(file),
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "relinked": report.relinked,
                },
            )
    except ApprovalImportError as exc:
        for error in exc.errors:
            click.echo(f"{file}: {error}", err=True)
        raise
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"imported {report.total} record(s) from {file}: {report.created} new, {report.updated} updated, "
        f"{report.unchanged} unchanged; {report.relinked} document(s) relinked"
    )


COMMANDS = [users, serve, approvals]
