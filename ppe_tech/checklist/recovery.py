"""A checklist run that the store could not take is kept in a recovery file, never lost.

While a run goes on, each result is appended to ``recovery/check-STAMP-NAME.jsonl`` in the
site folder as it finishes (fsynced), after a first line with the run's row; at the end
the file is rewritten whole (atomically) and removed once the store has the run. So when
the store is locked past its busy timeout, the disk fills, or the process is killed, the
file holds what was done, and ``ppe-tech check import FILE`` stores it later. One JSON
object per line: ``{"run": {...check_runs row}}`` then ``{"result": {...check_results row}}``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from ppe_tech.errors import ConfigError, StorageError
from ppe_tech.fsutil import atomic_write_text, read_limited
from ppe_tech.i18n import _

RECOVERY_FOLDER = "recovery"
MAX_RECOVERY_BYTES = 64 * 1024**2


class RecoveryFile:
    """The run's results on disk as they finish; thread-safe (probes finish in threads)."""

    def __init__(self, folder: Path, name: str, stamp: str, run: dict[str, Any]):
        self.path = folder / RECOVERY_FOLDER / f"check-{stamp}-{name}.jsonl"
        self._lock = threading.Lock()
        self.failed: str | None = None  # why the file could not be written, if it could not
        self._write(json.dumps({"run": {**run, "status": "running"}}) + "\n", mode="w")

    def _write(self, text: str, mode: str = "a") -> None:
        if self.failed:
            return
        try:
            self.path.parent.mkdir(exist_ok=True)
            with self._lock, open(self.path, mode, encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:  # a full disk: the run goes on, the store may still take it
            self.failed = exc.strerror or str(exc)

    def add(self, result: dict[str, Any]) -> None:
        self._write(json.dumps({"result": result}, ensure_ascii=False) + "\n")

    def finish(self, run: dict[str, Any], results: list[dict[str, Any]]) -> bool:
        """Rewrite the file with the whole run; False when even that failed."""
        lines = [json.dumps({"run": run}, ensure_ascii=False)]
        lines += [json.dumps({"result": r}, ensure_ascii=False) for r in results]
        try:
            atomic_write_text(self.path, "\n".join(lines) + "\n")
        except (OSError, StorageError) as exc:
            self.failed = str(exc)
            return False
        self.failed = None
        return True

    def remove(self) -> None:
        try:
            self.path.unlink()
        except OSError:
            pass


def read_recovery(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The run row and result rows of a recovery file (a cut-off run counts as interrupted)."""
    data = read_limited(path, limit=MAX_RECOVERY_BYTES, what=_("recovery file"), error=ConfigError)
    run: dict[str, Any] | None = None
    results: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(data.splitlines()):
                break  # the last line was being written when the process died
            raise ConfigError(
                _("{where}: not a line of a recovery file").format(where=f"{path.name}:{number}")
            ) from None
        if not isinstance(record, dict):
            raise ConfigError(
                _("{where}: not a line of a recovery file").format(where=f"{path.name}:{number}")
            )
        if "run" in record and run is None:
            run = dict(record["run"])
        elif "result" in record and isinstance(record["result"], dict):
            results[str(record["result"].get("item_id"))] = record["result"]
    if run is None:
        raise ConfigError(
            _("{path}: not a checklist recovery file (no run line)").format(path=path)
        )
    if run.get("status") == "running":
        run["status"] = "interrupted"
    run["disabled_items"] = run.get("disabled_items") or "[]"
    return run, sorted(results.values(), key=lambda r: r.get("position") or 0)


def import_recovery(conn: sqlite3.Connection, path: Path) -> int:
    """Store the run of a recovery file, then remove the file; the new run's id."""
    from ppe_tech.checklist.results import save_rows

    run, results = read_recovery(path)
    run_id = save_rows(conn, run, results)
    Path(path).unlink(missing_ok=True)
    return run_id
