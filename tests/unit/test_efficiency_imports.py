"""`dataeff.efficiency` is standard library + numpy only (style habit 1)."""

from __future__ import annotations

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
