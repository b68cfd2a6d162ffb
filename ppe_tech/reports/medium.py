"""Which medium holds a bag: mount point, device, label and serial where the system shows them.

Linux only (``/proc/mounts``, ``/dev/disk/by-label``, ``/dev/disk/by-id``, ``/sys/block``);
elsewhere, or when a value cannot be read, it is None and the act leaves a line for a pen.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def mount_point(path: Path) -> Path:
    path = path.resolve() if path.exists() else path.absolute()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def _device(mount: Path) -> str | None:
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return None
    found = None
    for line in lines:
        fields = line.split()
        if len(fields) >= 2 and fields[1].replace("\\040", " ") == str(mount):
            found = fields[0]  # the last mount on a point wins
    return found if found and found.startswith("/dev/") else None


def _link_to(folder: str, device: str) -> str | None:
    """The name of a symlink in ``folder`` that points at ``device`` (e.g. its label)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    real = os.path.realpath(device)
    for name in sorted(names):
        if os.path.realpath(os.path.join(folder, name)) == real:
            return name.replace("\\x20", " ")
    return None


def _disk(device: str) -> str:
    """sdb1 -> sdb (the disk a partition belongs to), via /sys/class/block."""
    name = os.path.basename(os.path.realpath(device))
    part = Path("/sys/class/block") / name / "partition"
    return (
        Path(os.path.realpath(Path("/sys/class/block") / name)).parent.name
        if part.exists()
        else name
    )


def removable_medium(bag: Path) -> dict[str, Any]:
    """{"mount", "device", "label", "serial", "removable"} of the medium holding ``bag``."""
    mount = mount_point(Path(bag))
    device = _device(mount) if os.name == "posix" else None
    info: dict[str, Any] = {
        "mount": str(mount),
        "device": device,
        "label": None,
        "serial": None,
        "removable": None,
    }
    if device is None:
        return info
    info["label"] = _link_to("/dev/disk/by-label", device)
    disk = _disk(device)
    serial = _link_to("/dev/disk/by-id", f"/dev/{disk}")
    info["serial"] = serial
    try:
        info["removable"] = (Path("/sys/block") / disk / "removable").read_text().strip() == "1"
    except OSError:
        pass
    return info
