"""Store tables of the region job (see ppe_tech.store for how migrations apply).

A push is one ``region push`` of one exam; each object it found already in the
storage or sent is recorded as soon as it was verified there, so an interrupted
push (Ctrl-C, kill -9, a lost network) leaves an honest record of what arrived.
"""

MIGRATIONS: list[tuple[str, str]] = [
    (
        "region-0001-pushes-objects",
        """
        CREATE TABLE region_pushes (
            id INTEGER PRIMARY KEY,
            exam_id TEXT NOT NULL,
            started_at TEXT NOT NULL,        -- UTC ISO 8601
            finished_at TEXT,
            status TEXT NOT NULL,            -- running | complete | refused | failed | interrupted
            endpoint TEXT NOT NULL DEFAULT '',
            bucket TEXT NOT NULL,
            base_key TEXT NOT NULL,          -- PREFIX/REGION/POINT/EXAM
            objects INTEGER NOT NULL DEFAULT 0,
            total_bytes INTEGER NOT NULL DEFAULT 0,
            sent_bytes INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,               -- NULL: the bucket has no object lock
            message TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX region_pushes_exam ON region_pushes (exam_id, id);

        CREATE TABLE region_objects (
            push_id INTEGER NOT NULL REFERENCES region_pushes (id),
            key TEXT NOT NULL,               -- the full key in the bucket
            kind TEXT NOT NULL,              -- bag | report | log | checkpoint | certs | record
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            version_id TEXT,
            outcome TEXT NOT NULL,           -- sent | present (already there, same checksum)
            at TEXT NOT NULL,
            PRIMARY KEY (push_id, key)
        );
        """,
    )
]
