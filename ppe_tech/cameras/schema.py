"""Store tables of the cameras job (see ppe_tech.store for how migrations apply).

camera_runs: one row per ``cameras verify`` (or checklist probe) run; ``pak_entry`` is the
number of the PAK journal entry of the check it belongs to.
camera_results: one row per camera of a run; ``source`` is masked, ``findings`` and
``metrics`` are JSON, ``snapshot`` is relative to the site folder.
"""

MIGRATIONS: list[tuple[str, str]] = [
    (
        "cameras-0001-runs",
        """
CREATE TABLE camera_runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    exam_id TEXT,
    sample_s REAL NOT NULL,
    selection TEXT NOT NULL,
    status TEXT
);
CREATE INDEX camera_runs_exam ON camera_runs (exam_id, id);
CREATE TABLE camera_results (
    run_id INTEGER NOT NULL REFERENCES camera_runs (id) ON DELETE CASCADE,
    camera_id TEXT NOT NULL,
    zone TEXT NOT NULL,
    room TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    findings TEXT NOT NULL,
    metrics TEXT NOT NULL,
    snapshot TEXT,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (run_id, camera_id)
);
""",
    ),
    (
        "cameras-0002-pak-entry",
        # the PAK journal entry of the check the run belongs to (several runs may share one)
        "ALTER TABLE camera_runs ADD COLUMN pak_entry INTEGER;",
    ),
]
