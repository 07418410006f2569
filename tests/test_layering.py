"""Imports point one way: UI/CLI -> ``QA`` -> stages -> helpers -> ``embeddings``.

Every import statement of the two packages counts, the ones inside functions too (an import
deferred to dodge a circle is still a circle)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("qa", "embeddings")


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imported(module: str, path: Path, node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> set[str]:
    """The modules of the two packages that ``node`` (in ``module``) imports: the most specific
    name that is a module (``from . import errors`` imports ``qa.errors``, not ``qa``)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in modules}
    if node.level:
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    named = {f"{prefix}.{alias.name}" for alias in node.names} & set(modules)
    return named or ({prefix} & set(modules))


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets |= _imported(module, path, node, modules)
        graph[module] = targets - {module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_cycles_finds_a_circle_and_the_graph_sees_deferred_imports():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    graph = import_graph()
    assert "qa.evaluation.run" in graph["qa.core"]  # imported inside QA.evaluate, and still seen


def test_no_module_imports_one_that_imports_it():
    assert cycles(import_graph()) == []


def test_the_embedding_models_never_import_the_library():
    graph = import_graph()
    offenders = {module: sorted(t for t in targets if t.split(".")[0] == "qa") for module, targets in graph.items() if module.startswith("embeddings")}
    assert {m: t for m, t in offenders.items() if t} == {}


def test_evaluation_never_imports_the_front_door():
    graph = import_graph()
    assert "qa.core" not in graph["qa.evaluation.run"] and "qa" not in graph["qa.evaluation.run"]


def test_every_package_is_installed():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    packages = {
        ".".join(init.parent.relative_to(ROOT).parts) for package in PACKAGES for init in (ROOT / package).rglob("__init__.py")
    }
    assert packages == listed
