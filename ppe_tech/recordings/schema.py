"""Store tables of the recordings job (see ppe_tech.store for how migrations apply)."""

MIGRATIONS: list[tuple[str, str]] = [
    (
        "recordings-0001-segments-archives-alerts",
        """
        -- the segment index cache: a file is parsed again only when its size or mtime changes
        CREATE TABLE recordings_segments (
            root TEXT NOT NULL,
            path TEXT NOT NULL,          -- relative to the root, '/'-separated
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            camera TEXT NOT NULL,
            start TEXT NOT NULL,         -- ISO 8601 UTC, from the path
            duration REAL,               -- seconds, from the container; NULL when unreadable
            status TEXT NOT NULL,        -- ok | unreadable
            reason TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (root, path)
        );
        CREATE INDEX recordings_segments_camera ON recordings_segments (root, camera, start);

        CREATE TABLE recordings_archives (
            id INTEGER PRIMARY KEY,
            exam_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            window_start TEXT NOT NULL,
            window_end TEXT NOT NULL,
            margin_seconds REAL NOT NULL,
            zones TEXT NOT NULL,         -- JSON list
            cameras TEXT NOT NULL,       -- JSON list
            bag_path TEXT NOT NULL,
            total_bytes INTEGER NOT NULL,
            file_count INTEGER NOT NULL,
            manifest_sha256 TEXT NOT NULL,
            files TEXT NOT NULL,         -- JSON list of {camera, path, size, sha256, start, duration, decodable}
            gaps TEXT NOT NULL,          -- JSON list of {camera, start, end, seconds}
            undecodable TEXT NOT NULL    -- JSON list of {camera, path, reason}
        );
        CREATE INDEX recordings_archives_exam ON recordings_archives (exam_id, id);

        CREATE TABLE recordings_alerts (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,          -- stalled | resumed | gap | low_space | root_lost | root_back | unreadable
            camera TEXT,
            message TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '{}'
        );
        """,
    )
]
