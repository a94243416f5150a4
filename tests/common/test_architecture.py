"""The shape rules of docs/architecture.md, checked on the source: module-level imports
between apps go one way (no cycle), and no module outgrows ~600 lines."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "src" / "otklik"
MAX_LINES = 600


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _app_imports() -> dict[str, set[str]]:
    """app -> apps it imports at module level (imports inside functions are the seams)."""
    apps = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    edges: dict[str, set[str]] = {app: set() for app in apps}
    for path in _modules():
        parts = path.relative_to(ROOT).parts
        if len(parts) < 2:
            continue
        app = parts[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for statement in tree.body:
            for node in ast.walk(statement):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    break  # a function body's imports run late: not module level
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    bits = name.split(".")
                    inside = bits[0] == "otklik" and len(bits) > 1 and bits[1] in apps
                    if inside and bits[1] != app:
                        edges[app].add(bits[1])
    return edges


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(app: str) -> list[str] | None:
        state[app] = 1
        path.append(app)
        for other in sorted(edges.get(app, ())):
            if state.get(other) == 1:
                return [*path[path.index(other) :], other]
            if other not in state and (found := visit(other)):
                return found
        path.pop()
        state[app] = 2
        return None

    for app in sorted(edges):
        if app not in state and (found := visit(app)):
            return found
    return None


def test_apps_import_each_other_one_way_only():
    assert _cycle(_app_imports()) is None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_is_over_600_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in _modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
