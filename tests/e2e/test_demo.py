"""`dataeff demo` end to end (small settings) on the session's Label Studio."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from dataeff.demo.runner import DemoOptions, run_demo
from dataeff.labelstudio.localserver import LocalLabelStudio

pytestmark = pytest.mark.e2e


def test_the_demo_labels_prints_estimates_and_draws_the_curve(
    label_studio: LocalLabelStudio, e2e_output: Path
) -> None:
    workdir = e2e_output / "demo"
    options = DemoOptions(task="sports_understanding", pool=30, min_examples=4, batch=4,
                          labels=8, workdir=workdir)  # fmt: skip
    out = io.StringIO()
    assert run_demo(options, out, label_studio=label_studio) == 0
    text = out.getvalue()
    (workdir / "demo.log").write_text(text)
    assert "scoring the pool: 30/30 tasks scored" in text
    assert re.search(r"\]\s+4/8 labeled\s+served confidence", text)
    assert re.search(r"\]\s+8/8 labeled\s+served confidence", text)
    assert "dataeff says: " in text
    assert f"predicted curve with its band: {workdir / 'curve.png'}" in text
    assert text.rstrip().endswith("stopped dataeff.")
    assert (workdir / "curve.png").read_bytes()[:4] == b"\x89PNG"
    lines = (workdir / "estimates.jsonl").read_text().splitlines()
    estimates = [json.loads(line) for line in lines]
    assert [e["counts"]["annotated"] for e in estimates] == [4, 8]
    assert estimates[-1]["verdict"] != "collecting"
    assert estimates[-1]["message"] in text
