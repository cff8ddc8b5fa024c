"""The layering of the project is a checked contract: import-linter's contracts in ``pyproject.toml`` (the
engine never imports Qt, pyqtgraph or the app; the window's features are independent of each other; the app's
layers import only downwards)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from importlinter.cli import lint_imports

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold(monkeypatch) -> None:
    monkeypatch.chdir(PROJECT_ROOT)
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        status = lint_imports(config_filename=str(PROJECT_ROOT / "pyproject.toml"), no_cache=True)
    assert status == 0, report.getvalue()
    assert "BROKEN" not in report.getvalue()


def test_no_module_of_the_project_imports_itself_back() -> None:
    import grimp

    graph = grimp.build_graph("dllab", "ui", exclude_type_checking_imports=True, cache_dir=None)
    cycles = sorted(
        (module, imported)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if module < imported and graph.chain_exists(importer=imported, imported=module)
    )
    assert cycles == []
