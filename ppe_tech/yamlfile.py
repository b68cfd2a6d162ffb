"""YAML files that remember where every value came from.

ppe.yaml, checklists and answers files are hand-written; an error must point at
the file and line ("ppe.yaml:14: cameras[2].zone: ..."). ``load_yaml`` returns the
data plus a map from field path to line, and ``validate`` turns pydantic's
errors into one such line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ppe_tech.errors import ConfigError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base of every config model: unknown fields are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class YamlDoc:
    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    def where(self, loc: Loc = ()) -> str:
        """``file:line`` of the deepest known prefix of ``loc``."""
        for cut in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:cut]))
            if line is not None:
                return f"{self.name}:{line}"
        return self.name

    def error(self, loc: Loc, message: str) -> ConfigError:
        prefix = f"{format_loc(loc)}: " if loc else ""
        return ConfigError(f"{self.where(loc)}: {prefix}{message}")

    def validate(self, model: type[M], data: Any = None, base: Loc = ()) -> M:
        """Validate ``data`` (default the whole document) found at ``base`` against ``model``."""
        try:
            return model.model_validate(self.data if data is None else data)
        except ValidationError as exc:
            raise validation_error(self, exc, base) from None


def _describe(err: dict) -> str:
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind in ("literal_error", "enum"):
        allowed = err.get("ctx", {}).get("expected", "")
        allowed = allowed.replace("'", "").replace(" or ", ", ")
        return f"{value!r} is not one of {allowed}"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return msg


def validation_error(doc: YamlDoc, exc: ValidationError, base: Loc = ()) -> ConfigError:
    errors = exc.errors()
    first = errors[0]
    loc = base + tuple(first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return doc.error(loc, _describe(first) + more)


def _index_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int], path: Path) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise ConfigError(
                    f"{path.name}:{key_node.start_mark.line + 1}: {format_loc(loc + (key,))}: "
                    "duplicate key"
                )
            seen.add(key)
            lines[loc + (key,)] = key_node.start_mark.line + 1
            _index_lines(value_node, loc + (key,), lines, path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, loc + (index,), lines, path)


# What PyYAML says when a line is indented one step too far or too little.
_INDENTATION_PROBLEMS = (
    "mapping values are not allowed",
    "expected <block end>",
    "did not find expected key",
    "could not find expected ':'",
    "did not find expected '-' indicator",
)


def _indentation_hint(problem: str, mark: yaml.Mark | None) -> str:
    if mark is None or not any(text in problem for text in _INDENTATION_PROBLEMS):
        return ""
    return f" (check the indentation of line {mark.line + 1} and the line above it)"


def parse_yaml(text: str, path: Path) -> YamlDoc:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        hint = _indentation_hint(problem, mark)
        raise ConfigError(f"{path.name}{line}: invalid YAML: {problem}{hint}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    if node is not None:
        _index_lines(node, (), lines, path)
    return YamlDoc(path=path, data=data, lines=lines)


def load_yaml(path: Path) -> YamlDoc:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_yaml(text, path)
