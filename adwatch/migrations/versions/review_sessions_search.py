"""review: web sessions, login attempts, reject reasons, queue indexes, full-text search

Revision ID: review01
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adwatch.models
from review_ui import search

revision: str = "review01"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", adwatch.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", adwatch.models.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", adwatch.models.UTCDateTime(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("flash", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", adwatch.models.UTCDateTime(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_attempts_at", "login_attempts", ["at"])
    op.create_index("ix_login_attempts_ip_at", "login_attempts", ["ip", "at"])
    op.create_index("ix_login_attempts_user_at", "login_attempts", ["username", "at"])
    op.add_column("decisions", sa.Column("reason", sa.String(length=40), nullable=True))
    op.create_index("ix_approval_findings_kind_document", "approval_findings", ["kind", "document_id"])
    op.create_index("ix_review_items_priority", "review_items", ["priority", "id"])
    search.install(op.get_bind())
    _decisions_append_only(op.get_bind())


def _decisions_append_only(bind: sa.Connection) -> None:
    """Decisions are never edited: the database itself refuses an UPDATE (a new decision supersedes)."""
    message = "decisions are append-only: record a new decision instead"
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER decisions_append_only BEFORE UPDATE ON decisions "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
    else:
        op.execute(
            "CREATE FUNCTION adwatch_decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER decisions_append_only BEFORE UPDATE ON decisions "
            "FOR EACH ROW EXECUTE FUNCTION adwatch_decisions_append_only()"
        )


def downgrade() -> None:
    bind = op.get_bind()
    op.execute(
        "DROP TRIGGER IF EXISTS decisions_append_only"
        + ("" if bind.dialect.name == "sqlite" else " ON decisions")
    )
    if bind.dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS adwatch_decisions_append_only()")
    if bind.dialect.name == "sqlite":
        for trigger in search.SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS documents_search_vocab")
        op.execute("DROP TABLE IF EXISTS documents_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_documents_search_bigrams")
        op.execute("DROP FUNCTION IF EXISTS adwatch_bigrams(text)")
    op.drop_index("ix_review_items_priority", table_name="review_items")
    op.drop_index("ix_approval_findings_kind_document", table_name="approval_findings")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("reason")
    op.drop_table("login_attempts")
    op.drop_table("web_sessions")
