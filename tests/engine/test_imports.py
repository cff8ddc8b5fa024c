"""The engine never imports Qt or matplotlib when imported, and its modules import each other without cycles."""

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "dllab"


def test_import_dllab_loads_no_qt_module():
    code = (
        "import json, sys, dllab, dllab.data, dllab.optimizers, dllab.schedules, dllab.testfns;"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'ui', 'shiboken6'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


def test_import_dllab_loads_no_matplotlib():
    # The figures import matplotlib when they draw (dllab.experiments.plotting), never on import.
    code = (
        "import json, sys, dllab, dllab.experiments.compare, dllab.experiments.comparison_figures, dllab.experiments.search, dllab.experiments.plotting;"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'PIL'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The dllab modules a file imports anywhere in it (under ``TYPE_CHECKING`` and in functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found.update(name if name in modules else node.module for name in names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found & modules


def test_the_engine_modules_import_each_other_without_cycles():
    # The package itself (dllab/__init__.py, which imports the public names) is left out: a submodule's
    # "from dllab import __version__" runs after the package is loaded.
    files = {
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py")
    }
    modules = set(files) - {"dllab"}
    graph = {name: _imports(files[name], modules) - {name} for name in modules}
    # Depth-first search for a path back to where it started.
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for imported in sorted(graph[name]):
            if state.get(imported) == 1:
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[name] = 2

    for name in sorted(modules):
        if name not in state:
            visit(name, [name])
    assert cycles == []
