"""The engine never imports Qt: importing dllab in a fresh interpreter loads no PySide6, pyqtgraph or ui."""

import json
import subprocess
import sys


def test_import_dllab_loads_no_qt_module():
    code = (
        "import json, sys, dllab, dllab.data, dllab.optimizers, dllab.schedules, dllab.testfns;"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'ui', 'shiboken6'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []
