"""``ppe-tech demo``: a complete demo site, and every job run on it end to end.

The demo site is an exam point with five cameras whose footage is cut from a
real CCTV clip shipped with the package (``demo_data/walkway.mp4``), one exam
today, local stand-ins for the portal and the time server, and hardware items
(printer, scanner, token reader) disabled because a demo machine has none.
Each job has one step in ``STEPS``: ``"module:function"`` taking the DemoContext
and returning a one-line summary.

Two exams make the timeline honest without faking clocks: yesterday's exam is
over (its corridor and entrance footage is archived, its access log audited),
today's starts 2.5 hours from now (so the pre-exam check is on time). The demo
key's passphrase is $PPE_KEY_PASSPHRASE, or "demo" when that is unset.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path

import yaml

from ppe_tech.demo_services import PortalServer, SntpServer
from ppe_tech.fsutil import atomic_write_text
from ppe_tech.i18n import _, current_language, set_language, site_language
from ppe_tech.site import Site, load_site
from ppe_tech.siteinit import make_site_folder
from ppe_tech.timeutil import utc_now

# (name, "module:function"), run in this order
STEPS: list[tuple[str, str]] = [
    ("keys", "ppe_tech.reports.demo:make_keys"),
    ("cameras", "ppe_tech.cameras.demo:run"),
    ("recordings", "ppe_tech.recordings.demo:run"),
    ("stations", "ppe_tech.stations.demo:run"),
    ("checklist", "ppe_tech.checklist.demo:run"),
    ("pak", "ppe_tech.pak.demo:run"),
    ("reports", "ppe_tech.reports.demo:run"),
]
REGION_STEP = ("region", "ppe_tech.region.demo:run")  # ppe-tech demo --region
DEMO_PASSPHRASE = "demo"

# three auditoriums and the staff room; cameras name their room by its name (or number)
DEMO_ROOMS = [
    {"number": "0001", "kind": "auditorium", "name": "Auditorium 0001"},
    {"number": "0002", "kind": "auditorium", "name": "Auditorium 0002"},
    {"number": "0003", "kind": "auditorium", "name": "Auditorium 0003"},
    {"number": "7777", "kind": "staff-room", "name": "Staff room"},
]
DEMO_STATIONS = [
    {"id": "print-0001", "role": "print", "room": "0001"},
    {"id": "scan-0001", "role": "scan", "room": "0001"},
    {"id": "print-0002", "role": "print", "room": "0002"},
    {"id": "print-0003", "role": "print", "room": "0003"},
    {"id": "auth-main", "role": "authorisation", "room": "7777"},
    {"id": "auth-backup", "role": "backup-authorisation", "room": "7777", "host": "127.0.0.1"},
    {"id": "print-backup", "role": "backup-print", "room": "7777"},
]
STATION_SOFTWARE = "station-software/version.txt"  # where the demo's station software keeps it
DEMO_CAMERAS = [
    {"id": "aud-0001-a", "zone": "auditorium", "room": "Auditorium 0001"},
    {"id": "aud-0002-a", "zone": "auditorium", "room": "Auditorium 0002"},
    {"id": "staff-room", "zone": "staff-room", "room": "Staff room"},
    {"id": "corridor-1", "zone": "corridor", "room": "1st floor corridor"},
    {"id": "entrance", "zone": "entrance", "room": "Main entrance"},
]


@dataclass
class DemoContext:
    folder: Path
    site: Site
    exam_id: str  # today's exam, starting 2.5 h from now
    past_exam_id: str  # yesterday's exam, over: its recordings are archived
    portal: PortalServer
    ntp: SntpServer
    log: Callable[[str], None]
    summaries: list[str] = field(default_factory=list)

    @cached_property
    def db(self) -> sqlite3.Connection:
        from ppe_tech.store import connect

        return connect(self.site.db_path)


DEMO_TIMEZONE = "Europe/Moscow"


def demo_exams(now: datetime) -> list[dict]:
    """Yesterday's exam at 10:00 and today's 2.5 h from now (on the 5-minute mark)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(DEMO_TIMEZONE)
    start = (now.astimezone() + timedelta(hours=2, minutes=30)).replace(second=0, microsecond=0)
    start = (start - timedelta(minutes=start.minute % 5)).astimezone(tz)
    # yesterday from now, not from today's exam: after 21:30 at the point that exam is
    # tomorrow, and "yesterday's" would be today's, its planted gap inside today's window
    yesterday = now.astimezone(tz).date() - timedelta(days=1)
    return [
        {
            "id": f"{yesterday:%Y-%m-%d}-russian",
            "subject": "Русский язык",
            "date": yesterday,
            "start": "10:00",
            "duration": "3h30m",
        },
        {
            "id": f"{start:%Y-%m-%d}-math",
            "subject": "Математика",
            "date": start.date(),
            "start": f"{start:%H:%M}",
            "duration": "3h55m",
        },
    ]


def demo_config(
    now: datetime, portal: PortalServer, ntp: SntpServer, folder: Path | None = None
) -> dict:
    """ppe.yaml of the demo site: yesterday's exam at 10:00, today's 2.5 h from now."""
    return {
        "point": {
            "code": "7701",
            "name": "Школа № 5 (демо)",
            "address": "ул. Ленина, 1, Москва",
            "region": "77",
            "timezone": DEMO_TIMEZONE,
            "language": "ru",
        },
        "staff": {
            "technician": {"name": "Иванов И.И.", "position": "технический специалист"},
            "head": {"name": "Петров А.А.", "position": "руководитель ППЭ"},
            "commission": {"name": "Сидорова С.С.", "position": "член ГЭК"},
        },
        "exams": demo_exams(now),
        "rooms": DEMO_ROOMS,
        "stations": [{**s, "port": portal.port} if s.get("host") else s for s in DEMO_STATIONS],
        "cameras": [
            {
                **cam,
                "source": f"cameras/{cam['id']}.mp4",
                "expect": {"width": 768, "height": 576, "fps": 10},
            }
            for cam in DEMO_CAMERAS
        ],
        "recordings": {
            "root": "recordings/",
            "layout": "{date}/{hour}/{camera}/{minute}.{second}.mp4",
            "timezone": "UTC",
        },
        "archive": {"target": "archive/", "zones": ["corridor", "entrance"], "margin": "30m"},
        "signing": {"key": "keys/site.key.pem", "cert": "keys/site.cert.pem"},
        "checks": {
            "deadline_before": "2h",
            "vars": {
                "ntp_server": "127.0.0.1",
                "ntp_port": ntp.port,
                "portal_url": portal.url,
                "portal_host": "127.0.0.1",
                "portal_port": portal.port,
                "portal_name": "localhost",
                "station_version_file": str(folder / STATION_SOFTWARE)
                if folder
                else STATION_SOFTWARE,
                "station_version": ">=26.1",
                "antivirus_process": "ppe.tech",
                "crypto_process": "ppe.tech",
                "antivirus_signatures": "ppe.yaml",
                "signatures_max_age": "1d",
                "min_free": "100M",
            },
            "disabled": ["printer-ready", "scanner-connected", "token-reader"],
        },
    }


def run_demo(
    folder: Path,
    log: Callable[[str], None],
    now: datetime | None = None,
    *,
    extra_steps: list[tuple[str, str]] = (),
) -> list[str]:
    """Make the demo site in ``folder`` (which must not hold a site yet) and run every step
    (then ``extra_steps``, e.g. ``REGION_STEP``)."""
    now = now or utc_now()
    with contextlib.ExitStack() as stack:
        portal = stack.enter_context(PortalServer())
        ntp = stack.enter_context(SntpServer())
        config = demo_config(now, portal, ntp, folder.resolve())
        text = "# ppe-tech demo site (made by `ppe-tech demo`)\n" + yaml.safe_dump(
            config, allow_unicode=True, sort_keys=False
        )
        make_site_folder(folder, text)
        atomic_write_text(folder / STATION_SOFTWARE, "Station print EM 26.1.4\n")
        site = load_site(folder)
        os.environ.setdefault(site.config.signing.passphrase_env, DEMO_PASSPHRASE)
        exams = config["exams"]
        demo = DemoContext(folder.resolve(), site, exams[1]["id"], exams[0]["id"], portal, ntp, log)
        # the point's language for what the steps say and store, as a command on it would use
        stack.callback(set_language, current_language())
        set_language(site_language(site.config.point.language))
        for name, target in [*STEPS, *extra_steps]:
            log(step_line(name, "..."))
            module, _colon, function = target.partition(":")
            summary = getattr(importlib.import_module(module), function)(demo)
            demo.summaries.append(f"{step_labels().get(name, name)}: {summary}")
            log(step_line(name, summary))
        return demo.summaries


def step_line(name: str, text: str) -> str:
    """A line of the demo's log: ``demo: recordings: ...`` in the current language."""
    return _("demo: {step}: {text}").format(step=step_labels().get(name, name), text=text)


def step_labels() -> dict[str, str]:
    """The steps' names as printed (the job's name in English, in words in Russian)."""
    return {
        "keys": _("keys"),
        "cameras": _("cameras"),
        "recordings": _("recordings"),
        "stations": _("stations"),
        "checklist": _("checklist"),
        "pak": _("pak"),
        "reports": _("reports"),
        "region": _("region"),
    }
