"""The house's rules, checked on the source: no import cycle, dependencies point one way."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("schema", "handlers", "workers")
ROOMS = ("cli", "tools", "contract", "demo", "gateway", "ops", "bench", "access",
         "statements")
TOP_LEVEL = {"__init__", "__main__", "settings", "db", "broker", "logs", "masking", "topology",
             "registry", "reasons"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Every import of our own modules (top-level, lazy and TYPE_CHECKING alike)."""
    modules = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            else:
                continue
            for target in found:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    targets.add(target)
        graph[name] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_no_module_imports_itself_back() -> None:
    assert find_cycle(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_dependencies_point_one_way() -> None:
    graph = import_graph()
    wrong = [
        f"{src} -> {dst}" for src, dsts in graph.items() for dst in dsts
        if (src.startswith("schema") and not dst.startswith("schema"))
        or (src.startswith("handlers") and dst.startswith("workers"))
        or (src.startswith("workers.runtime")
            and any(dst.startswith(f"workers.{room}") for room in ROOMS))
    ]
    assert wrong == []


def test_workers_top_level_holds_only_the_shared_modules() -> None:
    loose = {p.stem for p in (ROOT / "workers").glob("*.py")}
    assert loose == TOP_LEVEL


def test_no_module_is_over_400_lines() -> None:
    long = [str(p.relative_to(ROOT)) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
            if len(p.read_text(encoding="utf-8").splitlines()) > 400]
    assert long == []
