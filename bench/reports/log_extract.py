"""Render a 10,000-row access-log extract: split into page tables (ppe-tech) or as one plain table.

    python bench/reports/log_extract.py chunked [--rows 10000]
    python bench/reports/log_extract.py plain   [--rows 10000]

Both modes render the same rows with the same template and CSS through WeasyPrint
to PDF/A-3b; ``plain`` puts all rows into a single <table> (what one writes
without thinking about it), ``chunked`` is what ``ppe-tech report access-log``
does (page-sized tables, documents of 500 rows joined). Both use the report's CSS
(separate cell borders), so the difference measured is the splitting alone. Run each under ``/usr/bin/time -v`` for the peak memory (run.sh does).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

ACTIONS = [
    ("performance_check", "Проверка работоспособности", "Performance check"),
    ("recording_start", "Начало записи", "Start of recording"),
    ("angle_adjustment", "Корректировка ракурса", "Camera angle adjustment"),
    ("card_removal", "Извлечение карты памяти", "Memory card removal"),
    ("export", "Копирование (выгрузка) записей", "Copying / export of recordings"),
]


def journal_rows(count: int) -> list[dict]:
    """Rows in the shape of ``ppe_tech.pak.journal.list_entries``."""
    start = datetime(2026, 5, 20, 7, 30)
    rows = []
    for i in range(count):
        at = start + timedelta(minutes=7 * i)
        code, ru, en = ACTIONS[i % len(ACTIONS)]
        rows.append(
            {
                "no": i + 1,
                "date": at.date().isoformat(),
                "rooms": f"Аудитория {i % 17 + 1:04d}",
                "start": at.strftime("%H:%M"),
                "end": (at + timedelta(minutes=5)).strftime("%H:%M"),
                "action": code,
                "action_ru": ru,
                "action_en": en,
                "performed_by": "Иванов И.И., технический специалист",
                "responsible": "Петров А.А., руководитель ППЭ",
                "note": "" if i % 9 else "плановая проверка",
                "open": False,
                "hash": f"{i:064x}",
            }
        )
    return rows


class TreeMemory:
    """Peak of the summed RSS of this process and its children (worker processes count), and
    the CPU time they took since (``cpu``: each process's last sample, summed)."""

    def __init__(self, interval: float = 0.05):
        import threading

        import psutil

        self.peak = 0
        self._me = psutil.Process()
        self._cpu: dict[int, float] = {}
        self._cpu_before = self._busy(self._me)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        import psutil

        while not self._done.is_set():
            total = 0
            for proc in [self._me, *self._me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                    self._cpu[proc.pid] = self._busy(proc)
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._done.wait(interval)

    @staticmethod
    def _busy(proc) -> float:
        times = proc.cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self._cpu[self._me.pid] = self._busy(self._me)

    @property
    def cpu(self) -> float:
        """CPU seconds of the tree since the start (a worker's last sample, before it ended)."""
        return sum(self._cpu.values()) - self._cpu_before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["chunked", "plain"])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import yaml

    from ppe_tech.reports.render import render_html, render_pdf
    from ppe_tech.site import load_site

    folder = Path(tempfile.mkdtemp(prefix="ppe-bench-"))
    config = {
        "point": {
            "code": "7701",
            "name": "Школа № 5",
            "address": "ул. Ленина, 1",
            "region": "77",
            "timezone": "Europe/Moscow",
            "language": "ru",
        },
        "staff": {
            "technician": {"name": "Иванов И.И.", "position": "технический специалист"},
            "head": {"name": "Петров А.А.", "position": "руководитель ППЭ"},
        },
    }
    (folder / "ppe.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    site = load_site(folder)
    data = {
        "format": "ppe-tech-report/1",
        "generator": "bench",
        "kind": "access-log",
        "number": "7701-LOG-2026-0001",
        "lang": "ru",
        "created_at": "2026-05-28T12:00:00Z",
        "point": config["point"],
        "staff": config["staff"],
        "exam": None,
        "checkpoint": None,
        "access_log": {
            "date_from": None,
            "date_to": None,
            "entries": journal_rows(args.rows),
            "audit": {"findings": []},
        },
    }
    peak = TreeMemory()
    started = time.perf_counter()
    if args.mode == "chunked":  # what ppe-tech report access-log does
        pdf = render_pdf(site, data, "ru")
    else:  # the same rows and template, all in one <table>, one document
        html = render_html(site, data, "ru", chunk_rows=(args.rows + 1, args.rows + 1))
        pdf = render_pdf(site, data, "ru", html=html)
    elapsed = time.perf_counter() - started
    peak.stop()
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    if args.out:
        args.out.write_bytes(pdf)
    print(
        f"{args.mode}: {args.rows} rows, {pages} pages, "
        f"{len(pdf) / 1e6:.1f} MB, {elapsed:.1f} s, "
        f"peak RSS of the process tree {peak.peak / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    main()
