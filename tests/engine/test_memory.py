"""The allocator setting that keeps freed memory for the next mini-batch."""

import subprocess
import sys

import dllab
from dllab import memory


def test_building_a_model_keeps_freed_memory_where_the_allocator_allows_it():
    dllab.build({"input_shape": [2], "layers": [{"type": "Dense", "units": 2}]})
    expected = sys.platform.startswith("linux") and memory._mallopt(
        memory._M_TRIM_THRESHOLD, memory.TRIM_THRESHOLD
    )
    assert memory.keep_freed_memory() is expected


def test_importing_dllab_leaves_the_allocator_alone():
    code = "import dllab, dllab.memory as m; print(m._kept)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "None"
