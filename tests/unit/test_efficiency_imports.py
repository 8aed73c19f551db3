"""`dataeff.efficiency` is standard library + numpy only and does no I/O (style habit 1)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2] / "backend"


def test_importing_efficiency_pulls_in_no_heavy_package() -> None:
    # a fresh interpreter: other tests' imports must not hide a leak
    code = (
        "import json, sys; import dataeff.efficiency; "
        "print(json.dumps(sorted(m for m in ('torch', 'transformers', 'peft', 'flask', "
        "'sqlalchemy') if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
        env={"PYTHONPATH": str(BACKEND), "PATH": "/usr/bin:/bin"},
    )
    assert json.loads(done.stdout) == []


_IO_MODULES = frozenset({"os", "pathlib", "tempfile", "io", "shutil", "glob", "fileinput"})
_IO_CALLS = frozenset({"open", "read_text", "write_text", "read_bytes", "write_bytes"})


def _io_uses(source: str) -> list[str]:
    """File access in ``source``: I/O module imports, open() and Path-style read/write calls,
    and imports of dataeff outside dataeff.efficiency and dataeff.errors (layers above)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in _IO_CALLS:
                found.append(f"line {node.lineno}: {name}()")
            continue
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            inner = name.startswith(("dataeff.efficiency", "dataeff.errors"))
            if top in _IO_MODULES or (top == "dataeff" and not inner):
                found.append(f"line {node.lineno}: import {name}")
    return found


def test_efficiency_modules_do_no_file_io() -> None:
    modules = sorted((BACKEND / "dataeff" / "efficiency").glob("*.py"))
    assert {"__init__.py", "calibration.py", "metric.py"} <= {m.name for m in modules}
    uses = {m.name: _io_uses(m.read_text(encoding="utf-8")) for m in modules}
    assert {name: found for name, found in uses.items() if found} == {}


def test_io_scan_finds_what_it_forbids() -> None:
    source = (
        "import os.path\nfrom pathlib import Path\nimport io as _io\n"
        "from dataeff.datafiles import read_json\nfrom dataeff.errors import ConfigError\n"
        "from dataeff.efficiency.checks import finite\nimport csv, math\n"
        "def f(p):\n    with open(p) as h:\n        return Path(p).read_text() + h.read()\n"
    )
    assert _io_uses(source) == [
        "line 1: import os.path", "line 2: import pathlib", "line 3: import io",
        "line 4: import dataeff.datafiles", "line 9: open()", "line 10: read_text()",
    ]
