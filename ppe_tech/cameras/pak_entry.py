"""The PAK journal entry of a camera check: one "performance check" per check asked for.

The journal is what a head of point signs, so the tool's own entries are deliberate:

* **One entry per check.** A verification that repeats a check (same exam, started within
  ``REPEAT_WINDOW`` of the check's last verification: a camera probe of the checklist
  after ``cameras verify``, or ``cameras verify --camera X`` after fixing X) adds no entry:
  the log is append-only, so the check's entry keeps its first result, and the later
  runs are stored with the same entry number (``cameras show``) for anyone who asks.
* **A short note in the point's language**: ``проверено 22 камеры: 21 исправна,
  1 неисправна (0002-a: закрыта)`` (ru) or ``checked 22 cameras: 21 ok, 1 fail
  (0002-a: covered)`` (en).
* **Responsible only when known**: the person named with ``--responsible``, else the
  point's person responsible for video (staff role ``video`` in ppe.yaml), else nobody.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from ppe_tech.cameras.results import CameraRun, set_pak_entry
from ppe_tech.pak.journal import record_action
from ppe_tech.site import Site

PAK_ACTION = "performance_check"
VIDEO_ROLE = "video"  # staff role of the point's person responsible for video
REPEAT_WINDOW = timedelta(minutes=30)
STATUSES = ("ok", "warning", "fail")
# finding code -> Russian word for the journal note
CODES_RU = {
    "unreachable": "недоступна",
    "timeout": "не отвечает",
    "no_frames": "нет кадров",
    "stalled": "поток прерывается",
    "low_fps": "мало кадров",
    "resolution_mismatch": "не то разрешение",
    "too_large": "слишком большой кадр",
    "black": "чёрный кадр",
    "uniform": "однотонный кадр",
    "overexposed": "засветка",
    "frozen": "изображение застыло",
    "blurred": "нерезко",
    "covered": "закрыта",
    "moved": "смещена",
    "no_reference": "нет эталона",
    "checker_overloaded": "компьютер перегружен",
}


def _ru_plural(n: int, one, few, many):
    """The form of a Russian word agreeing with the number ``n`` (1, 21 / 2-4, 22 / 5-20)."""
    if n % 10 == 1 and n % 100 != 11:
        return one
    return few if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14) else many


def _counts_ru(counts: dict[str, int]) -> list[str]:
    words = {
        "ok": ("исправна", "исправны", "исправны"),
        "warning": ("с замечанием", "с замечаниями", "с замечаниями"),
        "fail": ("неисправна", "неисправны", "неисправны"),
    }
    return [f"{counts[s]} {_ru_plural(counts[s], *words[s])}" for s in STATUSES if counts.get(s)]


def summary(run: CameraRun, lang: str = "en") -> str:
    """``5 cameras: 4 ok, 1 fail (aud-0002-a: covered)``; in ru ``проверено 5 камер: ...``."""
    cams = run.cameras
    counts = {s: n for s in STATUSES if (n := sum(c.status == s for c in cams))}
    bad = [(c.id, c.codes) for c in cams if c.status == "fail"]
    if lang == "ru":
        verb, noun = _ru_plural(
            len(cams), ("проверена", "камера"), ("проверено", "камеры"), ("проверено", "камер")
        )
        text = f"{verb} {len(cams)} {noun}: {', '.join(_counts_ru(counts))}"
        details = [f"{i}: {', '.join(CODES_RU.get(c, c) for c in codes)}" for i, codes in bad]
    else:
        text = f"{len(cams)} camera{'s' if len(cams) != 1 else ''}: "
        text += ", ".join(f"{n} {s}" for s, n in counts.items())
        details = [f"{i}: {', '.join(codes)}" for i, codes in bad]
    return text + (f" ({'; '.join(details)})" if details else "")


def note(run: CameraRun, lang: str) -> str:
    return summary(run, "ru") if lang == "ru" else f"checked {summary(run, 'en')}"


def responsible_for(site: Site, named: str | None) -> str | None:
    """The responsible person of the entry: named, else the point's video role, else None."""
    if named:
        return named
    return VIDEO_ROLE if VIDEO_ROLE in site.config.staff else None


def check_entry(conn: sqlite3.Connection, run: CameraRun) -> int | None:
    """The PAK entry of the check this run repeats (see the module doc), or None."""
    since = datetime.fromisoformat(run.started_at) - REPEAT_WINDOW
    row = conn.execute(
        "SELECT pak_entry FROM camera_runs WHERE id < ? AND pak_entry IS NOT NULL AND "
        "exam_id IS ? AND finished_at >= ? ORDER BY id DESC LIMIT 1",
        (run.run_id, run.exam_id, since.isoformat()),
    ).fetchone()
    return row[0] if row else None


def record_verification(
    site: Site, conn: sqlite3.Connection, run: CameraRun, *, responsible: str | None = None
) -> tuple[int, bool]:
    """(entry number, whether it is new) of the check a stored verification ``run`` belongs to."""
    seq = check_entry(conn, run)
    if seq is not None:
        set_pak_entry(conn, run.run_id, seq)
        return seq, False
    rooms = list(dict.fromkeys(c.room or c.id for c in run.cameras))
    entry = record_action(
        site,
        conn,
        action=PAK_ACTION,
        rooms=", ".join(rooms),
        start=datetime.fromisoformat(run.started_at),
        end=datetime.fromisoformat(run.finished_at or run.started_at),
        responsible=responsible_for(site, responsible),
        note=site.redact(note(run, site.config.point.language)),
    )
    set_pak_entry(conn, run.run_id, entry["seq"])
    return entry["seq"], True
