"""Reading a hostile file within a memory bound: the reader runs in a child process whose address space is
capped, and reports how it ended and how much memory it took beyond the imports."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass

#: The child's address space may grow this much beyond what it has after its imports.
HEADROOM = 1536 * 2**20

_CHILD = """
import json, resource, sys, traceback
import numpy, dllab
{imports}

def _vm_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return None

vm = _vm_bytes()
if vm is not None:
    resource.setrlimit(resource.RLIMIT_AS, (vm + {headroom}, vm + {headroom}))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
{code}
    outcome, message = "ok", ""
except dllab.DllabError as exc:
    outcome, message = "DllabError", str(exc)
except BaseException as exc:
    outcome, message = type(exc).__name__, "".join(traceback.format_exception(exc))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"outcome": outcome, "message": message, "grew_mib": (peak - base) / 1024}}))
"""


@dataclass
class Outcome:
    """How the child ended: ``"ok"``, ``"DllabError"`` or the name of any other exception."""

    outcome: str
    message: str
    grew_mib: float


def run_bounded(code: str, imports: str = "", timeout: float = 120) -> Outcome:
    """Run ``code`` (statements) in a fresh interpreter under an address-space cap (Linux).

    Parameters
    ----------
    code
        Statements to run, e.g. ``"dllab.load('bomb.npz')"``.
    imports
        Import lines run before the cap is set.
    """
    script = _CHILD.format(
        imports=imports, headroom=HEADROOM, code=textwrap.indent(textwrap.dedent(code), "    ")
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise AssertionError(f"the child failed (status {done.returncode}): {done.stderr[-2000:]}")
    return Outcome(**json.loads(lines[-1]))
