"""Full-text search over documents (title and text) that does not scan every text.

Chinese search terms are often two characters (隆鼻, 吸脂, 植发), so the index must answer
two-character substrings, and it must not depend on the database's locale.

- SQLite: an FTS5 table with the trigram tokenizer, filled by triggers on ``documents``. A query
  of three or more characters is one phrase; a two-character query is expanded, through the
  index's vocabulary, into the trigrams that start with it (every indexed text ends with a
  newline, so every two-character substring starts some trigram).
- PostgreSQL: a GIN index over the set of character bigrams of each text (an immutable SQL
  function); the query's bigrams must all be present, then ``strpos`` confirms the substring.
  pg_trgm was not used: it cannot index two-character queries, and it ignores CJK characters in
  databases with a C locale.

A one-character query, or a database without these indexes, falls back to a scan (``LIKE``).

Two forms of the same test: :func:`matching_document_ids` (the set, driven by the index: right when
few documents match) and :func:`document_contains` (a test of one row: right when many match and
the queue walks its priority index, stopping after one page).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, Select, TextClause, exists, false, func, or_, select, text
from sqlalchemy.orm import Session

from adwatch.models import Document

MAX_QUERY_CHARS = 100
MAX_EXPANSION = 500  # trigrams a two-character query may expand to before falling back to a scan

SQLITE_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS documents_search USING fts5(body, content='', tokenize='trigram')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS documents_search_vocab USING fts5vocab(documents_search, 'row')",
    """CREATE TRIGGER IF NOT EXISTS documents_search_ai AFTER INSERT ON documents BEGIN
         INSERT INTO documents_search(rowid, body)
         VALUES (new.id, coalesce(new.title, '') || char(10) || new.text || char(10));
       END""",
    """CREATE TRIGGER IF NOT EXISTS documents_search_ad AFTER DELETE ON documents BEGIN
         INSERT INTO documents_search(documents_search, rowid, body)
         VALUES ('delete', old.id, coalesce(old.title, '') || char(10) || old.text || char(10));
       END""",
    """CREATE TRIGGER IF NOT EXISTS documents_search_au AFTER UPDATE OF title, text ON documents BEGIN
         INSERT INTO documents_search(documents_search, rowid, body)
         VALUES ('delete', old.id, coalesce(old.title, '') || char(10) || old.text || char(10));
         INSERT INTO documents_search(rowid, body)
         VALUES (new.id, coalesce(new.title, '') || char(10) || new.text || char(10));
       END""",
)
SQLITE_TRIGGERS = ("documents_search_ai", "documents_search_ad", "documents_search_au")

# Character pairs by walking the string once: substr(t, i, 2) on multi-byte text rescans from the
# start each time (quadratic: ~15 ms for a 1,500-character page, minutes for a 200,000-character one).
BIGRAMS_FUNCTION = """CREATE OR REPLACE FUNCTION adwatch_bigrams(t text) RETURNS text[]
       LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
         SELECT coalesce(array_agg(DISTINCT pair), '{}'::text[]) FROM (
           SELECT c || lead(c) OVER (ORDER BY i) AS pair
           FROM unnest(string_to_array(t, NULL)) WITH ORDINALITY AS u(c, i)
         ) AS pairs WHERE pair IS NOT NULL
       $$"""
_PG_BODY = "lower(coalesce(title, '') || E'\\n' || text || E'\\n')"
POSTGRES_DDL = (
    BIGRAMS_FUNCTION,
    f"CREATE INDEX IF NOT EXISTS ix_documents_search_bigrams ON documents USING gin (adwatch_bigrams({_PG_BODY}))",
)


def sqlite_has_trigram(conn: Connection) -> bool:
    """FTS5's trigram tokenizer arrived in SQLite 3.34; older builds search by scanning."""
    try:
        conn.exec_driver_sql("CREATE VIRTUAL TABLE temp.adwatch_probe USING fts5(x, tokenize='trigram')")
        conn.exec_driver_sql("DROP TABLE temp.adwatch_probe")
        return True
    except Exception:  # noqa: BLE001 - any failure means: no trigram FTS5 here
        return False


def install(conn: Connection) -> None:
    """Create the search index for this connection's dialect and fill it from existing documents."""
    if conn.dialect.name == "sqlite":
        if not sqlite_has_trigram(conn):
            return
        existed = _sqlite_index_exists(conn)
        for ddl in SQLITE_DDL:
            conn.exec_driver_sql(ddl)
        if not existed:
            conn.exec_driver_sql(
                "INSERT INTO documents_search(rowid, body) "
                "SELECT id, coalesce(title, '') || char(10) || text || char(10) FROM documents"
            )
    elif conn.dialect.name == "postgresql":
        for ddl in POSTGRES_DDL:
            conn.exec_driver_sql(ddl)


def repair(conn: Connection) -> bool:
    """Recreate the SQLite triggers (and refill the index) if a table rebuild dropped them.

    Alembic's batch mode rebuilds a SQLite table by copying it, which drops its triggers; the web app
    calls this at start so search never silently misses new documents. Returns True if it repaired.
    """
    if conn.dialect.name != "sqlite" or not _sqlite_index_exists(conn):
        return False
    names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    if all(t in names for t in SQLITE_TRIGGERS):
        return False
    conn.exec_driver_sql("DROP TABLE documents_search_vocab")
    conn.exec_driver_sql("DROP TABLE documents_search")
    for trigger in SQLITE_TRIGGERS:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
    install(conn)
    return True


def _sqlite_index_exists(conn: Connection) -> bool:
    row = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'documents_search'"
    ).first()
    return row is not None


def _postgres_index_exists(conn: Connection) -> bool:
    row = conn.exec_driver_sql(
        "SELECT 1 FROM pg_indexes WHERE indexname = 'ix_documents_search_bigrams'"
    ).first()
    return row is not None


def normalize_query(query: str) -> str:
    """The search string as matched: surrounding space trimmed, inner runs of space made one, bounded."""
    return " ".join(query.split())[:MAX_QUERY_CHARS]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matching_document_ids(session: Session, query: str) -> Select | TextClause:
    """A SELECT of the ids of documents whose title or text contains ``query`` (case-insensitive for Latin).

    Meant to be used as ``Document.id.in_(...)`` / ``ReviewItem.document_id.in_(...)``.
    """
    q = normalize_query(query)
    dialect = session.get_bind().dialect.name
    conn = session.connection()
    if dialect == "sqlite" and len(q) >= 2 and _sqlite_index_exists(conn):
        match = _sqlite_match_expression(conn, q)
        if match == "":
            return select(Document.id).where(false())
        if match is not None:
            return text("SELECT rowid FROM documents_search WHERE documents_search MATCH :m").bindparams(
                m=match
            )
    if dialect == "postgresql" and len(q) >= 2 and _postgres_index_exists(conn):
        lowered = q.lower()
        grams = sorted({lowered[i : i + 2] for i in range(len(lowered) - 1)})
        return text(
            f"SELECT id FROM documents WHERE adwatch_bigrams({_PG_BODY}) @> CAST(:grams AS text[]) "
            f"AND strpos({_PG_BODY}, :q) > 0"
        ).bindparams(grams=grams, q=lowered)
    return select(Document.id).where(_like(q, dialect))


def document_contains(session: Session, query: str, document_id: ColumnElement[int]) -> ColumnElement[bool]:
    """True for rows whose document (``document_id``) contains ``query``; tested row by row."""
    q = normalize_query(query)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        body = func.lower(func.coalesce(Document.title, "") + "\n" + Document.text + "\n")
        return exists().where(Document.id == document_id, func.strpos(body, q.lower()) > 0)
    # SQLite: membership in the matching set, which SQLite builds once; "+ 0" keeps it from looping
    # over the whole set through the document_id index instead of walking the caller's order.
    return (document_id + 0).in_(matching_document_ids(session, q))


def _like(q: str, dialect: str) -> ColumnElement[bool]:
    pattern = f"%{_escape_like(q.lower())}%"
    if dialect == "postgresql":
        return or_(Document.title.ilike(pattern, escape="\\"), Document.text.ilike(pattern, escape="\\"))
    # SQLite's LIKE ignores case for ASCII letters, which is what the trigram index does too.
    return or_(Document.title.like(pattern, escape="\\"), Document.text.like(pattern, escape="\\"))


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _sqlite_match_expression(conn: Connection, q: str) -> str | None:
    """The FTS5 MATCH string for ``q``: "" when nothing can match, None when a two-character
    query expands too widely (the caller scans instead)."""
    if len(q) >= 3:
        return _fts_phrase(q)
    lowered = q.lower()
    rows = conn.execute(
        text("SELECT term FROM documents_search_vocab WHERE term >= :lo AND term < :hi LIMIT :n"),
        {"lo": lowered, "hi": lowered + "\U0010ffff", "n": MAX_EXPANSION + 1},
    ).all()
    if len(rows) > MAX_EXPANSION:
        return None
    if not rows:
        return ""
    return " OR ".join(_fts_phrase(r[0]) for r in rows)
