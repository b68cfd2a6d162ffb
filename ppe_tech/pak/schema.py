"""Store tables of the pak job (see ppe_tech.store for how migrations apply).

The access log is append-only at the database level:

- ``pak_meta`` holds one row: the log id (random, made when the table is made).
- ``pak_entries`` holds the entries. Triggers refuse UPDATE and DELETE, and an
  INSERT whose ``seq`` is not ``max(seq) + 1``. The last one also defeats
  ``INSERT OR REPLACE`` (which deletes a conflicting row *without* firing delete
  triggers): a replacing insert always reuses an existing ``seq``, so it is
  refused before any conflict resolution runs. For the same reason the table has
  no UNIQUE constraint besides its primary key: "one end per start" is a trigger,
  not a unique index that a REPLACE could use to delete the older end.
- ``pak_checkpoints`` holds every signed checkpoint made, append-only the same way.

Since ``pak-0002-body`` an entry *is* its canonical bytes: ``body`` holds the
canonical JSON the hash covers, and every other column (action, rooms, times,
people, ...) is a STORED generated column computed from it by SQLite, so a
column cannot be edited apart from the hashed body (SQLite refuses to UPDATE a
generated column; editing ``body`` breaks the chain). A CHECK ties ``seq`` to the
body's. ``verify`` also compares the table's definition with ``ENTRIES_DDL``, so a
table rebuilt with plain columns is found too. Reading stays plain SQL on columns.

Triggers stop mistakes and casual edits; they do not stop someone who drops them.
The hash chain (``hash`` column) and signed checkpoints make such edits evident.
"""

_APPEND_ONLY = """
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, 'the PAK log is append-only: {what} cannot be changed'); END;
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, 'the PAK log is append-only: {what} cannot be deleted'); END;
CREATE TRIGGER {table}_next_{key} BEFORE INSERT ON {table}
WHEN NEW.{key} IS NOT (SELECT COALESCE(MAX({key}), 0) + 1 FROM {table})
BEGIN SELECT RAISE(ABORT, 'the PAK log is append-only: {key} must be max({key}) + 1'); END;
"""

MIGRATIONS: list[tuple[str, str]] = [
    (
        "pak-0001-log",
        """
CREATE TABLE pak_meta (
    id INTEGER PRIMARY KEY,
    log_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
INSERT INTO pak_meta (id, log_id, created_at)
VALUES (1, lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
"""
        + _APPEND_ONLY.format(table="pak_meta", what="the log id", key="id")
        + """
CREATE TABLE pak_entries (
    seq INTEGER PRIMARY KEY,          -- running number, 1, 2, 3, ... (the journal's No.)
    kind TEXT NOT NULL,               -- action | start | end
    action TEXT NOT NULL,             -- a code of ppe_tech.pak.journal.ACTIONS
    rooms TEXT NOT NULL,              -- room(s) as written, e.g. "Auditorium 0001, Staff room"
    start_at TEXT NOT NULL,           -- stated start, ISO 8601 in the point's time zone
    end_at TEXT,                      -- stated end (kind action: optional; kind end: the end)
    end_of INTEGER,                   -- kind end: seq of the start entry it closes
    performed_name TEXT NOT NULL,
    performed_position TEXT NOT NULL,
    performed_role TEXT,              -- staff role in ppe.yaml, NULL for a literal name
    responsible_name TEXT NOT NULL,
    responsible_position TEXT NOT NULL,
    responsible_role TEXT,
    note TEXT NOT NULL,
    recorded_at TEXT NOT NULL,        -- when it was written, UTC
    os_user TEXT NOT NULL,            -- who wrote it (operating-system user)
    hash BLOB NOT NULL                -- sha256(previous hash || canonical bytes of this entry)
);
CREATE INDEX pak_entries_end_of ON pak_entries (end_of) WHERE end_of IS NOT NULL;
CREATE TRIGGER pak_entries_one_end BEFORE INSERT ON pak_entries
WHEN NEW.end_of IS NOT NULL AND EXISTS (SELECT 1 FROM pak_entries WHERE end_of = NEW.end_of)
BEGIN SELECT RAISE(ABORT, 'this action already has an end entry'); END;
"""
        + _APPEND_ONLY.format(table="pak_entries", what="entries", key="seq")
        + """
CREATE TABLE pak_checkpoints (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,         -- UTC
    size INTEGER NOT NULL,            -- number of entries covered
    head_hash TEXT NOT NULL,          -- hex hash of entry #size
    text TEXT NOT NULL                -- the signed checkpoint (docs/pak.md has the format)
);
"""
        + _APPEND_ONLY.format(table="pak_checkpoints", what="checkpoints", key="id"),
    ),
]


def _generated(name: str, kind: str = "TEXT") -> str:
    return f"    {name} {kind} GENERATED ALWAYS AS (json_extract(body, '$.{name}')) STORED"


# The table of pak-0002 exactly as SQLite keeps it in sqlite_master (verify compares it).
ENTRIES_DDL = (
    "CREATE TABLE pak_entries (\n"
    "    seq INTEGER PRIMARY KEY CHECK (seq = json_extract(body, '$.seq')),\n"
    "    body TEXT NOT NULL,\n"
    "    hash BLOB NOT NULL,\n"
    + ",\n".join(
        _generated(name, "INTEGER" if name == "end_of" else "TEXT")
        for name in (
            "kind",
            "action",
            "rooms",
            "start_at",
            "end_at",
            "end_of",
            "performed_name",
            "performed_position",
            "performed_role",
            "responsible_name",
            "responsible_position",
            "responsible_role",
            "note",
            "recorded_at",
            "os_user",
        )
    )
    + "\n)"
)

# journal.canonical_bytes built by SQLite from pak-0001's columns; frozen with its migration
CANONICAL_OF_0001 = (
    "json_object('action', action, 'end_at', end_at, 'end_of', end_of, 'kind', kind, "
    "'note', note, 'os_user', os_user, 'performed_name', performed_name, "
    "'performed_position', performed_position, 'performed_role', performed_role, "
    "'recorded_at', recorded_at, 'responsible_name', responsible_name, "
    "'responsible_position', responsible_position, 'responsible_role', responsible_role, "
    "'rooms', rooms, 'seq', seq, 'start_at', start_at, 'v', 1)"
)

MIGRATIONS.append(
    (
        "pak-0002-body",
        # entries of a pak-0001 store keep their hashes: json_object gives the same canonical
        # bytes (tests/pak/test_journal.py checks it), so the chain carries over unchanged
        f"""
CREATE TABLE pak_entries_0001 AS
SELECT seq, {CANONICAL_OF_0001} AS body, hash FROM pak_entries;
DROP TABLE pak_entries;
{ENTRIES_DDL};
INSERT INTO pak_entries (seq, body, hash) SELECT seq, body, hash FROM pak_entries_0001 ORDER BY seq;
DROP TABLE pak_entries_0001;
CREATE INDEX pak_entries_end_of ON pak_entries (end_of) WHERE end_of IS NOT NULL;
CREATE TRIGGER pak_entries_one_end AFTER INSERT ON pak_entries
WHEN NEW.end_of IS NOT NULL AND (SELECT COUNT(*) FROM pak_entries WHERE end_of = NEW.end_of) > 1
BEGIN SELECT RAISE(ABORT, 'this action already has an end entry'); END;
"""
        + _APPEND_ONLY.format(table="pak_entries", what="entries", key="seq"),
    )
)
