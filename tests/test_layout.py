"""The layered layout holds: no import cycles between the project's modules, and the read side (kb)
imports nothing from the write side (ingest). Imports inside functions count too."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kb", "ingest", "webapp")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def imported(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules one module imports, at the top or inside functions."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imported(path, name, known) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a list of modules, or [] when there is none."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return []


def test_import_graph_is_built_from_the_real_modules():
    graph = import_graph()
    assert "kb.knowledge" in graph and "ingest.pipeline" in graph
    assert "kb.storage.store" in graph["kb.knowledge"]


def test_the_project_has_no_import_cycle():
    # a package's __init__ importing its own submodules is not a cycle between layers
    graph = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in import_graph().items()}
    assert find_cycle(graph) == []


def test_the_read_side_imports_nothing_from_ingest():
    offenders = {name: sorted(t for t in targets if t.split(".")[0] == "ingest")
                 for name, targets in import_graph().items() if name.split(".")[0] == "kb"}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_a_cycle_is_found_when_there_is_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_package_declares_the_kb_and_ingest_commands():
    import importlib
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for command in ("kb", "ingest"):
        module, _, function = project["scripts"][command].partition(":")
        assert callable(getattr(importlib.import_module(module), function))
