"""Jinja2 -> HTML -> WeasyPrint PDF/A-3b with the report data embedded as ``results.json``.

Templates are looked up in the site's ``templates/`` first, then the shipped
ones (``ppe_tech.resources.lookup_path``), so a site overrides any file by
putting one of the same name there. The fonts are the DejaVu files shipped in
``templates/fonts`` (a site may override those too), referenced by file URL, so
the output does not depend on the fonts installed on the machine.
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from ppe_tech.errors import ConfigError
from ppe_tech.i18n import _
from ppe_tech.reports.i18n import labels
from ppe_tech.reports.pdf import ATTACHMENT_NAME, quiet_pdf_libraries
from ppe_tech.resources import lookup_path

TEMPLATES = {
    "act": "act.html",
    "room": "room.html",
    "readiness": "readiness.html",
    "archive": "archive.html",
    "access-log": "access-log.html",
}
TITLE_KEYS = {
    "act": "act_title",
    "room": "room_title",
    "readiness": "readiness_title",
    "archive": "archive_title",
    "access-log": "access_log_title",
}
# who signs each document, in the order of its signature lines (the stamps sit in them)
SIGNERS = {
    "readiness": ("technician", "commission", "head"),
    "archive": ("technician", "head"),
    "access-log": ("technician", "head"),
    "act": ("head", "organisation_head"),
    "room": ("technician", "commission", "head"),
}
FORM_CODES = {
    "act": "ППЭ-01",
    "room": "ППЭ-01-01",
}  # the official forms' codes, printed in the header as on paper
FIRST_CHUNK_ROWS = 10  # log rows under the header block on the first page
CHUNK_ROWS = 20  # log rows on a full page (row heights vary: a long row just moves on)
MIN_ROWS = 2  # no block of a long log ends up with fewer rows (a page of one row)
SEGMENT_ROWS = 500  # a longer log is rendered as several documents (render_segmented)
IMAGE_DPI = 200  # images are embedded at most this sharp at their printed size (WeasyPrint
# scales them down: a 768 px camera frame printed 41 mm wide would be 476 dpi, 4x the pixels)
MAX_WORKERS = 2  # processes laying out at the same time (each holds one segment or report)


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
    """Rows as a short first block, then blocks of ``size`` (each becomes its own <table>, or
    document); a last block shorter than ``MIN_ROWS`` shares the rows of the one before."""
    if not rows:
        return []
    out = [rows[:first]]
    out.extend(rows[i : i + size] for i in range(first, len(rows), size))
    if len(out) > 1 and len(out[-1]) < MIN_ROWS:
        tail = out[-2] + out[-1]
        half = (len(tail) + 1) // 2
        out[-2:] = [tail[:half], tail[half:]]
    return out


def served_folders(site_folder: Path | None) -> list[Path]:
    """What a report may load: the template folders (site's, package's) and the snapshots."""
    folders = template_dirs(site_folder)
    if site_folder is not None:
        folders.append(site_folder / "snapshots")
    return [f.resolve() for f in folders]


def url_fetcher(site_folder: Path | None) -> Any:
    """A WeasyPrint fetcher that serves local files under ``served_folders`` only: no other
    file, no symlink out of them (paths are resolved first), no network; ``data:`` URLs stay.
    Anything else stops the rendering (FatalURLFetchingError -> one ConfigError line)."""
    from urllib.request import url2pathname

    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    roots = served_folders(site_folder)
    templates = [f.resolve() for f in template_dirs(site_folder)]

    def local(url: str) -> Path | None:
        path = Path(url2pathname(url.split("?")[0].split("#")[0][5:])).resolve()
        for folder in templates:  # a relative URL: the site's file first, then the package's
            if path.is_relative_to(folder):
                found = [t / path.relative_to(folder) for t in templates]
                path = next((f.resolve() for f in found if f.is_file()), path)
                break
        served = any(path.is_relative_to(root) for root in roots)
        return path if served and path.is_file() else None

    class SiteFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = local(url) if url.lower().startswith("file:") else None
            if path is None:
                raise FatalURLFetchingError(url[:200])
            return super().fetch(path.as_uri(), headers)

    return SiteFetcher(allowed_protocols=("file", "data"), allow_redirects=False)


def write_pdf(site_folder: Path | None, html: str, **options: Any) -> bytes:
    """HTML -> PDF through ``url_fetcher``; a template that reaches outside is a ConfigError."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    base_url = str(template_dirs(site_folder)[-1]) + "/"
    try:
        document = HTML(string=html, base_url=base_url, url_fetcher=url_fetcher(site_folder))
        return document.write_pdf(dpi=IMAGE_DPI, **options)
    except FatalURLFetchingError as exc:
        raise ConfigError(
            _(
                "a report template tried to load {what}: templates may use only files of the "
                "templates and snapshots folders (no other file, no network)"
            ).format(what=exc)
        ) from None


@functools.lru_cache(maxsize=8)
def _environment(site_folder: Path | None, tz):
    """The sandboxed Jinja2 environment of a site, made once per process: its templates are
    compiled once (a changed file is read again: Jinja checks its time)."""
    import jinja2
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import SandboxedEnvironment

    class ReportSandbox(SandboxedEnvironment):
        """Unsafe attributes (``__class__``, ``__globals__``...) stop the report, even under
        ChainableUndefined (which would otherwise render them as nothing)."""

        def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
            raise SecurityError(
                _("access to {attribute!r} is not allowed in a report template").format(
                    attribute=attribute
                )
            )

    env = ReportSandbox(
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
        # local time of the point with its zone named (naive values are the point's local time)
        moment = moment.astimezone(tz) if moment.tzinfo is not None else moment.replace(tzinfo=tz)
        return moment.strftime("%d.%m.%Y %H:%M:%S %Z" if seconds else "%d.%m.%Y %H:%M %Z")

    def d(value: Any) -> str:
        if not value:
            return ""
        try:
            return datetime.fromisoformat(str(value)[:10]).strftime("%d.%m.%Y")
        except ValueError:
            return str(value)

    def dm(value: Any) -> str:  # "28.05", as the journal's date column
        return d(value)[:5]

    def hm(value: Any) -> str:  # "10:00"
        return str(value)[:5] if value else ""

    def person(value: Any) -> str:  # "Иванов И.И. (root)": the person, not the OS account
        return re.sub(r"\s*\([^()]*\)$", "", str(value)) if value else ""

    env.filters["dt"] = dt
    env.filters["person"] = person
    env.filters["d"] = d
    env.filters["dm"] = dm
    env.filters["hm"] = hm
    return env


def render_template(env: Any, name: str, context: dict[str, Any], **extra: Any) -> str:
    """One template rendered in the sandbox; its errors (a forbidden attribute, a syntax
    error) are one ConfigError line naming the template."""
    import jinja2

    try:
        return env.get_template(name).render(context, **extra)
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{getattr(exc, 'filename', None) or name}:{line}" if line else name
        raise ConfigError(
            _("report template {where}: {why}").format(where=where, why=exc.message or exc)
        ) from None


def _context(site, data: dict[str, Any], lang: str, env) -> dict[str, Any]:
    kind = data["kind"]
    t = labels(lang)

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
        for role in SIGNERS[kind]
    ]
    if kind == "archive":  # the act names who handed the medium over and who received it
        signers[0]["role_title"] = f"{t.handed_over}: {signers[0]['role_title']}"
        signers[1]["role_title"] = f"{t.received}: {signers[1]['role_title']}"
    title, form_code = t[TITLE_KEYS[kind]], FORM_CODES.get(kind)
    if kind == "room" and data["room"]["kind"] == "staff-room":
        title, form_code = t.staff_room_title, "ППЭ-01-02"
    if data.get("incomplete"):
        title = f"{title} ({t.incomplete})"
    doc = {
        "number": data["number"],
        "kind": kind,
        "form_code": form_code,
        "kind_title": title,
        "created_at": data["created_at"],
        "point_code": data["point"]["code"],
        "author": staff.get("technician", {}).get("name", ""),
    }
    return {
        **data,
        "lang": lang,
        "t": t,
        "tr": tr,
        "doc": doc,
        "signers": signers,
        "fonts": font_urls(site.folder),
        "pages_stamped": False,  # True: "page X of Y" is stamped after merging the segments
        "signatures_here": True,  # False: the signature lines come in a later segment
    }


def render_html(
    site,
    data: dict[str, Any],
    lang: str,
    *,
    chunk_rows: tuple[int, int] | None = None,
    log_rows: list[dict[str, Any]] | None = None,
    **flags: Any,
) -> str:
    """The report's HTML: ``data`` (the embedded JSON) plus labels, fonts and helpers.

    ``chunk_rows`` (first, rest) overrides how many log rows go into each <table>
    (the benchmark uses a huge value to compare with one plain table);
    ``log_rows`` renders only those rows of the log (the first segment).
    """
    env = _environment(site.folder, site.tz)
    context = _context(site, data, lang, env)
    context.update(flags)
    log = data.get("access_log")
    rows = log_rows if log_rows is not None else (log["entries"] if log else [])
    context["log_chunks"] = chunks(rows, *(chunk_rows or ())) if log else []
    context["css"] = render_template(env, "report.css", context)
    return render_template(env, TEMPLATES[data["kind"]], context)


def data_bytes(data: dict[str, Any]) -> bytes:
    """The canonical bytes of ``results.json`` (what the store keeps the hash of)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def _main_pdf(site, data: dict[str, Any], html: str) -> bytes:
    from weasyprint import Attachment

    attachment = Attachment(
        file_obj=io.BytesIO(data_bytes(data)),
        name=ATTACHMENT_NAME,
        description="ppe-tech report data (raw results)",
        relationship="Data",
    )

    def finisher(document, pdf) -> None:
        # pyHanko rewrites the XMP producer to exactly its own name and appends that name to
        # the info dictionary's producer unless present: start with exactly that name, so the
        # two agree after signing (PDF/A wants info and XMP equivalent).
        import pydyf
        from pyhanko.pdf_utils.metadata.model import VENDOR

        pdf.info["Producer"] = pydyf.String(VENDOR)

    return write_pdf(
        site.folder,
        html,
        finisher=finisher,
        pdf_variant="pdf/a-3b",
        attachments=[attachment],
        uncompressed_pdf=False,
    )


def render_pdf(site, data: dict[str, Any], lang: str, *, html: str | None = None) -> bytes:
    """PDF/A-3b bytes of the report, ``results.json`` embedded as an associated file.

    A log longer than ``SEGMENT_ROWS`` is rendered in segments (see ``render_segmented``).
    """
    quiet_pdf_libraries()
    log = data.get("access_log")
    if html is None and log and len(log["entries"]) > SEGMENT_ROWS:
        return render_segmented(site, data, lang)
    html = html if html is not None else render_html(site, data, lang)
    return _main_pdf(site, data, html)


def _worker_site(folder: str, tz_name: str) -> Any:
    """What rendering needs of a site (its folder and time zone), rebuilt in a worker."""
    import types
    from zoneinfo import ZoneInfo

    quiet_pdf_libraries()
    return types.SimpleNamespace(folder=Path(folder), tz=ZoneInfo(tz_name))


def _segment_pdf(
    folder: str,
    tz_name: str,
    data: dict[str, Any],
    lang: str,
    segment: list[dict[str, Any]],
    last: bool,
) -> bytes:
    """One further segment of a long log as PDF bytes (runs in a worker process)."""
    site = _worker_site(folder, tz_name)
    env = _environment(site.folder, site.tz)
    context = _context(site, data, lang, env)
    context["pages_stamped"] = True
    context["css"] = render_template(env, "report.css", context)
    html = render_template(
        env, "log-pages.html", context, log_chunks=chunks(segment, CHUNK_ROWS), signatures_here=last
    )
    return write_pdf(site.folder, html)


def _report_pdf(folder: str, tz_name: str, data: dict[str, Any]) -> bytes:
    """One whole report as PDF bytes (runs in a worker process)."""
    return render_pdf(_worker_site(folder, tz_name), data, data["lang"])


def _workers(jobs: int) -> int:
    import os

    if jobs < 2:
        return 0
    return max(0, min(jobs, MAX_WORKERS, (os.cpu_count() or 1)))


@contextmanager
def in_workers(fn: Callable[..., Any], jobs: list[tuple[Any, ...]]) -> Iterator[Iterator[Any]]:
    """``fn(*job)`` of every job, the results in the order of the jobs: in worker processes
    (at most ``MAX_WORKERS``; forkserver, so a worker is a fresh interpreter, not a copy of
    this one) when there are two jobs or more and more than one core, each worker taking the
    next job when it is done; else in this process, each job when its result is taken. All
    jobs are handed out at once, so this process is free to do its own work meanwhile."""
    workers = _workers(len(jobs))
    if not workers:
        yield (fn(*job) for job in jobs)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))
    try:
        futures = [pool.submit(fn, *job) for job in jobs]
        yield (future.result() for future in futures)
    finally:
        pool.shutdown(cancel_futures=True)


def rendering(site, reports: list[dict[str, Any]]) -> Any:
    """The PDFs of several reports (their data, as ``render_pdf`` takes), in their order, laid
    out in worker processes (``in_workers``): a context manager giving an iterator."""
    return in_workers(_report_pdf, [(str(site.folder), str(site.tz.key), d) for d in reports])


def render_segmented(site, data: dict[str, Any], lang: str, segment_rows: int = 0) -> bytes:
    """A long log as independent WeasyPrint documents of ``segment_rows`` rows, joined.

    WeasyPrint keeps every laid-out page of a document in memory until it writes the
    PDF, and a document's style and layout state grows with it. Here the first
    document holds the report head and the first rows (PDF/A-3b, with results.json);
    each further segment is laid out and written on its own (the last one ends with the
    signature lines), in worker processes when the machine has more than one core
    (``in_workers``), one segment per worker at a time; the pages are joined
    with pypdf. The footer "page X of Y" cannot be known while a segment is laid out,
    so it is rendered afterwards (one WeasyPrint document of empty pages carrying only
    that footer, cheap) and laid over each page as a form XObject. Peak memory is
    bounded by one segment per process, whatever the length of the log.
    """
    import gc

    size = segment_rows or SEGMENT_ROWS
    first, *segments = chunks(data["access_log"]["entries"], size, size)
    head = {**data, "access_log": {**data["access_log"], "entries": []}}  # what workers need
    jobs = [
        (str(site.folder), str(site.tz.key), head, lang, seg, i == len(segments) - 1)
        for i, seg in enumerate(segments)
    ]
    with in_workers(_segment_pdf, jobs) as results:
        html = render_html(
            site, data, lang, log_rows=first, pages_stamped=True, signatures_here=not segments
        )
        main = _main_pdf(site, data, html)
        del html
        gc.collect()
        parts = list(results)
    env = _environment(site.folder, site.tz)
    context = _context(site, data, lang, env)
    return _join(site, context, env, main, parts)


def _join(site, context: dict[str, Any], env, main: bytes, parts: list[bytes]) -> bytes:
    from pyhanko.pdf_utils.metadata.model import VENDOR
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter(clone_from=io.BytesIO(main))
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    total = len(writer.pages)
    css = render_template(env, "report.css", context, page_numbers_only=True)
    numbers_html = render_template(env, "page-numbers.html", context, css=css, count=total)
    numbers = PdfReader(io.BytesIO(write_pdf(site.folder, numbers_html)))
    for index, (page, number_page) in enumerate(zip(writer.pages, numbers.pages, strict=True)):
        name = f"/PpePageNo{index + 1}"  # pages may share one /Resources dictionary
        form = DecodedStreamObject()
        contents = number_page["/Contents"].get_object()
        streams = contents if isinstance(contents, ArrayObject) else [contents]
        form.set_data(b"\n".join(s.get_object().get_data() for s in streams))
        form[NameObject("/Type")] = NameObject("/XObject")
        form[NameObject("/Subtype")] = NameObject("/Form")
        form[NameObject("/BBox")] = number_page.mediabox
        form[NameObject("/Resources")] = number_page["/Resources"].clone(writer)
        resources = page["/Resources"].get_object()
        if "/XObject" not in resources:
            resources[NameObject("/XObject")] = DictionaryObject()
        xobjects = resources["/XObject"].get_object()
        xobjects[NameObject(name)] = writer._add_object(form)
        # the page's own content leaves its y-flipped matrix in force: wrap it in q ... Q so
        # that the number lands where its own page put it, not mirrored at the top
        save, stamp = DecodedStreamObject(), DecodedStreamObject()
        save.set_data(b"q")
        stamp.set_data(f"Q q {name} Do Q".encode())
        page_contents = page["/Contents"]
        items = (
            list(page_contents.get_object())
            if isinstance(page_contents.get_object(), ArrayObject)
            else [page_contents]
        )
        page[NameObject("/Contents")] = ArrayObject(
            [writer._add_object(save), *items, writer._add_object(stamp)]
        )
    writer.add_metadata({"/Producer": VENDOR})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
