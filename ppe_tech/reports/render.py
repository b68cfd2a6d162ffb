"""Jinja2 -> HTML -> WeasyPrint PDF/A-3b with the report data embedded as ``results.json``.

Templates are looked up in the site's ``templates/`` first, then the shipped
ones (``ppe_tech.resources.lookup_path``), so a site overrides any file by
putting one of the same name there. The fonts are the DejaVu files shipped in
``templates/fonts`` (a site may override those too), referenced by file URL, so
the output does not depend on the fonts installed on the machine.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from ppe_tech.reports.i18n import labels
from ppe_tech.resources import lookup_path

ATTACHMENT_NAME = "results.json"
TEMPLATES = {
    "readiness": "readiness.html",
    "archive": "archive.html",
    "access-log": "access-log.html",
}
TITLE_KEYS = {
    "readiness": "readiness_title",
    "archive": "archive_title",
    "access-log": "access_log_title",
}
FIRST_CHUNK_ROWS = 22  # log rows under the header block on the first page
CHUNK_ROWS = 38  # log rows on a full page (row heights vary: a long row just moves on)


def template_dirs(site_folder: Path | None) -> list[Path]:
    return lookup_path(site_folder, "templates")


def find_template_file(site_folder: Path | None, name: str) -> Path:
    for folder in template_dirs(site_folder):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(name)


def font_urls(site_folder: Path | None) -> dict[str, str]:
    return {
        "regular": find_template_file(site_folder, "fonts/DejaVuSans.ttf").as_uri(),
        "bold": find_template_file(site_folder, "fonts/DejaVuSans-Bold.ttf").as_uri(),
    }


def stamp_font(site_folder: Path | None) -> Path:
    """DejaVu Sans rescaled to 1000 units per em: pyHanko's glyph accumulator writes the
    font's advance widths unscaled into the PDF /W array, which assumes 1000 (DejaVu has 2048,
    which spreads the stamp's letters twice as wide)."""
    return find_template_file(site_folder, "fonts/DejaVuSans-Stamp.ttf")


def chunks(
    rows: list[Any], first: int = FIRST_CHUNK_ROWS, size: int = CHUNK_ROWS
) -> list[list[Any]]:
    """Rows as a short first block, then blocks of ``size`` (each becomes its own <table>)."""
    if not rows:
        return []
    out = [rows[:first]]
    out.extend(rows[i : i + size] for i in range(first, len(rows), size))
    return out


def _environment(site_folder: Path | None, tz):
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in template_dirs(site_folder)]),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.ChainableUndefined,
    )

    def dt(value: Any, seconds: bool = False) -> str:
        if not value:
            return ""
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
        if moment.tzinfo is not None:
            moment = moment.astimezone(tz)
        return moment.strftime("%d.%m.%Y %H:%M:%S" if seconds else "%d.%m.%Y %H:%M")

    def d(value: Any) -> str:
        if not value:
            return ""
        try:
            return datetime.fromisoformat(str(value)[:10]).strftime("%d.%m.%Y")
        except ValueError:
            return str(value)

    env.filters["dt"] = dt
    env.filters["d"] = d
    return env


def render_html(site, data: dict[str, Any], lang: str) -> str:
    """The report's HTML: ``data`` (the embedded JSON) plus labels, fonts and helpers."""
    kind = data["kind"]
    t = labels(lang)
    env = _environment(site.folder, site.tz)

    def tr(obj: Any, name: str) -> str:
        if not isinstance(obj, dict):
            return ""
        return obj.get(f"{name}_{lang}") or obj.get(name) or obj.get(f"{name}_ru") or ""

    staff = data.get("staff", {})
    signers = [
        {
            "role": role,
            "role_title": t[f"role_{role}"],
            **staff.get(role, {"name": "", "position": ""}),
        }
        for role in ("technician", "head", "commission")
    ]
    doc = {
        "number": data["number"],
        "kind": kind,
        "kind_title": t[TITLE_KEYS[kind]],
        "created_at": data["created_at"],
        "created_local_iso": data["created_at"],
        "point_code": data["point"]["code"],
        "author": staff.get("technician", {}).get("name", ""),
    }
    log = data.get("access_log")
    context = {
        **data,
        "lang": lang,
        "t": t,
        "tr": tr,
        "doc": doc,
        "signers": signers,
        "fonts": font_urls(site.folder),
        "log_chunks": chunks(log["entries"]) if log else [],
    }
    context["css"] = env.get_template("report.css").render(context)
    return env.get_template(TEMPLATES[kind]).render(context)


def data_bytes(data: dict[str, Any]) -> bytes:
    """The canonical bytes of ``results.json`` (what the store keeps the hash of)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def render_pdf(site, data: dict[str, Any], lang: str, *, html: str | None = None) -> bytes:
    """PDF/A-3b bytes of the report, ``results.json`` embedded as an associated file."""
    from weasyprint import HTML, Attachment

    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    html = html if html is not None else render_html(site, data, lang)
    attachment = Attachment(
        file_obj=io.BytesIO(data_bytes(data)),
        name=ATTACHMENT_NAME,
        description="ppe-tech report data (raw results)",
        relationship="Data",
    )
    base_url = str(template_dirs(site.folder)[-1]) + "/"

    def finisher(document, pdf) -> None:
        # pyHanko rewrites the XMP producer to exactly its own name and appends that name to
        # the info dictionary's producer unless present: start with exactly that name, so the
        # two agree after signing (PDF/A wants info and XMP equivalent).
        import pydyf
        from pyhanko.pdf_utils.metadata.model import VENDOR

        pdf.info["Producer"] = pydyf.String(VENDOR)

    return HTML(string=html, base_url=base_url).write_pdf(
        finisher=finisher,
        pdf_variant="pdf/a-3b",
        attachments=[attachment],
        uncompressed_pdf=False,
    )
