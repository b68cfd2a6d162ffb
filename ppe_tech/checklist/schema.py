"""Store tables of checklist runs (see ppe_tech.store for how migrations apply)."""

MIGRATIONS = [
    (
        "checklist-0001-runs",
        """
        CREATE TABLE check_runs (
            id INTEGER PRIMARY KEY,
            checklist TEXT NOT NULL,          -- name, e.g. pre-exam
            title_ru TEXT NOT NULL,
            title_en TEXT NOT NULL,
            exam_id TEXT,                     -- NULL when no exam was selected
            started_at TEXT NOT NULL,         -- ISO 8601, UTC
            finished_at TEXT,
            deadline TEXT,                    -- ISO 8601 with the point's offset
            late_minutes INTEGER,             -- 0 when on time, NULL without a deadline
            status TEXT NOT NULL,             -- running | passed | failed | interrupted
            operator TEXT NOT NULL,           -- OS user who ran it
            disabled_items TEXT NOT NULL DEFAULT '[]'  -- JSON list of ids the site disabled
        );
        CREATE TABLE check_results (
            run_id INTEGER NOT NULL REFERENCES check_runs(id),
            position INTEGER NOT NULL,
            item_id TEXT NOT NULL,
            section_id TEXT NOT NULL,
            section_ru TEXT NOT NULL,
            section_en TEXT NOT NULL,
            title_ru TEXT NOT NULL,
            title_en TEXT NOT NULL,
            severity TEXT NOT NULL,           -- critical | warning | info
            kind TEXT NOT NULL,               -- probe type, or manual
            status TEXT NOT NULL,             -- pass | fail | timeout | error | skip | unanswered
            value TEXT,                       -- what was measured (or the manual answer)
            expected TEXT,
            message TEXT,
            duration_ms INTEGER,
            attempts INTEGER NOT NULL DEFAULT 1,
            answered_by TEXT,                 -- manual items: who confirmed
            comment TEXT,                     -- manual items: the technician's comment
            finished_at TEXT NOT NULL,
            PRIMARY KEY (run_id, item_id)
        );
        """,
    ),
]
