"""Probes of the local machine: programs, processes, files, disks, printers, USB devices."""

from __future__ import annotations

import hashlib
import shlex
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import psutil
from pydantic import BeforeValidator, Field, field_validator, model_validator

from ppe_tech.checklist.probes import Outcome, ProbeContext, ProbeFailed, ProbeSpec, probe
from ppe_tech.checklist.probes.registry import installed_version
from ppe_tech.checklist.probes.versions import DEFAULT_PATTERN, check_constraint, version_outcome
from ppe_tech.children import Finished, run_bounded
from ppe_tech.fsutil import format_size, parse_size
from ppe_tech.i18n import _, ngettext
from ppe_tech.site import Duration
from ppe_tech.userregex import Regex, user_regex


def split_command(text: str, platform: str = sys.platform) -> list[str]:
    r"""A command line as a shell would split it, never run through one.

    On Windows, backslashes are path separators, not escapes: POSIX shlex would turn
    ``C:\Station\station.exe`` into ``C:Stationstation.exe``, so quotes are only stripped.
    """
    if platform != "win32":
        return shlex.split(text)
    lexer = shlex.shlex(text, posix=False)
    lexer.whitespace_split = True
    return [t[1:-1] if len(t) > 1 and t[0] == t[-1] == '"' else t for t in lexer]


Argv = Annotated[
    list[str], BeforeValidator(lambda v: split_command(v) if isinstance(v, str) else v)
]
Size = Annotated[int, BeforeValidator(parse_size)]


def run_program(argv: list[str], timeout: float) -> Finished:
    """Run argv (never through a shell) with a timeout; its whole process group is killed
    when it ends or the time is up, and at most ``children.MAX_OUTPUT`` bytes are kept."""
    if not argv:
        raise ProbeFailed(_("empty command"))
    if shutil.which(argv[0]) is None:
        raise ProbeFailed(_("program {program} not found").format(program=repr(argv[0])))
    try:
        return run_bounded(argv, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ProbeFailed(
            _("{program} did not finish within {seconds}s").format(
                program=argv[0], seconds=f"{timeout:g}"
            )
        ) from None
    except OSError as exc:
        raise ProbeFailed(
            _("cannot run {program}: {reason}").format(program=argv[0], reason=exc.strerror)
        ) from None


def first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else ""


class CommandSpec(ProbeSpec):
    type: Literal["command"]
    argv: Argv
    exit_code: int = 0
    stdout: Regex | None = None  # regular expression the output must contain


@probe("command", CommandSpec)
def command(spec: CommandSpec, ctx: ProbeContext) -> Outcome:
    done = run_program(spec.argv, ctx.timeout)
    output = first_line(done.stdout) or first_line(done.stderr)
    value = _("exit {code}: {output}").format(code=done.returncode, output=output)
    expected = _("exit {code}").format(code=spec.exit_code)
    if done.returncode != spec.exit_code:
        return Outcome.failed(_("unexpected exit code"), value, expected)
    if spec.stdout and not user_regex(spec.stdout).search(done.stdout):
        return Outcome.failed(_("output does not match"), value, f"/{spec.stdout}/")
    return Outcome.passed(value, expected + (f", /{spec.stdout}/" if spec.stdout else ""))


class ProcessSpec(ProbeSpec):
    type: Literal["process"]
    name: str | None = None  # exact process name (as in ps -e)
    cmdline: Regex | None = None  # regular expression over the full command line
    min_count: int = Field(default=1, ge=0)


def process_table() -> list[tuple[str, str]]:
    """(name, command line) of every running process."""
    return [
        (p.info.get("name") or "", " ".join(p.info.get("cmdline") or []))
        for p in psutil.process_iter(["name", "cmdline"])
    ]


@probe("process", ProcessSpec)
def process(spec: ProcessSpec, ctx: ProbeContext) -> Outcome:
    if not spec.name and not spec.cmdline:
        raise ProbeFailed(_("give 'name' or 'cmdline'"))
    pattern = user_regex(spec.cmdline) if spec.cmdline else None
    count = sum(
        1
        for name, cmdline in ctx.once("process_table", process_table)  # one scan per run
        if (not spec.name or name == spec.name) and (not pattern or pattern.search(cmdline))
    )
    what = spec.name or f"/{spec.cmdline}/"
    expected = _(">= {count} running").format(count=spec.min_count)
    running = _("{count} running").format(count=count)
    if count < spec.min_count:
        return Outcome.failed(_("{what} is not running").format(what=what), running, expected)
    return Outcome.passed(running, expected)


class FileSpec(ProbeSpec):
    type: Literal["file"]
    path: str
    exists: bool = True
    mode: str | None = None  # e.g. "0600": the permission bits must equal this
    sha256: str | None = None
    max_age: Duration | None = None  # modified no longer ago than this
    min_size: Size | None = None

    @field_validator("mode")
    @classmethod
    def _octal(cls, value: str | None) -> str | None:
        if value is not None:
            int(str(value), 8)
        return value


@probe("file", FileSpec)
def file(spec: FileSpec, ctx: ProbeContext) -> Outcome:
    path = (
        Path(spec.path)
        if Path(spec.path).is_absolute() or not ctx.site
        else ctx.site.path(spec.path)
    )
    if not path.exists():
        if spec.exists:
            return Outcome.failed(
                _("{path} does not exist").format(path=path), _("missing"), _("exists")
            )
        return Outcome.passed(_("missing"), _("absent"))
    if not spec.exists:
        return Outcome.failed(_("{path} exists").format(path=path), _("exists"), _("absent"))
    info = path.stat()
    facts = []
    if spec.mode is not None:
        mode = stat.S_IMODE(info.st_mode)
        if mode != int(spec.mode, 8):
            return Outcome.failed(_("wrong permissions"), f"{mode:04o}", spec.mode)
        facts.append(_("mode {mode}").format(mode=f"{mode:04o}"))
    if spec.min_size is not None and info.st_size < spec.min_size:
        return Outcome.failed(
            _("file too small"), format_size(info.st_size), f">= {format_size(spec.min_size)}"
        )
    if spec.max_age is not None:
        age = time.time() - info.st_mtime
        old = _("{seconds}s old").format(seconds=f"{age:.0f}")
        if age > spec.max_age.total_seconds():
            limit = spec.max_age.total_seconds()
            return Outcome.failed(_("file too old"), old, f"<= {limit:.0f}s")
        facts.append(old)
    if spec.sha256 is not None:
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device may never end: never read it
            return Outcome.failed(
                _("{path} is not a regular file").format(path=path),
                _("not a regular file"),
                _("a file"),
            )
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != spec.sha256.lower():
            return Outcome.failed(
                _("checksum differs"), digest.hexdigest()[:16] + "...", spec.sha256[:16] + "..."
            )
        facts.append(_("sha256 ok"))
    return Outcome.passed(", ".join(facts) or _("exists"), _("exists"))


class DiskFreeSpec(ProbeSpec):
    type: Literal["disk_free"]
    path: str = "/"
    min_free: Size | None = None  # e.g. 10G
    min_percent: float | None = Field(default=None, ge=0, le=100)


@probe("disk_free", DiskFreeSpec)
def disk_free(spec: DiskFreeSpec, ctx: ProbeContext) -> Outcome:
    path = ctx.site.path(spec.path) if ctx.site else Path(spec.path)
    try:
        usage = shutil.disk_usage(path)
    except OSError as exc:
        raise ProbeFailed(f"{path}: {exc.strerror}") from None
    percent = 100.0 * usage.free / usage.total if usage.total else 0.0
    value = _("{size} free ({percent}%)").format(
        size=format_size(usage.free), percent=f"{percent:.0f}"
    )
    if spec.min_free is not None and usage.free < spec.min_free:
        return Outcome.failed(_("not enough free space"), value, f">= {format_size(spec.min_free)}")
    if spec.min_percent is not None and percent < spec.min_percent:
        return Outcome.failed(_("not enough free space"), value, f">= {spec.min_percent:g}%")
    expected = [
        f">= {format_size(spec.min_free)}" if spec.min_free else "",
        f">= {spec.min_percent:g}%" if spec.min_percent else "",
    ]
    return Outcome.passed(value, ", ".join(e for e in expected if e) or None)


class PrinterSpec(ProbeSpec):
    type: Literal["printer"]
    queue: str
    server: str | None = None  # CUPS server host[:port]; default the local one


@probe("printer", PrinterSpec, platforms=("linux", "darwin"))  # CUPS
def printer(spec: PrinterSpec, ctx: ProbeContext) -> Outcome:
    server = ["-h", spec.server] if spec.server else []
    state = run_program(["lpstat", *server, "-p", spec.queue], ctx.timeout)
    if state.returncode != 0:
        message = first_line(state.stderr) or _("queue not found")
        return Outcome.failed(message, _("absent"), _("accepting, idle"))
    accepting = run_program(["lpstat", *server, "-a", spec.queue], ctx.timeout)
    text = state.stdout.lower()
    idle = " is idle" in text
    disabled = " disabled" in text
    is_accepting = accepting.returncode == 0 and "not accepting" not in accepting.stdout.lower()
    value = ", ".join(
        [
            _("accepting") if is_accepting else _("not accepting"),
            _("disabled") if disabled else (_("idle") if idle else _("busy")),
        ]
    )
    if not is_accepting or disabled or not idle:
        return Outcome.failed(
            _("printer {queue} is not ready").format(queue=spec.queue),
            value,
            _("accepting, idle"),
        )
    return Outcome.passed(value, _("accepting, idle"))


USB_DEVICES = Path("/sys/bus/usb/devices")


class UsbSpec(ProbeSpec):
    type: Literal["usb"]
    id: str = Field(pattern=r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$")  # vendor:product, as lsusb shows


def usb_ids(root: Path = USB_DEVICES) -> set[str]:
    found = set()
    for device in root.glob("*"):
        try:
            vendor = (device / "idVendor").read_text().strip()
            product = (device / "idProduct").read_text().strip()
        except OSError:
            continue
        found.add(f"{vendor}:{product}".lower())
    return found


@probe("usb", UsbSpec, platforms=("linux",))  # /sys/bus/usb
def usb(spec: UsbSpec, ctx: ProbeContext) -> Outcome:
    if not USB_DEVICES.is_dir():
        raise ProbeFailed(_("{path} is not available on this machine").format(path=USB_DEVICES))
    present = usb_ids()
    if spec.id.lower() in present:
        return Outcome.passed(_("present"), spec.id)
    return Outcome.failed(
        _("USB device {id} not connected").format(id=spec.id),
        ngettext("{n} other device", "{n} other devices", len(present)).format(n=len(present)),
        spec.id,
    )


class SoftwareSpec(ProbeSpec):
    """The station software's version, read where the software keeps it: on Windows the
    ``DisplayVersion`` of the installed program whose ``DisplayName`` matches ``program``, a
    version file (``file``), or a command's output (``argv``). The first given of these
    three wins; an empty string counts as not given, so a checklist can offer all three
    and each site fills in the one its software has."""

    type: Literal["software"]
    version: str  # constraint, e.g. ">=26.1,<27"
    argv: Argv | None = None  # e.g. "station --version"
    file: str | None = None  # e.g. C:\Station\version.txt
    program: Regex | None = None  # regex over DisplayName, e.g. "Станция печати"
    pattern: Regex = DEFAULT_PATTERN  # where the version is in the text (first group)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if v not in ("", [])}
            given = [k for k in ("program", "file", "argv") if k in data]
            if not given:
                raise ValueError("give one of program, file, argv")
            data = {k: v for k, v in data.items() if k not in given[1:]}  # the first one wins
        return data

    @field_validator("version")
    @classmethod
    def _constraint(cls, value: str) -> str:
        return check_constraint(value)

    def platforms(self) -> tuple[str, ...] | None:
        return ("win32",) if self.program else None


def _version_text(spec: SoftwareSpec, ctx: ProbeContext) -> str:
    if spec.program:
        return installed_version(spec.program)
    if spec.file:
        path = ctx.site.path(spec.file) if ctx.site else Path(spec.file)
        try:
            with path.open("rb") as fh:
                return fh.read(65536).decode("utf-8", "replace")
        except OSError as exc:
            raise ProbeFailed(f"{path}: {exc.strerror}", _("unreadable"), spec.version) from None
    done = run_program(spec.argv or [], ctx.timeout)
    return done.stdout + "\n" + done.stderr


@probe("software", SoftwareSpec)
def software(spec: SoftwareSpec, ctx: ProbeContext) -> Outcome:
    return version_outcome(_version_text(spec, ctx), spec.version, spec.pattern)
