"""Where the shipped checklists/ and templates/ are, installed or in a checkout.

The wheel maps the top-level ``checklists/`` and ``templates/`` folders into the
package (pyproject.toml); an editable install or a checkout finds them beside it.
A site overrides any file by putting its own copy in the same subfolder.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


def lookup_path(site_folder: Path | None, subfolder: str) -> list[Path]:
    """Folders searched for a file of ``subfolder``: the site's first, then the shipped one."""
    folders = [site_folder / subfolder] if site_folder else []
    return [*folders, shipped_dir(subfolder)]
