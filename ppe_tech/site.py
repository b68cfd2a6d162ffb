"""The site: a folder with ppe.yaml, the store, snapshots, reports and keys.

``load_site`` finds and validates ppe.yaml, substitutes ``${VAR}`` secrets from
the environment and remembers their values so that ``Site.redact`` can mask
them in every output. ``find_site_folder`` implements the discovery order of
DESIGN.md: ``--site``, then ``PPE_SITE``, then the current folder and parents.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    WrapSerializer,
    field_validator,
    model_validator,
)

from ppe_tech.errors import ConfigError
from ppe_tech.fsutil import contained_path, parse_size
from ppe_tech.i18n import _
from ppe_tech.timeutil import format_duration, parse_duration
from ppe_tech.yamlfile import Loc, StrictModel, YamlDoc, load_yaml

Day = date  # the type, for annotations inside Exam, whose field `date` shadows the name
SITE_FILE = "ppe.yaml"
FRIGATE_LAYOUT = "{date}/{hour}/{camera}/{minute}.{second}.mp4"

AS_WRITTEN = "as_written"  # serialization context: durations and sizes in ppe.yaml's notation


def duration_notation(delta: timedelta) -> str:
    """``3h55m``, ``30m``, ``250ms``: a duration as ppe.yaml writes it (parse_duration reads it)."""
    ms = delta / timedelta(milliseconds=1)
    if ms % 1000 == 0:
        return format_duration(delta)
    return f"{ms:g}ms" if ms == int(ms) else f"{delta.total_seconds():g}"


def size_notation(size: int) -> str:
    """``2G``, ``500M``, ``1536M``, ``1000``: a size as ppe.yaml writes it (parse_size reads it)."""
    for unit, factor in (("T", 1024**4), ("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def _in_notation(notation: Callable[[Any], str]):
    """Serialized in ppe.yaml's notation under the AS_WRITTEN context, else as pydantic does."""

    def serialize(value: Any, handler: SerializerFunctionWrapHandler, info: SerializationInfo):
        if info.context and info.context.get(AS_WRITTEN):
            return notation(value)
        return handler(value)

    return WrapSerializer(serialize)


Duration = Annotated[timedelta, BeforeValidator(parse_duration), _in_notation(duration_notation)]
Size = Annotated[int, BeforeValidator(parse_size), _in_notation(size_notation)]
Zone = Literal["auditorium", "corridor", "entrance", "staff-room"]
ZONES: tuple[str, ...] = get_args(Zone)  # the one list of zones: ppe.yaml, --zone, archive
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


# staff roles the forms know (ppe.yaml may name more); organisation_head is the head of the
# host organisation (usually the school's director), who signs the readiness act ППЭ-01
STAFF_ROLES = ("technician", "head", "commission", "organisation_head")


def staff_role_label(role: str) -> str:
    """A staff role of the forms as printed: the code in English, in words in Russian
    (``head``: ``руководитель ППЭ``); a role the point named itself stays as written."""
    labels = {
        "technician": _("technician"),
        "head": _("head"),
        "commission": _("commission"),
        "organisation_head": _("organisation_head"),
    }
    return labels.get(role, role)


class Person(StrictModel):
    name: str
    position: str


class Exam(StrictModel):
    id: str = Field(pattern=SAFE_ID)
    subject: str
    date: date
    start: Annotated[
        time, _in_notation(lambda t: t.isoformat("seconds" if t.second else "minutes"))
    ]
    duration: Duration
    deadline_before: Duration | None = None  # overrides checks.deadline_before for this exam

    @field_validator("start", mode="before")
    @classmethod
    def _clock_time(cls, value: Any) -> Any:
        if isinstance(value, int):  # YAML reads 10:00 unquoted as sexagesimal 600
            return time(value // 60, value % 60)
        return value

    @field_validator("date")
    @classmethod
    def _plausible_year(cls, value: Day) -> Day:
        if not 2000 <= value.year <= 2200:  # year 1 or 9999 would overflow deadline arithmetic
            raise ValueError(f"{value.isoformat()} is not a plausible exam date (years 2000-2200)")
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


class CameraSettings(StrictModel):
    """How ``cameras verify`` runs (``cameras: {parallel: 4, sample: 3s, list: [...]}``)."""

    parallel: int | None = Field(default=None, ge=1, le=64)  # decoding at once; None: two per core
    sample: Duration = timedelta(seconds=3)  # how long each camera is watched

    @field_validator("sample")
    @classmethod
    def _sample(cls, value: timedelta) -> timedelta:
        if not timedelta(0) < value <= timedelta(minutes=10):
            raise ValueError("sample must be between 0 and 10 minutes")
        return value


RoomKind = Literal["auditorium", "staff-room", "other"]
StationRole = Literal[
    "print", "scan", "authorisation", "backup-print", "backup-scan", "backup-authorisation", "other"
]
# the shipped checklist of each role (backups are checked like the station they stand in for)
ROLE_CHECKLISTS: dict[str, str] = {
    "print": "station-print",
    "backup-print": "station-print",
    "scan": "station-scan",
    "backup-scan": "station-scan",
    "authorisation": "station-authorisation",
    "backup-authorisation": "station-authorisation",
    "other": "station-common",
}


def _room_number(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML reads 0001 unquoted as the integer 1: the forms' leading zeros would be lost
        raise ValueError(f'write the room number in quotes, as the forms do: "{value:04d}"')
    return value


RoomNumber = Annotated[str, BeforeValidator(_room_number)]


class Room(StrictModel):
    number: RoomNumber = Field(pattern=SAFE_ID)  # as the forms write it: "0001"; staff room "7777"
    kind: RoomKind = "auditorium"
    name: str = ""

    @property
    def label(self) -> str:
        """``auditorium 0003`` / ``staff room 7777``: how messages name the room."""
        return f"{self.kind.replace('-', ' ')} {self.number}"


class Station(StrictModel):
    id: str = Field(pattern=SAFE_ID)
    role: StationRole
    room: RoomNumber
    host: str | None = None  # reachability from the technician's machine (station confirm)
    port: int = Field(default=445, ge=1, le=65535)  # TCP port the host answers on (445: SMB)
    checklist: str | None = Field(default=None, pattern=SAFE_ID)  # default: by role

    @property
    def checklist_name(self) -> str:
        return self.checklist or ROLE_CHECKLISTS[self.role]


class Recordings(StrictModel):
    root: str = "recordings/"
    layout: str = FRIGATE_LAYOUT
    timezone: str = "UTC"  # time zone of the dates and hours in segment paths (Frigate: UTC)
    gap_tolerance: Duration = timedelta(seconds=2)  # holes shorter than this are not gaps
    settle: Duration = timedelta(
        seconds=15
    )  # a segment modified this recently is still being written
    stall: Duration = timedelta(seconds=60)  # watch: alert when a camera's newest segment is older
    min_free: Size = 2 * 1024**3  # watch: free-space alert
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


class PersonSigning(StrictModel):
    """Where one person's secret comes from (files: keys/ROLE.*, see ppe_tech.keys)."""

    passphrase_env: str | None = None  # default PPE_KEY_PASSPHRASE_<ROLE>
    pin_env: str | None = None  # a PKCS#11 token's PIN; default PPE_PIN_<ROLE>


class Signing(StrictModel):
    key: str = "keys/site.key.pem"
    cert: str = "keys/site.cert.pem"
    passphrase_env: str = "PPE_KEY_PASSPHRASE"
    people: dict[str, PersonSigning] = {}  # per-person passphrase / PIN variables
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
    camera_settings: CameraSettings = CameraSettings()  # from the mapping form of `cameras:`
    recordings: Recordings = Recordings()
    archive: Archive = Archive()
    signing: Signing = Signing()
    checks: Checks = Checks()
    region: Region = Region()
    rooms: list[Room] | None = None  # None: an older site, rooms derived from the cameras
    stations: list[Station] = []

    @model_validator(mode="before")
    @classmethod
    def _cameras_mapping(cls, data: Any) -> Any:
        """``cameras:`` is a list of cameras, or a mapping of settings with the list under
        ``list`` (``{parallel: 4, sample: 3s, list: [...]}``)."""
        if isinstance(data, dict) and isinstance(data.get("cameras"), dict):
            settings = dict(data["cameras"])
            data = {**data, "cameras": settings.pop("list", []), "camera_settings": settings}
        return data

    @model_validator(mode="after")
    def _required_staff(self) -> SiteConfig:
        for role in ("technician", "head"):
            if role not in self.staff:
                raise ValueError(f"staff.{role} is required")
        return self


def check_unique_ids(doc: YamlDoc, config: SiteConfig) -> None:
    """Two exams, cameras, stations (or rooms) with one id (number): the error points at the
    second one's line and names the first."""
    lists: list[tuple[str, list[Any], str]] = [
        ("exams", config.exams, "id"),
        ("cameras", config.cameras, "id"),
        ("stations", config.stations, "id"),
        ("rooms", config.rooms or [], "number"),
    ]
    for kind, items, key in lists:
        first_index: dict[str, int] = {}
        for index, item in enumerate(items):
            value = getattr(item, key)
            if value in first_index:
                first = doc.where((kind, first_index[value], key))
                raise doc.error(
                    (kind, index, key),
                    _("duplicate {key} {value!r} (first at {first})").format(
                        key=key, value=value, first=first
                    ),
                )
            first_index[value] = index


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_URL = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<rest>[^\s\"'<>]+)")
SHORT_SECRET = 4  # secrets shorter than this are masked only as whole words (see Site.redact)


def _userinfo_end(rest: str) -> int:
    """Index of the ``@`` that ends the user-info of ``rest`` (the URL after ``://``), or -1.

    FFmpeg takes the last ``@`` of the authority; a password holding an unescaped ``/``
    would end the authority early and leave its tail in view, so masking reaches to the
    last ``@`` of the whole URL, unless the first ``:`` is in the path or is followed by a
    port number (an ``@`` in the path). Over-masking a path that holds an ``@`` is the price.
    """
    at, colon = rest.rfind("@"), rest.find(":")
    if not 0 <= colon < at:
        return -1
    authority_end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    if colon > authority_end or rest[colon + 1 : authority_end].isdigit():
        return -1
    return at


def _mask_one_url(match: re.Match) -> str:
    scheme, rest = match.group("scheme"), match.group("rest")
    at = _userinfo_end(rest)
    if at < 0 or ":" not in rest[:at]:
        return match.group(0)  # no user-info, or a user name without a password
    user = rest[: rest.index(":")]
    return f"{scheme}{user}:***{rest[at:]}"


def url_password(url: str) -> str | None:
    """The password of a URL's user-info (as written, %-escapes kept), or None."""
    match = _URL.match(url.strip())
    if not match:
        return None
    rest = match.group("rest")
    at = _userinfo_end(rest)
    if at < 0 or ":" not in rest[:at]:
        return None
    return rest[rest.index(":") + 1 : at] or None


def mask_url(text: str) -> str:
    """``rtsp://user:secret@host`` -> ``rtsp://user:***@host``, anywhere in ``text``.

    The whole password is masked, whatever it holds (``@``, ``:``, ``/``, ``%40``).
    """
    return _URL.sub(_mask_one_url, text)


def redact_data(value: Any, redact: Callable[[str], str]) -> Any:
    """``redact`` every string in nested dicts and lists (``Site.redact``, or ``mask_url``
    with a password given for one command)."""
    if isinstance(value, dict):
        return {k: redact_data(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_data(v, redact) for v in value]
    return redact(value) if isinstance(value, str) else value


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
            raise doc.error(loc, _("environment variable {name} is not set").format(name=name))
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
        # "ppe.yaml:LINE: ..." lines the CLI prints on stderr; the config is usable as it is
        self.warnings: list[SiteWarning] = []

    @cached_property
    def secret_warnings(self) -> list[str]:
        """About secrets written in the file (printed by every command, made when first read:
        in the language of the invocation)."""
        return literal_password_warnings(self.doc)

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
        return contained_path(
            self.folder / subfolder, name, what=_("{folder} file").format(folder=subfolder)
        )

    # -- time and exams ------------------------------------------------------------------
    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.point.timezone)

    def exam(self, exam_id: str) -> Exam:
        for exam in self.config.exams:
            if exam.id == exam_id:
                return exam
        known = ", ".join(e.id for e in self.config.exams) or _("none defined")
        raise ConfigError(
            _("unknown exam {exam!r} (known: {known})").format(exam=exam_id, known=known)
        )

    def exam_ahead(self, now: datetime) -> Exam | None:
        """The exam a check is for: the first that has not ended (today's while it runs, then
        the next one); None when every exam of ppe.yaml is over."""
        ahead = [e for e in self.config.exams if e.end_at(self.tz) > now]
        return min(ahead, key=lambda e: e.start_at(self.tz)) if ahead else None

    def exam_recorded(self, now: datetime) -> Exam | None:
        """The exam whose footage and records are at hand: today's (the latest that has started,
        else the first), else the latest that has started; before the first exam, the first.

        Today's comes first: on an exam morning yesterday's gaps are no alarm."""

        def start(exam: Exam) -> datetime:
            return exam.start_at(self.tz)

        today = now.astimezone(self.tz).date()
        todays = [e for e in self.config.exams if e.date == today]
        started = [e for e in (todays or self.config.exams) if start(e) <= now]
        if started:
            return max(started, key=start)
        return min(todays, key=start) if todays else self.exam_ahead(now)

    def select_exam(self, exam_id: str | None, now: datetime) -> Exam | None:
        """``--exam ID``, or else the exam ahead (see ``exam_ahead``)."""
        if exam_id:
            return self.exam(exam_id)
        return self.exam_ahead(now)

    def deadline(self, exam: Exam) -> datetime:
        before = exam.deadline_before or self.config.checks.deadline_before
        return exam.start_at(self.tz) - before

    def camera(self, camera_id: str) -> Camera:
        for cam in self.config.cameras:
            if cam.id == camera_id:
                return cam
        known = ", ".join(c.id for c in self.config.cameras) or _("none defined")
        raise ConfigError(
            _("unknown camera {camera!r} (known: {known})").format(camera=camera_id, known=known)
        )

    # -- rooms and stations (ppe_tech.rooms checks them and derives rooms for older sites) ------
    @cached_property
    def rooms(self) -> list[Room]:
        """The rooms of ``rooms:``, or for an older site the rooms its cameras name."""
        if self.config.rooms is not None:
            return list(self.config.rooms)
        return list(derived_rooms(self.config.cameras).values())

    def room(self, number: str) -> Room:
        for room in self.rooms:
            if room.number == number:
                return room
        known = ", ".join(r.number for r in self.rooms) or _("none defined")
        raise ConfigError(
            _("unknown room {room!r} (known: {known})").format(room=number, known=known)
        )

    def camera_room(self, camera: Camera) -> str | None:
        """The number of the room a camera films (None for a corridor or a camera with no room)."""
        if not camera.room:
            return None
        if self.config.rooms is not None:
            return room_named(self.config.rooms, camera.room)
        return derived_rooms(self.config.cameras)[camera.room].number

    def station(self, station_id: str) -> Station:
        for station in self.config.stations:
            if station.id == station_id:
                return station
        known = ", ".join(s.id for s in self.config.stations) or _("none defined")
        raise ConfigError(
            _("unknown station {station!r} (known: {known})").format(
                station=station_id, known=known
            )
        )

    # -- secrets ---------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        """Mask every secret from the environment and every password in a URL."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            if len(secret) >= SHORT_SECRET:
                text = text.replace(secret, "***")
            else:  # `e` must not turn Europe/Moscow into Europ***/Moscow: whole words only
                text = re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", "***", text)
        return mask_url(text)

    def public_config(self, *, as_written: bool = False) -> dict[str, Any]:
        """The resolved config as plain data, safe to print (secrets masked); ``as_written``:
        durations and sizes in ppe.yaml's notation (``3h55m``, ``2G``), so it loads again."""
        data = self.config.model_dump(mode="json", context={AS_WRITTEN: as_written})
        return redact_data(data, self.redact)


_ROOM_DIGITS = re.compile(r"\b(\d{3,4})\b")
_ZONE_ROOM_KIND: dict[str, RoomKind] = {"auditorium": "auditorium", "staff-room": "staff-room"}
# cameras of these zones film a room of the forms and must name one of rooms: (by number or
# name); a corridor or entrance camera's room is free text (where it hangs)
ROOM_ZONES = tuple(_ZONE_ROOM_KIND)


def derived_rooms(cameras: list[Camera]) -> dict[str, Room]:
    """Rooms of a site without ``rooms:``: one per distinct camera ``room`` text.

    "Auditorium 0001" becomes room "0001" (the number in the text), anything else keeps the
    text as its number; the kind follows the camera's zone.
    """
    rooms: dict[str, Room] = {}
    for camera in cameras:
        if not camera.room or camera.room in rooms:
            continue
        digits = _ROOM_DIGITS.search(camera.room)
        number = (
            digits.group(1).zfill(4) if digits else re.sub(r"[^A-Za-z0-9_.-]+", "-", camera.room)
        )
        kind = _ZONE_ROOM_KIND.get(camera.zone, "other")
        rooms[camera.room] = Room(number=number.strip("-") or "room", kind=kind, name=camera.room)
    return rooms


@dataclass(frozen=True)
class SiteWarning:
    """``ppe.yaml:37: auditorium 0003 has no camera``: a config warning, said in the language
    of the moment it is printed (warnings are made while the site loads, before its
    ``point.language`` is known)."""

    where: str  # ppe.yaml:LINE
    code: str  # no_rooms | no_print_station | no_camera
    room: str = ""

    def __str__(self) -> str:
        messages = {
            "no_rooms": _(
                "no rooms: list; rooms derived from the cameras' room names (fix: add rooms: "
                "with number, kind and name, and write each camera's room as its number, "
                'e.g. room: "0001"; see ppe-tech init)'
            ),
            "no_print_station": _("auditorium {room} has no print station"),
            "no_camera": _("auditorium {room} has no camera"),
        }
        return f"{self.where}: {messages[self.code].format(room=self.room)}"


def check_rooms(config: SiteConfig, doc: YamlDoc) -> list[SiteWarning]:
    """Errors (raised, with file:line) and warnings (returned) about rooms and stations."""
    if config.rooms is None:
        named = [c for c in config.cameras if c.room]
        if not named and not config.stations:
            return []
        return [SiteWarning(doc.where(("cameras",)), "no_rooms")]
    numbers = {r.number for r in config.rooms}  # unique: check_unique_ids ran first
    for index, station in enumerate(config.stations):
        if station.room not in numbers:
            raise doc.error(("stations", index, "room"), _unknown_room(station.room, numbers))
    for index, camera in enumerate(config.cameras):
        if camera.zone in ROOM_ZONES and room_named(config.rooms, camera.room) is None:
            raise doc.error(("cameras", index, "room"), _unknown_room(camera.room, numbers))
    return _room_warnings(config, doc)


def room_named(rooms: list[Room], text: str) -> str | None:
    """The number of the room ``text`` names, by number or by name (None if none does)."""
    for room in rooms:
        if text and text in (room.number, room.name):
            return room.number
    return None


def _unknown_room(number: str, numbers: set[str]) -> str:
    return f"unknown room {number!r} (rooms: {', '.join(sorted(numbers)) or 'none'})"


def _room_warnings(config: SiteConfig, doc: YamlDoc) -> list[SiteWarning]:
    assert config.rooms is not None
    printing = {s.room for s in config.stations if s.role == "print"}
    filmed = {room_named(config.rooms, c.room) for c in config.cameras}
    warnings = []
    for index, room in enumerate(config.rooms):
        if room.kind != "auditorium":
            continue
        where = doc.where(("rooms", index))
        if room.number not in printing:
            warnings.append(SiteWarning(where, "no_print_station", room.number))
        if room.number not in filmed:
            warnings.append(SiteWarning(where, "no_camera", room.number))
    return warnings


def literal_password_warnings(doc: YamlDoc) -> list[str]:
    """A camera password written in ppe.yaml itself (not ``${VAR}``): it works, but anyone who
    reads the file (or a copy of it, or a screenshot) has it."""
    cameras = doc.data.get("cameras") if isinstance(doc.data, dict) else None
    found = []
    for index, camera in enumerate(cameras if isinstance(cameras, list) else []):
        source = camera.get("source") if isinstance(camera, dict) else None
        password = url_password(source) if isinstance(source, str) else None
        if password and not _VAR.fullmatch(password):
            where = doc.where(("cameras", index, "source"))
            line = _(
                "{where}: camera {camera}: the password is written in ppe.yaml (anyone who reads "
                "the file has it); write ${{CAM_PASSWORD}} in its place and export CAM_PASSWORD"
            )
            found.append(line.format(where=where, camera=camera.get("id", index)))
    return found


def find_site_folder(explicit: str | os.PathLike | None = None, cwd: Path | None = None) -> Path:
    """``--site``, then ``PPE_SITE``, then the current folder and its parents."""
    for chosen, origin in ((explicit, "--site"), (os.environ.get("PPE_SITE"), "PPE_SITE")):
        if chosen:
            folder = Path(chosen).expanduser()
            if not (folder / SITE_FILE).is_file():
                raise ConfigError(
                    _("{origin} {folder}: no {file} there (make one: ppe-tech init)").format(
                        origin=origin, folder=folder, file=SITE_FILE
                    )
                )
            return folder.resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SITE_FILE).is_file():
            return folder
    raise ConfigError(
        _("no {file} in {here} or its parents; use --site DIR, PPE_SITE, or ppe-tech init").format(
            file=SITE_FILE, here=here
        )
    )


def load_site(folder: Path, *, speak: Callable[[str], None] | None = None) -> Site:
    """The site in ``folder``; ``speak(language)`` is called with the ``point.language`` the file
    declares before it is validated, so that the command line can say the file's own errors in
    that language."""
    folder = Path(folder).resolve()
    doc = load_yaml(folder / SITE_FILE)
    if not isinstance(doc.data, dict):
        raise doc.error((), _("expected a mapping with point, staff, exams, cameras, ..."))
    point = doc.data.get("point")
    if speak is not None and isinstance(point, dict):
        speak(str(point.get("language", Point.model_fields["language"].default)))
    secrets: set[str] = set()
    data = _substitute_env(doc, doc.data, (), secrets)
    config = doc.validate(SiteConfig, data)
    for camera in config.cameras:  # a password written in ppe.yaml is a secret too, both spellings
        password = url_password(camera.source)
        if password:
            secrets.update({password, unquote(password)})
    check_unique_ids(doc, config)
    site = Site(folder, config, doc, secrets)
    site.warnings = check_rooms(config, doc)
    return site


def open_site(
    explicit: str | os.PathLike | None = None, *, speak: Callable[[str], None] | None = None
) -> Site:
    return load_site(find_site_folder(explicit), speak=speak)
