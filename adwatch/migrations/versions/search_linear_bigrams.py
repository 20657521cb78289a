"""search: PostgreSQL's bigram function in linear time (same bigrams, so the index stays valid)

Revision ID: search02
Revises: crawler01
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "search02"
down_revision: str | None = "crawler01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINEAR = """CREATE OR REPLACE FUNCTION adwatch_bigrams(t text) RETURNS text[]
       LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
         SELECT coalesce(array_agg(DISTINCT pair), '{}'::text[]) FROM (
           SELECT c || lead(c) OVER (ORDER BY i) AS pair
           FROM unnest(string_to_array(t, NULL)) WITH ORDINALITY AS u(c, i)
         ) AS pairs WHERE pair IS NOT NULL
       $$"""

QUADRATIC = """CREATE OR REPLACE FUNCTION adwatch_bigrams(t text) RETURNS text[]
       LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
         SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}'::text[])
         FROM generate_series(1, length(t) - 1) AS i
       $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(LINEAR)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(QUADRATIC)
