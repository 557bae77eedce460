"""The package's shape: no import cycle anywhere, and no module too long to read at once."""

from __future__ import annotations

import ast
from pathlib import Path

import kubespray_cleanup

PACKAGE = Path(kubespray_cleanup.__file__).parent
ROOT_NAME = "kubespray_cleanup"
MAX_LINES = 450


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, module-level or inside a function, except those under ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules ``module`` imports: ``from pkg import sub`` names ``pkg.sub`` when it is a module."""
    targets: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = _resolve(module, path.name == "__init__.py", node)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        targets.update(name for name in names if name in known and name != module)
    return targets


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each in a stable order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
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
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(cycles)


def _cycle_path(graph: dict[str, set[str]], component: list[str]) -> str:
    """One concrete loop through ``component``, e.g. ``a -> b -> a``, to name in a failure."""
    members = set(component)
    start = component[0]
    path, seen = [start], {start}
    while True:
        nxt = sorted(t for t in graph[path[-1]] if t in members)
        back = [t for t in nxt if t == start]
        if back and len(path) > 1:
            return " -> ".join([*path, start])
        fresh = [t for t in nxt if t not in seen]
        if not fresh:
            return " -> ".join([*path, nxt[0]]) if nxt else " <-> ".join(component)
        path.append(fresh[0])
        seen.add(fresh[0])


def test_the_package_has_no_import_cycle() -> None:
    """No module of kubespray_cleanup imports, directly or not, a module that imports it back.

    Module-level and function-level imports both count (a deferred import hides a cycle, it does not
    remove one); imports under ``if TYPE_CHECKING:`` do not, as they never run.
    """
    graph = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(
        f"  {_cycle_path(graph, c)}  (all of: {', '.join(c)})" for c in cycles)


def test_the_cycle_finder_names_a_cycle() -> None:
    """The checker itself finds and names a two-module cycle, and stays quiet on a chain."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert _cycle_path(graph, ["a", "b", "c"]) == "a -> b -> c -> a"
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_function_level_imports_count_and_type_checking_ones_do_not() -> None:
    """An import inside a function is an edge; one under ``if TYPE_CHECKING:`` is not."""
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import x\n"
        "def f():\n    import y\n")
    names = [a.name for node in _import_nodes(tree) if isinstance(node, ast.Import) for a in node.names]
    assert names == ["y"]


def test_the_simulator_core_imports_no_service() -> None:
    """The simulator core modules import no service and no scenario (only ``app`` knows the services)."""
    graph = import_graph()
    services = ("keystone", "nova", "neutron", "cinder", "glance", "octavia", "gitlab", "scenarios")
    core = ("store", "http", "routing", "api_common", "faults", "latency", "control")
    for name in core:
        module = f"{ROOT_NAME}.simulator.{name}"
        bad = sorted(t for t in graph[module]
                     if any(t.startswith(f"{ROOT_NAME}.simulator.{s}") for s in services))
        assert not bad, f"core module {module} imports services: {bad}"


def test_no_service_depends_on_the_scenarios() -> None:
    """Scenarios build on the services; a service importing them would invert the layers."""
    graph = import_graph()
    prefix = f"{ROOT_NAME}.simulator."
    for module, targets in graph.items():
        if module.startswith(prefix) and module.split(".")[2] in ("keystone", "nova", "neutron", "cinder",
                                                                  "glance", "octavia"):
            bad = sorted(t for t in targets if t.startswith(f"{prefix}scenarios"))
            assert not bad, f"{module} imports scenarios: {bad}"


def test_no_module_is_over_450_lines() -> None:
    """Every module of the package reads at once: at most 450 lines."""
    long = {name: n for name, path in _modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"
