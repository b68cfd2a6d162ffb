"""The site: a folder with ppe.yaml, the store, snapshots, reports and keys.

``load_site`` finds and validates ppe.yaml, substitutes ``${VAR}`` secrets from
the environment and remembers their values so that ``Site.redact`` can mask
them in every output. ``find_site_folder`` implements the discovery order of
DESIGN.md: ``--site``, then ``PPE_SITE``, then the current folder and parents.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, field_validator, model_validator

from ppe_tech.errors import ConfigError
from ppe_tech.fsutil import contained_path, parse_size
from ppe_tech.timeutil import parse_duration
from ppe_tech.yamlfile import Loc, StrictModel, YamlDoc, load_yaml

SITE_FILE = "ppe.yaml"
ZONES = ("auditorium", "corridor", "entrance", "staff-room")
FRIGATE_LAYOUT = "{date}/{hour}/{camera}/{minute}.{second}.mp4"

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Zone = Literal["auditorium", "corridor", "entrance", "staff-room"]
SAFE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"  # ids become file names: no slashes, no dot-dot


class Point(StrictModel):
    code: str
    name: str
    address: str = ""
    region: str = ""
    timezone: str = "Europe/Moscow"
    language: Literal["ru", "en"] = "ru"

    @field_validator("code", "region", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone (e.g. Europe/Moscow)") from None
        return value


class Person(StrictModel):
    name: str
    position: str


class Exam(StrictModel):
    id: str = Field(pattern=SAFE_ID)
    subject: str
    date: date
    start: time
    duration: Duration
    deadline_before: Duration | None = None  # overrides checks.deadline_before for this exam

    @field_validator("start", mode="before")
    @classmethod
    def _clock_time(cls, value: Any) -> Any:
        if isinstance(value, int):  # YAML reads 10:00 unquoted as sexagesimal 600
            return time(value // 60, value % 60)
        return value

    def start_at(self, tz: ZoneInfo) -> datetime:
        return datetime.combine(self.date, self.start, tzinfo=tz)

    def end_at(self, tz: ZoneInfo) -> datetime:
        return self.start_at(tz) + self.duration


class Expect(StrictModel):
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)
    fps: float | None = Field(default=None, gt=0)


class Camera(StrictModel):
    id: str = Field(pattern=SAFE_ID)
    zone: Zone
    room: str = ""
    source: str
    expect: Expect = Expect()
    thresholds: dict[str, float] = {}  # keys: ppe_tech.cameras.thresholds.DEFAULT_THRESHOLDS
    open_timeout: Duration = timedelta(seconds=5)  # connect and first answer (cameras verify)
    read_timeout: Duration = timedelta(seconds=5)  # longest wait for one frame

    @model_validator(mode="after")
    def _known_thresholds(self) -> Camera:
        from ppe_tech.cameras.thresholds import check_threshold_keys

        check_threshold_keys(self.id, self.thresholds)
        for name in ("open_timeout", "read_timeout"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"camera {self.id}: {name} must be positive")
        return self


class Recordings(StrictModel):
    root: str = "recordings/"
    layout: str = FRIGATE_LAYOUT
    timezone: str = "UTC"  # time zone of the dates and hours in segment paths (Frigate: UTC)
    gap_tolerance: Duration = timedelta(seconds=2)  # holes shorter than this are not gaps
    settle: Duration = timedelta(
        seconds=15
    )  # a segment modified this recently is still being written
    stall: Duration = timedelta(seconds=60)  # watch: alert when a camera's newest segment is older
    min_free: Annotated[int, BeforeValidator(parse_size)] = 2 * 1024**3  # watch: free-space alert
    alert_command: list[str] | None = None  # watch: argv run on each alert (never a shell)

    @field_validator("layout")
    @classmethod
    def _layout(cls, value: str) -> str:
        from ppe_tech.recordings.layout import compile_layout

        compile_layout(value)  # raises ValueError with the reason
        return value


class Archive(StrictModel):
    target: str | None = None
    zones: list[Zone] = ["corridor", "entrance"]
    margin: Duration = timedelta(minutes=30)
    workers: int = Field(default=2, ge=1, le=16)  # files copied and hashed in parallel


class Signing(StrictModel):
    key: str = "keys/site.key.pem"
    cert: str = "keys/site.cert.pem"
    passphrase_env: str = "PPE_KEY_PASSPHRASE"
    trust: list[str] = []  # extra trust roots (PEM files), besides the site's own certificate
    timestamp_url: str | None = None


class Checks(StrictModel):
    deadline_before: Duration = timedelta(hours=2)
    vars: dict[str, Any] = {}  # values the checklists read as {{ site.checks.vars.NAME }}
    disabled: list[str] = []  # item ids this site does not run (e.g. no scanner at this point)


class Region(StrictModel):
    """Hand-over to the region's S3 storage (``ppe-tech region``); credentials from the environment."""

    endpoint: str | None = None  # e.g. https://s3.rcoi.example; None: the AWS default endpoint
    bucket: str | None = None
    prefix: str = ""  # keys are PREFIX/REGION/POINT/EXAM/...
    signing_region: str = "us-east-1"  # the SigV4 region name the storage expects
    access_key_env: str = "AWS_ACCESS_KEY_ID"  # names of the variables, never the values
    secret_key_env: str = "AWS_SECRET_ACCESS_KEY"


class SiteConfig(StrictModel):
    point: Point
    staff: dict[str, Person]
    exams: list[Exam] = []
    cameras: list[Camera] = []
    recordings: Recordings = Recordings()
    archive: Archive = Archive()
    signing: Signing = Signing()
    checks: Checks = Checks()
    region: Region = Region()

    @model_validator(mode="after")
    def _required_staff(self) -> SiteConfig:
        for role in ("technician", "head"):
            if role not in self.staff:
                raise ValueError(f"staff.{role} is required")
        return self


def check_unique_ids(doc: YamlDoc, config: SiteConfig) -> None:
    """Two exams or cameras with one id: the error points at the second one's line."""
    for kind, items in (("exams", config.exams), ("cameras", config.cameras)):
        first_index: dict[str, int] = {}
        for index, item in enumerate(items):
            if item.id in first_index:
                first = doc.where((kind, first_index[item.id], "id"))
                raise doc.error((kind, index, "id"), f"duplicate id {item.id!r} (first at {first})")
            first_index[item.id] = index


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^/:@\s]*:)(?P<pw>[^@/\s]+)@")


def mask_url(text: str) -> str:
    """``rtsp://user:secret@host`` -> ``rtsp://user:***@host``, anywhere in ``text``."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}***@", text)


def _substitute_env(doc: YamlDoc, value: Any, loc: Loc, secrets: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute_env(doc, v, loc + (k,), secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_env(doc, v, loc + (i,), secrets) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise doc.error(loc, f"environment variable {name} is not set")
        if os.environ[name]:
            secrets.add(os.environ[name])
        return os.environ[name]

    return _VAR.sub(replace, value)


class Site:
    """A loaded, validated site folder."""

    def __init__(self, folder: Path, config: SiteConfig, doc: YamlDoc, secrets: set[str]):
        self.folder = folder
        self.config = config
        self.doc = doc
        self.secrets = secrets

    # -- places in the site folder --------------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.folder / "ppe.db"

    @property
    def snapshots_dir(self) -> Path:
        return self.folder / "snapshots"

    @property
    def reports_dir(self) -> Path:
        return self.folder / "reports"

    @property
    def references_dir(self) -> Path:
        return self.folder / "references"

    def path(self, configured: str) -> Path:
        """A path from ppe.yaml: relative ones are relative to the site folder."""
        p = Path(configured).expanduser()
        return p if p.is_absolute() else self.folder / p

    def file_in(self, subfolder: str, name: str) -> Path:
        """``folder/subfolder/name`` for a name from input; never escapes that subfolder."""
        return contained_path(self.folder / subfolder, name, what=f"{subfolder} file")

    # -- time and exams ------------------------------------------------------------------
    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.point.timezone)

    def exam(self, exam_id: str) -> Exam:
        for exam in self.config.exams:
            if exam.id == exam_id:
                return exam
        known = ", ".join(e.id for e in self.config.exams) or "none defined"
        raise ConfigError(f"unknown exam {exam_id!r} (known: {known})")

    def exam_on(self, day: date) -> Exam | None:
        todays = [e for e in self.config.exams if e.date == day]
        return min(todays, key=lambda e: e.start) if todays else None

    def select_exam(self, exam_id: str | None, now: datetime) -> Exam | None:
        """``--exam ID``, or else today's exam in the point's time zone (None if there is none)."""
        if exam_id:
            return self.exam(exam_id)
        return self.exam_on(now.astimezone(self.tz).date())

    def deadline(self, exam: Exam) -> datetime:
        before = exam.deadline_before or self.config.checks.deadline_before
        return exam.start_at(self.tz) - before

    def camera(self, camera_id: str) -> Camera:
        for cam in self.config.cameras:
            if cam.id == camera_id:
                return cam
        known = ", ".join(c.id for c in self.config.cameras) or "none defined"
        raise ConfigError(f"unknown camera {camera_id!r} (known: {known})")

    # -- secrets ---------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        """Mask every secret from the environment and every password in a URL."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return mask_url(text)

    def public_config(self) -> dict[str, Any]:
        """The resolved config as plain data, safe to print (secrets masked)."""

        def clean(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, list):
                return [clean(v) for v in value]
            if isinstance(value, str):
                return self.redact(value)
            return value

        return clean(self.config.model_dump(mode="json"))


def find_site_folder(explicit: str | os.PathLike | None = None, cwd: Path | None = None) -> Path:
    """``--site``, then ``PPE_SITE``, then the current folder and its parents."""
    for chosen, origin in ((explicit, "--site"), (os.environ.get("PPE_SITE"), "PPE_SITE")):
        if chosen:
            folder = Path(chosen).expanduser()
            if not (folder / SITE_FILE).is_file():
                raise ConfigError(
                    f"{origin} {folder}: no {SITE_FILE} there (make one: ppe-tech init)"
                )
            return folder.resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SITE_FILE).is_file():
            return folder
    raise ConfigError(
        f"no {SITE_FILE} in {here} or its parents; use --site DIR, PPE_SITE, or ppe-tech init"
    )


def load_site(folder: Path) -> Site:
    folder = Path(folder).resolve()
    doc = load_yaml(folder / SITE_FILE)
    if not isinstance(doc.data, dict):
        raise doc.error((), "expected a mapping with point, staff, exams, cameras, ...")
    secrets: set[str] = set()
    data = _substitute_env(doc, doc.data, (), secrets)
    config = doc.validate(SiteConfig, data)
    check_unique_ids(doc, config)
    return Site(folder, config, doc, secrets)


def open_site(explicit: str | os.PathLike | None = None) -> Site:
    return load_site(find_site_folder(explicit))
