"""Checklists in YAML: sections of items, each a probe or a manual confirmation.

A checklist file::

    title: {ru: "...", en: "..."}
    include: [common.yaml]          # other checklist files, their sections come first
    sections:
      - id: staff-room
        title: {ru: "Штаб ППЭ", en: "Staff room"}
        items:
          - id: portal-reachable
            title: {ru: "...", en: "..."}
            severity: critical      # critical | warning | info
            probe: {type: tcp, host: "{{ site.checks.vars.portal_host }}", port: 443}
            timeout: 5s
            retries: 1
          - id: backup-printer
            title: {ru: "...", en: "..."}
            manual: {ru: "Резервный принтер на месте?", en: "Backup printer in place?"}

String values are Jinja2 templates over the site (``site.point.code``,
``site.checks.vars.NAME``, ``site.folder``), rendered after parsing so every
error still points at its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import jinja2
from pydantic import Field, model_validator

from ppe_tech.checklist.probes import PROBE_TYPES, ProbeSpec
from ppe_tech.checklist.templating import BoundedEnvironment, TemplateBound
from ppe_tech.errors import ConfigError
from ppe_tech.fsutil import contained_path
from ppe_tech.i18n import _
from ppe_tech.resources import lookup_path
from ppe_tech.site import SAFE_ID, Duration, Site, Station
from ppe_tech.yamlfile import Loc, StrictModel, YamlDoc, load_yaml

Severity = Literal["critical", "warning", "info"]


class Text(StrictModel):
    """A text in Russian and English; a plain string serves both."""

    ru: str
    en: str

    @model_validator(mode="before")
    @classmethod
    def _plain_string(cls, value: Any) -> Any:
        return {"ru": value, "en": value} if isinstance(value, str) else value

    def get(self, lang: str) -> str:
        return self.ru if lang == "ru" else self.en


class ItemSpec(StrictModel):
    id: str = Field(pattern=SAFE_ID)
    title: Text
    severity: Severity = "critical"
    probe: dict[str, Any] | None = None
    manual: Text | None = None
    ask: Text | None = None  # a probe item asked by hand (other platform, hand check): the question
    timeout: Duration = timedelta(seconds=10)
    retries: int = Field(default=0, ge=0, le=10)

    @model_validator(mode="after")
    def _probe_or_manual(self) -> ItemSpec:
        if (self.probe is None) == (self.manual is None):
            raise ValueError("an item needs exactly one of 'probe' or 'manual'")
        if self.timeout <= timedelta(0):
            raise ValueError("timeout must be positive")
        return self


class SectionSpec(StrictModel):
    id: str = Field(pattern=SAFE_ID)
    title: Text
    items: list[ItemSpec]


class ChecklistSpec(StrictModel):
    title: Text
    include: list[str] = []
    sections: list[SectionSpec] = []


@dataclass(frozen=True)
class Item:
    id: str
    title: Text
    severity: Severity
    timeout: float  # seconds, per attempt
    retries: int
    section_id: str
    section_title: Text
    probe: ProbeSpec | None  # None for a manual item
    manual: Text | None
    where: str  # file:line, for messages
    ask: Text | None = None

    @property
    def kind(self) -> str:
        return self.probe.type if self.probe else "manual"

    @property
    def question(self) -> Text:
        """What the technician is asked: the manual text, else ``ask``, else the title."""
        return self.manual or self.ask or self.title


@dataclass(frozen=True)
class Checklist:
    name: str
    title: Text
    items: list[Item]
    path: Path


def find_checklist(name: str, site: Site | None) -> Path:
    """A checklist by name (``pre-exam``: the site's copy first, then the shipped one) or path."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        return candidate.resolve()
    folders = lookup_path(site.folder if site else None, "checklists")
    for folder in folders:
        path = contained_path(folder, f"{name}.yaml", what=_("checklist"))
        if path.is_file():
            return path
    known = sorted({p.stem for f in folders if f.is_dir() for p in f.glob("*.yaml")})
    raise ConfigError(
        _("no checklist {name} (known: {known})").format(
            name=repr(name), known=", ".join(known) or _("none")
        )
    )


def _template_context(site: Site | None, station: Station | None = None) -> dict[str, Any]:
    """``site`` (the config, plus ``site.folder``) and ``station`` (a station run's identity)."""
    identity = station.model_dump(mode="json") if station else {}
    if site is None:
        return {"site": {}, "station": identity}
    config = site.config.model_dump(mode="json")
    config["folder"] = str(site.folder)
    return {"site": config, "station": identity}


def _render(doc: YamlDoc, value: Any, loc: Loc, env: BoundedEnvironment, ctx: dict) -> Any:
    if isinstance(value, dict):
        return {k: _render(doc, v, loc + (k,), env, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(doc, v, loc + (i,), env, ctx) for i, v in enumerate(value)]
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        try:
            return env.render(value, ctx)
        except TemplateBound as exc:
            raise doc.error(
                loc, _item_of(doc, loc) + _("template went past its bound: {why}").format(why=exc)
            ) from None
        except jinja2.TemplateError as exc:
            raise doc.error(loc, _("template error: {why}").format(why=exc)) from None
        except (ArithmeticError, ValueError, TypeError) as exc:  # 1/0, int('x') in a template
            why = f"{type(exc).__name__}: {exc}"
            raise doc.error(loc, _("template error: {why}").format(why=why)) from None
    return value


def _item_of(doc: YamlDoc, loc: Loc) -> str:
    """``item 'id': `` when ``loc`` is inside an item, so the message names it."""
    if len(loc) >= 4 and loc[0] == "sections" and loc[2] == "items":
        try:
            item_id = doc.data["sections"][loc[1]]["items"][loc[3]]["id"]
            return _("item {id}: ").format(id=repr(item_id))
        except (KeyError, IndexError, TypeError):
            pass
    return ""


class _Loader:
    def __init__(self, site: Site | None, station: Station | None = None):
        self.site = site
        self.env = BoundedEnvironment()
        self.context = _template_context(site, station)
        self.seen_ids: dict[str, str] = {}
        self.stack: list[Path] = []

    def load(self, path: Path) -> tuple[Text, list[Item]]:
        if path in self.stack:
            chain = " -> ".join(p.name for p in [*self.stack, path])
            raise ConfigError(
                _("{file}: include cycle: {chain}").format(file=path.name, chain=chain)
            )
        self.stack.append(path)
        doc = load_yaml(path)
        if not isinstance(doc.data, dict):
            raise doc.error((), _("expected a mapping with title and sections"))
        data = _render(doc, doc.data, (), self.env, self.context)
        spec = doc.validate(ChecklistSpec, data)
        items: list[Item] = []
        for index, name in enumerate(spec.include):
            items.extend(self.load(self._include_path(doc, index, name))[1])
        for s_index, section in enumerate(spec.sections):
            for i_index, item in enumerate(section.items):
                loc: Loc = ("sections", s_index, "items", i_index)
                items.append(self._item(doc, loc, section, item))
        self.stack.pop()
        return spec.title, items

    def _include_path(self, doc: YamlDoc, index: int, name: str) -> Path:
        folders = [
            doc.path.parent,
            *lookup_path(self.site.folder if self.site else None, "checklists"),
        ]
        for folder in folders:
            try:
                path = contained_path(folder, name, what=_("include"))
            except ConfigError as exc:
                raise doc.error(("include", index), exc.message) from None
            if path.is_file():
                return path
        raise doc.error(
            ("include", index), _("included checklist {name} not found").format(name=repr(name))
        )

    def _item(self, doc: YamlDoc, loc: Loc, section: SectionSpec, spec: ItemSpec) -> Item:
        where = doc.where(loc + ("id",))
        if spec.id in self.seen_ids:
            raise doc.error(
                loc + ("id",),
                _("duplicate item id {id} (first at {where})").format(
                    id=repr(spec.id), where=self.seen_ids[spec.id]
                ),
            )
        self.seen_ids[spec.id] = where
        probe = None
        if spec.probe is not None:
            probe_loc = loc + ("probe",)
            kind = spec.probe.get("type")
            if kind not in PROBE_TYPES:
                known = ", ".join(sorted(PROBE_TYPES))
                raise doc.error(
                    probe_loc + ("type",),
                    _("unknown probe type {type} (known: {known})").format(
                        type=repr(kind), known=known
                    ),
                )
            probe = doc.validate(PROBE_TYPES[kind].spec, spec.probe, base=probe_loc)
        return Item(
            id=spec.id,
            title=spec.title,
            severity=spec.severity,
            timeout=spec.timeout.total_seconds(),
            retries=spec.retries,
            section_id=section.id,
            section_title=section.title,
            probe=probe,
            manual=spec.manual,
            where=where,
            ask=spec.ask,
        )


def load_checklist(
    name_or_path: str, site: Site | None = None, *, station: Station | None = None
) -> Checklist:
    """Load, render and validate a checklist with its includes (for ``station``, if given)."""
    path = find_checklist(name_or_path, site)
    title, items = _Loader(site, station).load(path)
    return Checklist(name=path.stem, title=title, items=items, path=path)
