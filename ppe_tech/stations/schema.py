"""Store tables of station runs (see ppe_tech.store for how migrations apply).

station_runs: one row per imported result file or hand confirmation; ``file_sha256`` makes
an import idempotent (the same file twice is one row). station_items: one row per item.
"""

MIGRATIONS: list[tuple[str, str]] = [
    (
        "stations-0001-runs",
        """
CREATE TABLE station_runs (
    run_id INTEGER PRIMARY KEY,
    point_code TEXT NOT NULL,
    station_id TEXT NOT NULL,
    room TEXT NOT NULL,
    role TEXT NOT NULL,
    exam_id TEXT,
    how TEXT NOT NULL,                -- station run | by hand
    status TEXT NOT NULL,             -- passed | failed | interrupted
    checklist TEXT NOT NULL,
    checklist_sha256 TEXT NOT NULL,
    ppe_tech_version TEXT NOT NULL,
    started_at TEXT NOT NULL,         -- ISO 8601, UTC
    finished_at TEXT NOT NULL,
    operator TEXT NOT NULL,           -- OS user on the machine that ran it
    confirmed_by TEXT,                -- by hand: who confirmed
    machine TEXT,                     -- JSON: host_name, os, os_version, macs
    reachable TEXT,                   -- JSON: host, port, reachable, detail (by hand, with host)
    key_id TEXT,                      -- the enrolment key that signed the file
    file_sha256 TEXT UNIQUE,          -- SHA-256 of the imported file's bytes
    source TEXT,                      -- file name it was imported from
    imported_at TEXT NOT NULL
);
CREATE INDEX station_runs_station ON station_runs (station_id, exam_id, finished_at);
CREATE TABLE station_items (
    run_id INTEGER NOT NULL REFERENCES station_runs (run_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    section_id TEXT NOT NULL,
    title_ru TEXT NOT NULL,
    title_en TEXT NOT NULL,
    severity TEXT NOT NULL,
    kind TEXT NOT NULL,               -- probe type, or manual
    status TEXT NOT NULL,             -- pass | fail | timeout | error | skip | unanswered | ...
    value TEXT,
    expected TEXT,
    message TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    answered_by TEXT,
    comment TEXT,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (run_id, item_id)
);
""",
    ),
]
