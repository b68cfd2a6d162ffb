"""Checklist runs started from the page: probes run as in ``check run``, manual items wait
for an answer given on the page (stored exactly like an interactive CLI answer)."""

from __future__ import annotations

import getpass
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from ppe_tech.console import data
from ppe_tech.errors import ConfigError
from ppe_tech.i18n import _


@dataclass
class PageRun:
    """One run in progress: what finished, what is asked, and the stored id at the end."""

    number: int
    checklist: Any
    by: str
    finished: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)
    asking: str | None = None
    stop_asking: bool = False
    stored_id: int | None = None
    error: str | None = None
    changed: threading.Condition = field(default_factory=threading.Condition)

    def manual_ids(self) -> list[str]:
        return [i.id for i in self.checklist.items if i.probe is None]

    def give(self, item_id: str, answer) -> None:
        if item_id not in self.manual_ids():
            raise ConfigError(
                _("item {id!r} is not a manual item of {checklist}").format(
                    id=item_id, checklist=self.checklist.name
                )
            )
        with self.changed:
            if item_id in self.finished:
                raise ConfigError(_("item {id!r} is already answered").format(id=item_id))
            self.answers[item_id] = answer
            self.changed.notify_all()

    def leave_unanswered(self) -> None:
        with self.changed:
            self.stop_asking = True
            self.changed.notify_all()

    def ask(self, item):
        """The runner's ``ask``: wait until the page answers this item (or says stop)."""
        with self.changed:
            self.asking = item.id
            self.changed.wait_for(lambda: item.id in self.answers or self.stop_asking)
            self.asking = None
            return self.answers.get(item.id)

    def on_result(self, result) -> None:
        self.finished[result.item.id] = {
            "status": result.status,
            "message": result.message,
            "value": result.value,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "checklist": self.checklist.name,
            "stored_id": self.stored_id,
            "error": self.error,
            "asking": self.asking,
            "finished": self.finished,
        }


class PageRuns:
    def __init__(self, site, connect):
        self.site, self.connect = site, connect
        self.runs: dict[int, PageRun] = {}
        self._numbers = itertools.count(1)

    def start(self, checklist_name: str, exam_id: str | None) -> PageRun:
        checklist = data.load_checklist(self.site, checklist_name)
        exam = self.site.exam(exam_id) if exam_id else data.exam_clock(self.site).exam
        technician = self.site.config.staff["technician"].name
        run = PageRun(
            next(self._numbers), checklist, by=f"{technician} ({getpass.getuser()}, console)"
        )
        self.runs[run.number] = run
        threading.Thread(target=self._run, args=(run, exam), daemon=True).start()
        return run

    def _run(self, run: PageRun, exam) -> None:
        try:
            result = data.run_checklist(
                run.checklist, self.site, exam, ask=run.ask, on_result=run.on_result
            )
            conn = self.connect()
            try:
                run.stored_id = data.save_checklist_run(conn, result)
            finally:
                conn.close()
        except Exception as exc:
            run.error = str(getattr(exc, "message", exc))

    def get(self, number: int) -> PageRun:
        if number not in self.runs:
            raise ConfigError(
                _("no checklist run {number} started from this console").format(number=number)
            )
        return self.runs[number]
