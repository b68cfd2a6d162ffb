"""Store tables of the reports job (see ppe_tech.store for how migrations apply)."""

MIGRATIONS: list[tuple[str, str]] = [
    (
        "reports-0001-reports",
        """
        CREATE TABLE reports (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,      -- document number printed on the report
            kind TEXT NOT NULL,               -- readiness | archive | access-log
            exam_id TEXT,
            lang TEXT NOT NULL,               -- ru | en
            path TEXT NOT NULL,               -- relative to the site folder when inside it
            sha256 TEXT NOT NULL,             -- of the file as last written (updated by countersigning)
            data_sha256 TEXT NOT NULL,        -- of the embedded results.json
            data TEXT NOT NULL,               -- the embedded results.json itself
            checkpoint TEXT,                  -- the PAK checkpoint the report carries
            signers TEXT NOT NULL DEFAULT '[]',  -- JSON list of roles that signed, in order
            created_at TEXT NOT NULL,         -- UTC ISO 8601
            signed_at TEXT                    -- UTC, last signature
        );
        """,
    ),
]
