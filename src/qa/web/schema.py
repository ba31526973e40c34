"""The question log's schema, on SQLite and PostgreSQL alike, and how a database is brought up to it.

The tables (SQLAlchemy Core) of the question log, the readers' votes and the editors'
verifications; :data:`SCHEMA_VERSION` is recorded in ``meta`` (and SQLite's ``PRAGMA
user_version``). :func:`migrate` creates an empty database at this version, or upgrades a SQLite
file of any earlier one in place, its rows kept; under a lock, so that processes starting
together do not race. Triggers refuse to update or delete a verification or a withdrawal, on
both engines. :mod:`qa.web.feedback` is the store that reads and writes them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.types import TypeDecorator

# 2: questions.context (a follow-up's earlier question); 3: verdict "none"; 4: verifications
SCHEMA_VERSION = 4
UPGRADE_LOCK = 0x71615F6C6F67  # pg_advisory_xact_lock's key around the schema's upgrade ("qa_log")


class PlainText(TypeDecorator):
    """Text that PostgreSQL accepts: a NUL character (which it refuses in text) is dropped."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        """The value without NUL characters."""
        return value.replace("\x00", "") if isinstance(value, str) else value


ROW_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite: INTEGER PRIMARY KEY AUTOINCREMENT
METADATA = MetaData()
QUESTIONS = Table(
    "questions",
    METADATA,
    Column("id", ROW_ID, primary_key=True),
    Column("asked_at", Text, nullable=False),
    Column("question", PlainText, nullable=False),
    Column("status", Text, nullable=False),
    Column("passages", PlainText, nullable=False),
    Column("context", PlainText),
    Index("questions_status", "status"),
    sqlite_autoincrement=True,
)
FEEDBACK = Table(
    "feedback",
    METADATA,
    Column("id", ROW_ID, primary_key=True),
    Column("question_id", ROW_ID, ForeignKey("questions.id")),
    Column("given_at", Text, nullable=False),
    Column("question", PlainText, nullable=False),
    Column("passages", PlainText, nullable=False),
    Column("status", Text, nullable=False),
    Column("verdict", Text, CheckConstraint("verdict IN ('up', 'down', 'none')"), nullable=False),
    Index("feedback_question", "question_id"),
    sqlite_autoincrement=True,
)
META = Table(
    "meta",
    METADATA,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)
VERIFICATIONS = Table(
    "verifications",
    METADATA,
    Column("id", ROW_ID, primary_key=True),
    Column("created_at", Text, nullable=False),
    Column("author", PlainText, nullable=False),
    Column("question", PlainText, nullable=False),
    Column("context", PlainText),
    Column("article", Text),
    Column("start", Integer),
    Column("end", Integer),
    Column("highlight_start", Integer),
    Column("highlight_end", Integer),
    Column("verdict", Text, CheckConstraint("verdict IN ('passage', 'absent')"), nullable=False),
    Column("checksum", Text),
    CheckConstraint(
        "(verdict = 'passage') = (article IS NOT NULL AND start IS NOT NULL AND \"end\" IS NOT NULL)"
    ),
    sqlite_autoincrement=True,
)
WITHDRAWALS = Table(
    "verification_withdrawals",
    METADATA,
    Column("id", ROW_ID, primary_key=True),
    Column("verification_id", ROW_ID, ForeignKey("verifications.id"), nullable=False, unique=True),
    Column("withdrawn_at", Text, nullable=False),
    Column("author", PlainText, nullable=False),
    sqlite_autoincrement=True,
)
# Nothing in the verifications' tables is ever updated or deleted: (trigger, table, event, message).
KEPT = (
    ("verifications_kept", "verifications", "UPDATE", "verifications are never changed"),
    ("verifications_not_deleted", "verifications", "DELETE", "verifications are never deleted"),
    ("withdrawals_kept", "verification_withdrawals", "UPDATE", "withdrawals are never changed"),
    ("withdrawals_not_deleted", "verification_withdrawals", "DELETE", "withdrawals are never deleted"),
)
REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION qa_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_ARGV[0], ERRCODE = 'restrict_violation';
END
$$
"""


# --- the schema, versioned ----------------------------------------------------------------------------


def migrate(conn: Connection) -> None:
    """Bring the database to :data:`SCHEMA_VERSION` (rows kept), one process at a time.

    PostgreSQL: under a transaction-scoped advisory lock, and its DDL is transactional: a second
    process waits, then finds the schema made. SQLite: ``BEGIN IMMEDIATE`` takes the write lock
    first, so the whole upgrade is one transaction too.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(UPGRADE_LOCK)))
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    version = schema_version(conn)
    if version < SCHEMA_VERSION:
        if conn.dialect.name == "sqlite":
            _upgrade_sqlite(conn)
        METADATA.create_all(conn)
        for table in METADATA.sorted_tables:  # the indexes of tables that were already there
            for index in table.indexes:
                index.create(conn, checkfirst=True)
        _protect(conn)
    version = max(version, SCHEMA_VERSION)  # a newer program's schema is left as it is
    put(conn, "schema_version", str(version))
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA user_version={version}")


def schema_version(conn: Connection) -> int:
    """The database's schema version: 0 when empty, 1 for a file of the first schema (none recorded)."""
    tables = set(inspect(conn).get_table_names())
    if not tables:
        return 0
    version = 0
    if "meta" in tables:
        value = conn.execute(select(META.c.value).where(META.c.key == "schema_version")).scalar()
        version = int(value) if value and value.isdigit() else 0
    if conn.dialect.name == "sqlite":
        version = max(version, int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0))
    return version or 1


def put(conn: Connection, key: str, value: str) -> None:
    """Set ``meta``'s ``key`` (the caller holds the upgrade's lock: no one else inserts it meanwhile)."""
    if conn.execute(update(META).where(META.c.key == key).values(value=value)).rowcount == 0:
        conn.execute(insert(META).values(key=key, value=value))


def _upgrade_sqlite(conn: Connection) -> None:
    """Bring a SQLite file of an earlier schema (1 to 3) up to this one, in place, its rows kept."""
    tables = set(inspect(conn).get_table_names())
    if "questions" in tables:
        columns = {column["name"] for column in inspect(conn).get_columns("questions")}
        if "context" not in columns:  # schema 1
            conn.exec_driver_sql("ALTER TABLE questions ADD COLUMN context TEXT")
    if "feedback" in tables:
        sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'feedback'").scalar() or ""
        if "'none'" not in sql:  # schema 2: SQLite cannot change a CHECK, the rows go to a new table
            conn.exec_driver_sql("DROP INDEX IF EXISTS feedback_question")
            conn.exec_driver_sql("ALTER TABLE feedback RENAME TO feedback_v2")
            FEEDBACK.create(conn)
            conn.exec_driver_sql("INSERT INTO feedback SELECT * FROM feedback_v2")
            conn.exec_driver_sql("DROP TABLE feedback_v2")


def _protect(conn: Connection) -> None:
    """The triggers that refuse to update or delete a verification or a withdrawal."""
    if conn.dialect.name == "sqlite":
        for name, table, change, message in KEPT:
            conn.exec_driver_sql(
                f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {change} ON {table}"
                f" BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
        return
    conn.exec_driver_sql(REFUSE_FUNCTION)
    for name, table, change, message in KEPT:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER {name} BEFORE {change} ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION qa_refuse_change('{message}')"
        )
    for table in ("verifications", "verification_withdrawals"):  # TRUNCATE fires no row trigger
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_not_truncated ON {table}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER {table}_not_truncated BEFORE TRUNCATE ON {table}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION qa_refuse_change('{table} are never emptied')"
        )
