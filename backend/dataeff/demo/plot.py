"""A PNG of a project's predicted learning curve with its band (method §7).

Reads the estimate JSON of ``GET /api/projects/<id>/estimate`` (docs/architecture.md): the
predicted AUC and its interval give the curve f(x) = x^p and its band; the plot marks the
annotated count, the target τ and the examples needed for it with their range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dataeff.efficiency.curve import PowerCurve, clamp_auc
from dataeff.errors import InvalidInputError, NotReadyError


def _pair(value: object, name: str) -> tuple[float, float]:
    if not (isinstance(value, list | tuple) and len(value) == 2):
        raise InvalidInputError(f"estimate field {name!r} must be a [low, high] pair: {value!r}")
    return float(value[0]), float(value[1])


def plot_estimate(estimate: Mapping[str, Any], path: Path, *, title: str = "") -> Path:
    """Write the predicted curve of ``estimate`` to ``path`` (PNG, about 60 KB) and return it.

    x: labeled examples n on a log axis from 1 to ``criteria.max_budget``; y: predicted
    normalized performance (0 = zero-shot, 1 = ceiling). Raises :class:`NotReadyError` while
    the estimate has no AUC yet (verdict ``collecting``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if estimate.get("auc") is None:
        raise NotReadyError("no predicted curve yet: the estimate has no AUC (still collecting)")
    criteria = estimate.get("criteria") or {}
    max_budget = int(criteria.get("max_budget", 5000))
    target = float(criteria.get("target", 0.9))
    auc = clamp_auc(float(estimate["auc"]))
    low, high = (clamp_auc(v) for v in _pair(estimate["auc_interval"], "auc_interval"))
    annotated = int((estimate.get("counts") or {}).get("annotated", 0))

    n = np.geomspace(1, max_budget, 200)
    curves = {a: [PowerCurve(a, max_budget).performance_at(float(v)) for v in n]
              for a in (auc, low, high)}  # fmt: skip
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=100)
    ax.fill_between(n, curves[low], curves[high], color="tab:blue", alpha=0.18,
                    label=f"range (AUC {low:.2f}-{high:.2f})")  # fmt: skip
    ax.plot(n, curves[auc], color="tab:blue", lw=2, label=f"predicted curve (AUC {auc:.2f})")
    ax.axhline(target, color="tab:green", ls="--", lw=1, label=f"target {target:g}")
    needed = estimate.get("examples_needed")
    if needed is not None and math.isfinite(float(needed)):
        lo, hi = _pair(estimate["examples_needed_interval"], "examples_needed_interval")
        ax.errorbar([float(needed)], [target], xerr=[[float(needed) - lo], [hi - float(needed)]],
                    fmt="o", color="tab:green", capsize=4,
                    label=f"needed ~{float(needed):,.0f} ({lo:,.0f}-{hi:,.0f})")  # fmt: skip
    if annotated > 0:
        ax.axvline(annotated, color="tab:orange", lw=1.5, label=f"labeled now: {annotated}")
    ax.set_xscale("log")
    ax.set_xlim(1, max_budget)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("labeled examples (log scale)")
    ax.set_ylabel("predicted performance\n(0 = zero-shot, 1 = ceiling)")
    ax.set_title(title or f"dataeff estimate: {estimate.get('verdict', '')}", fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
