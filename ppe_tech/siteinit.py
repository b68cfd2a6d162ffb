"""A new site folder: the commented starter ppe.yaml and the subfolders every job writes to.

Core, not CLI: ``ppe-tech init`` and the demo both call ``make_site_folder``.
"""

from __future__ import annotations

from pathlib import Path

from ppe_tech.errors import ConfigError
from ppe_tech.fsutil import atomic_write_text
from ppe_tech.i18n import _
from ppe_tech.resources import PACKAGE_DIR
from ppe_tech.site import SITE_FILE

SITE_SUBFOLDERS = ("recordings", "snapshots", "reports", "references", "checklists", "templates")
STARTER = PACKAGE_DIR / "site_starter.yaml"


def make_site_folder(folder: Path, text: str | None = None) -> Path:
    """Write ``folder/ppe.yaml`` (the commented starter unless ``text``) and the subfolders."""
    target = folder / SITE_FILE
    if target.exists():
        raise ConfigError(_("{file} already exists; not overwriting it").format(file=target))
    for sub in SITE_SUBFOLDERS:
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "keys").mkdir(mode=0o700, exist_ok=True)
    atomic_write_text(target, text if text is not None else STARTER.read_text(encoding="utf-8"))
    return target
