"""The shape of the code, checked from its source: no import cycles, no long functions.

The import graph is read from the AST of every module of ``ppe_tech/``, imports inside
function bodies included (a cycle hidden in a function is still a cycle: the two modules
cannot be understood, tested or moved apart). Imports under ``if TYPE_CHECKING:`` are left
out: they exist for annotations only and never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "ppe_tech"
MAX_FUNCTION_LINES = 80

# Functions that keep more positional parameters, each with its reason.
KNOWN_POSITIONAL: set[str] = {
    # a worker process's job: submitted to a process pool as one tuple (pool.submit(f, *job))
    "ppe_tech.reports.render:_segment_pdf",
}
MAX_POSITIONAL = 5


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside ``if TYPE_CHECKING:`` blocks."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return skipped


def _resolve(current: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The ``ppe_tech`` modules that module ``name`` imports, anywhere in its body."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skipped = _type_checking_blocks(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, node, path.name == "__init__.py")
            for alias in node.names:  # `from pkg import module` imports the module
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return {module for module in found if module in known and module != name}


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(name, path, known) for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_imports_in_function_bodies():
    graph = import_graph()
    # cli/__init__ imports its groups by name only (importlib): no edge, that is the point
    assert "ppe_tech.cli.pak" not in graph["ppe_tech.cli"]
    # cli/pak.py imports the library inside its commands, and the graph sees it
    assert "ppe_tech.pak.journal" in graph["ppe_tech.cli.pak"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_private_name_is_imported_across_modules():
    """``_name`` is the module's own business; another module importing it is a hidden API."""
    found = []
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ppe_tech"):
                for alias in node.names:
                    where = f"{name}: {node.module}.{alias.name}"
                    # `_` is gettext's conventional name (ppe_tech.i18n), not a private one
                    private = alias.name.startswith("_") and alias.name.strip("_") != ""
                    private = private and not alias.name.startswith("__")
                    if private:
                        found.append(where)
    assert not found, "private names imported from another module: " + ", ".join(found)


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles (make one side a leaf): " + "; ".join(
        " <-> ".join(c) for c in found
    )


def functions():
    """(module:qualified name, the def node) of every function and method in ppe_tech/."""
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        todo: list[tuple[ast.AST, str]] = [(tree, "")]
        while todo:
            node, prefix = todo.pop()
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    qualified = f"{prefix}{child.name}"
                    if not isinstance(child, ast.ClassDef):
                        yield f"{name}:{qualified}", child
                    todo.append((child, f"{qualified}."))


def long_functions() -> list[tuple[str, int]]:
    """(module:qualified name, lines) of every function longer than MAX_FUNCTION_LINES."""
    found = []
    for where, node in functions():
        lines = node.end_lineno - node.lineno + 1  # def to end, decorators not counted
        if lines > MAX_FUNCTION_LINES:
            found.append((where, lines))
    return found


def test_keyword_only_past_five_parameters():
    """A call with six positional arguments is where a swapped pair hides (httpx: ``*``)."""
    found = []
    for where, node in functions():
        positional = [a.arg for a in node.args.posonlyargs + node.args.args]
        positional = [arg for arg in positional if arg not in ("self", "cls")]
        if len(positional) > MAX_POSITIONAL and where not in KNOWN_POSITIONAL:
            found.append(f"{where} ({len(positional)})")
    assert not found, "more than five positional parameters (add a `*`): " + ", ".join(found)


def test_no_function_over_80_lines():
    found = [(where, n) for where, n in long_functions()]
    assert not found, f"functions over {MAX_FUNCTION_LINES} lines (split them): " + ", ".join(
        f"{where} ({n})" for where, n in found
    )
