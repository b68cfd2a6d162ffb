"""YAML files that remember where every value came from.

ppe.yaml, checklists and answers files are hand-written; an error must point at
the file and line ("ppe.yaml:14: cameras[2].zone: ..."). ``load_yaml`` returns the
data plus a map from field path to line, and ``validate`` turns pydantic's
errors into one such line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ppe_tech.errors import ConfigError
from ppe_tech.fsutil import read_limited
from ppe_tech.i18n import _, ngettext

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


def _describe(err: Mapping[str, Any]) -> str:
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden":
        return _("unknown field")
    if kind == "missing":
        return _("required field is missing")
    if kind in ("literal_error", "enum"):
        allowed = err.get("ctx", {}).get("expected", "")
        allowed = allowed.replace("'", "").replace(" or ", ", ")
        return _("{value!r} is not one of {allowed}").format(value=value, allowed=allowed)
    template = _pydantic_messages().get(kind)
    if template is not None:
        return template.format_map({**err.get("ctx", {}), "value": value})
    msg = err["msg"]  # our validators' own messages (already in the language) and rare kinds
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return msg


def _pydantic_messages() -> dict[str, str]:
    """pydantic's common error kinds in the invocation's language (pydantic's own ``msg`` is
    English only); the placeholders are the error's ``ctx``."""
    number = _("{value!r} is not a number")
    whole = _("{value!r} is not a whole number")
    yes_no = _("{value!r} is not yes or no (true or false)")
    mapping = _("must be a mapping (key: value)")
    when = _("{value!r} is not a date and time (e.g. 2026-06-01T10:00)")
    return {
        "int_parsing": whole,
        "int_type": whole,
        "int_from_float": whole,
        "float_parsing": number,
        "float_type": number,
        "bool_parsing": yes_no,
        "bool_type": yes_no,
        "string_type": _("must be text"),
        "dict_type": mapping,
        "model_type": mapping,
        "model_attributes_type": mapping,
        "list_type": _("must be a list"),
        "greater_than": _("must be greater than {gt}"),
        "greater_than_equal": _("must be at least {ge}"),
        "less_than": _("must be less than {lt}"),
        "less_than_equal": _("must be at most {le}"),
        "string_too_short": _("must be at least {min_length} characters long"),
        "string_too_long": _("must be at most {max_length} characters long"),
        "too_short": _("must have at least {min_length} items"),
        "too_long": _("must have at most {max_length} items"),
        "string_pattern_mismatch": _("{value!r} does not match the pattern {pattern}"),
        "url_parsing": _("{value!r} is not a URL"),
        "datetime_parsing": when,
        "datetime_from_date_parsing": when,
        "date_parsing": _("{value!r} is not a date (e.g. 2026-06-01)"),
        "time_parsing": _("{value!r} is not a time of day (e.g. 10:00)"),
    }


def validation_error(doc: YamlDoc, exc: ValidationError, base: Loc = ()) -> ConfigError:
    errors = exc.errors()
    first = errors[0]
    loc = base + tuple(first["loc"])
    more = ""
    if len(errors) > 1:
        n = len(errors) - 1
        more = ngettext(" (and {n} more)", " (and {n} more)", n).format(n=n)
    return doc.error(loc, _describe(first) + more)


def _index_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int], path: Path) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(
                    _("{file}:{line}: a key must be plain text").format(
                        file=path.name, line=key_node.start_mark.line + 1
                    )
                )
            key = key_node.value
            if key in seen:
                raise ConfigError(
                    _("{file}:{line}: {key}: duplicate key").format(
                        file=path.name,
                        line=key_node.start_mark.line + 1,
                        key=format_loc(loc + (key,)),
                    )
                )
            seen.add(key)
            lines[loc + (key,)] = key_node.start_mark.line + 1
            _index_lines(value_node, loc + (key,), lines, path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, loc + (index,), lines, path)


MAX_YAML_BYTES = 8 * 1024**2  # a hand-written config is kilobytes; past this it is not one
MAX_DEPTH = 64  # nesting of mappings and lists, aliases followed (real files nest under 10)
MAX_NODES = 200_000  # values after expanding every alias (a "billion laughs" grows past it)


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses nesting deeper than MAX_DEPTH while composing (no recursion
    past it, so no RecursionError), with the line of the node that went past it."""

    def __init__(self, text: str, path: Path):
        super().__init__(text)
        self.depth = 0
        self.file_name = path.name

    def compose_node(self, parent, index):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            line = self.peek_event().start_mark.line + 1
            raise ConfigError(
                _("{file}:{line}: nested deeper than {n} levels").format(
                    file=self.file_name, line=line, n=MAX_DEPTH
                )
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def check_expansion(node: yaml.Node, path: Path) -> None:
    """Refuse a recursive alias, or aliases that expand past MAX_NODES or MAX_DEPTH.

    Aliases share nodes, so the document is a graph: size and height are memoised per
    node and the walk costs what the file costs, not what it would expand to.
    """
    known: dict[int, tuple[int, int]] = {}  # id(node) -> (values below it, its height)
    open_nodes: set[int] = set()

    def refuse(n: yaml.Node, problem: str) -> ConfigError:
        return ConfigError(f"{path.name}:{n.start_mark.line + 1}: {problem}")

    def measure(n: yaml.Node, depth: int) -> tuple[int, int]:
        if id(n) in open_nodes:
            raise refuse(n, _("recursive alias (a value that contains itself)"))
        if depth > MAX_DEPTH:  # before going deeper: a long alias chain must not recurse far
            raise refuse(n, _("aliases nest deeper than {n} levels").format(n=MAX_DEPTH))
        if id(n) not in known:
            open_nodes.add(id(n))
            children: list[yaml.Node] = []
            if isinstance(n, yaml.MappingNode):
                children = [part for pair in n.value for part in pair]
            elif isinstance(n, yaml.SequenceNode):
                children = list(n.value)
            below = [measure(child, depth + 1) for child in children]
            open_nodes.discard(id(n))
            known[id(n)] = (1 + sum(s for s, _ in below), 1 + max((h for _, h in below), default=0))
        size, height = known[id(n)]
        if size > MAX_NODES:
            raise refuse(n, _("aliases expand to more than {n} values").format(n=f"{MAX_NODES:,}"))
        if depth + height > MAX_DEPTH:
            raise refuse(n, _("aliases nest deeper than {n} levels").format(n=MAX_DEPTH))
        return size, height

    measure(node, 0)


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
    return _(" (check the indentation of line {line} and the line above it)").format(
        line=mark.line + 1
    )


def _yaml_error(exc: yaml.YAMLError, path: Path, text: str) -> ConfigError:
    if isinstance(exc, yaml.reader.ReaderError):  # e.g. a NUL byte: no mark, a position
        line = text.count("\n", 0, exc.position) + 1
        return ConfigError(
            _("{file}:{line}: invalid YAML: character #x{code} is not allowed").format(
                file=path.name, line=line, code=f"{exc.character:04x}"
            )
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        at = f":{mark.line + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        hint = _indentation_hint(problem, mark)
        return ConfigError(
            _("{file}: invalid YAML: {problem}").format(file=f"{path.name}{at}", problem=problem)
            + hint
        )
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ConfigError(_("{file}: invalid YAML: {problem}").format(file=path.name, problem=first))


def parse_yaml(text: str, path: Path) -> YamlDoc:
    loader = None
    try:
        loader = _BoundedLoader(text, path)
        node = loader.get_single_node()
        if node is not None:
            check_expansion(node, path)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path, text) from None
    finally:
        if loader is not None:
            loader.dispose()
    lines: dict[Loc, int] = {}
    if node is not None:
        _index_lines(node, (), lines, path)
    return YamlDoc(path=path, data=data, lines=lines)


def load_yaml(path: Path) -> YamlDoc:
    path = Path(path)
    data = read_limited(path, limit=MAX_YAML_BYTES, what=_("YAML file"), error=ConfigError)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            _("{file}:{line}: not UTF-8 text (byte {byte})").format(
                file=path.name, line=line, byte=exc.start
            )
        ) from None
    return parse_yaml(text, path)
