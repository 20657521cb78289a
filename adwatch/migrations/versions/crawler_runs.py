"""crawl runs: at most one running run per source; the pages each run stored

Revision ID: crawler01
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adwatch.models

revision: str = "crawler01"
down_revision: str | None = "review01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Runs left "running" by a process that died would block the new index: fail them first.
    op.execute(
        "UPDATE crawl_runs SET status = 'failed', stop_reason = 'process died (found at upgrade)' "
        "WHERE status = 'running'"
    )
    op.create_index(
        "uq_crawl_runs_one_running",
        "crawl_runs",
        ["source_id"],
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "crawl_run_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.Column("created_at", adwatch.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["capture_id"], ["captures.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_crawl_run_pages_run_id", "crawl_run_pages", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_crawl_run_pages_run_id", table_name="crawl_run_pages")
    op.drop_table("crawl_run_pages")
    op.drop_index("uq_crawl_runs_one_running", table_name="crawl_runs")
