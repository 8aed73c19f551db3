"""`dataeff auc | budget | calibrate | models`: thin commands over `dataeff.efficiency`.

Files are read and written through `dataeff.datafiles`. JSON on stdout by default (one
object per line), ``--format table`` for people. Bad input raises a
:class:`~dataeff.errors.DataeffError`, which the CLI prints as one line (exit 2).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dataeff.cli.output import add_format_option, emit
from dataeff.datafiles import (
    file_auc,
    load_human_eval,
    load_pairs,
    load_registry,
    save_calibration,
)
from dataeff.efficiency import (
    DEFAULT_LEVEL,
    DEFAULT_MAX_BUDGET,
    FALLBACK_CALIBRATION,
    BudgetEstimate,
    Calibration,
    Interval,
    StopCriteria,
    budget_from_auc,
    decide,
    estimate_budget,
    fit_calibration,
)
from dataeff.errors import InvalidInputError


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-commands to the `dataeff` parser."""
    auc = commands.add_parser(
        "auc", help="data-efficiency AUC of fine-tuning curves (method §2)",
        description="Reference AUC of curve files {\"<n>\": {\"accuracy\": ...}}: "
        "one JSON object per file.",
    )
    auc.add_argument("curves", nargs="+", metavar="CURVE.json", help="curve file(s)")
    ceiling = auc.add_mutually_exclusive_group()
    ceiling.add_argument(
        "--ceiling", type=float, metavar="X",
        help="human-level score; the ceiling is max(X, best observed)",
    )
    ceiling.add_argument(
        "--human-eval", metavar="FILE",
        help="human_eval.json table, looked up by the task in the file name",
    )
    auc.add_argument(
        "--generation", action="store_true",
        help="score with f1 (default: only for the reference's generation tasks)",
    )
    add_max_budget_option(auc)
    add_format_option(auc)
    auc.set_defaults(handler=_auc)

    budget = commands.add_parser(
        "budget", help="examples needed for a target, with range and verdict (method §7)",
        description="Examples needed to reach a target fraction of the zero-shot -> ceiling "
        "gap, from an AUC or from CoS-Low with a calibration.",
    )
    budget.add_argument("--target", type=float, default=0.9, metavar="T",
                        help="fraction of the achievable gain, in (0, 1] (default 0.9)")
    source = budget.add_mutually_exclusive_group(required=True)
    source.add_argument("--auc", type=float, metavar="A", help="data-efficiency AUC in (0, 1)")
    source.add_argument("--coslow", type=float, metavar="C", help="measured CoS-Low in [-1, 1]")
    line = budget.add_mutually_exclusive_group()
    line.add_argument("--model", metavar="NAME", help="calibrated model (see `dataeff models`)")
    line.add_argument("--coefficients", metavar="SLOPE,INTERCEPT",
                      help="your own line AUC = SLOPE * CoS-Low + INTERCEPT")
    budget.add_argument("--residual-sd", type=float, metavar="S",
                        help="prediction error (AUC sd) of --coefficients "
                        f"(default {FALLBACK_CALIBRATION.residual_sd:.3f}, the fallback's)")
    budget.add_argument("--coslow-range", metavar="LOW,HIGH", help="interval of CoS-Low")
    budget.add_argument("--auc-range", metavar="LOW,HIGH", help="interval of --auc")
    budget.add_argument("--annotated", type=int, default=0, metavar="N",
                        help="labeled examples so far (default 0)")
    add_gain_options(budget)
    add_level_option(budget)
    _add_calibrations(budget)
    add_max_budget_option(budget)
    add_format_option(budget)
    budget.set_defaults(handler=_budget)

    calibrate = commands.add_parser(
        "calibrate", help="fit CoS-Low -> AUC with leave-one-task-out OLS (method §6)",
        description="Fit AUC = slope * CoS-Low + intercept on (task, coslow, auc) pairs "
        "(CSV or JSON) and report leave-one-task-out errors beside the mean baseline.",
    )
    calibrate.add_argument("pairs", metavar="PAIRS.csv", help="columns task, coslow, auc")
    calibrate.add_argument("--name", help="calibration name (default: the file's stem)")
    calibrate.add_argument("--save", metavar="FILE",
                           help="add the calibration to this file (for --calibrations)")
    add_format_option(calibrate)
    calibrate.set_defaults(handler=_calibrate)

    models = commands.add_parser("models", help="known calibrations (method §6)")
    _add_calibrations(models)
    add_format_option(models)
    models.set_defaults(handler=_models)


def add_max_budget_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-budget", type=int, default=DEFAULT_MAX_BUDGET, metavar="N",
                        help=f"curve range N (default {DEFAULT_MAX_BUDGET})")


def add_gain_options(parser: argparse.ArgumentParser) -> None:
    """``--min-gain`` and ``--gain-step``, with :class:`StopCriteria`'s defaults."""
    parser.add_argument("--min-gain", type=float, default=StopCriteria.min_gain, metavar="G",
                        help="minimal useful gain per --gain-step examples "
                        f"(default {StopCriteria.min_gain})")
    parser.add_argument("--gain-step", type=int, default=StopCriteria.gain_step, metavar="K",
                        help=f"examples per gain step (default {StopCriteria.gain_step})")


def add_level_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--level", type=float, default=DEFAULT_LEVEL,
                        help=f"coverage of the ranges (default {DEFAULT_LEVEL})")


def criteria_from(args: argparse.Namespace) -> StopCriteria:
    """The stop criteria of ``--target``, ``--max-budget``, ``--min-gain``, ``--gain-step``."""
    return StopCriteria(target=args.target, max_budget=args.max_budget,
                        min_gain=args.min_gain, gain_step=args.gain_step)


def _add_calibrations(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--calibrations", metavar="FILE",
                        help="calibration file adding to the published ones")


def _auc(args: argparse.Namespace) -> int:
    human_eval = load_human_eval(args.human_eval) if args.human_eval else None
    records = []
    for path in args.curves:
        result = file_auc(
            path, ceiling=args.ceiling, human_eval=human_eval,
            generation=True if args.generation else None, max_budget=args.max_budget,
        )
        curve = result.result
        record: dict[str, Any] = {
            "file": path, "task": result.task, "auc": curve.auc, "max_acc": curve.max_acc,
            "min_acc": curve.min_acc, "ceiling": curve.ceiling,
            "points": [list(point) for point in curve.points],
        }
        if args.format == "table":
            del record["points"]
        records.append(record)
    emit(records, args.format)
    return 0


def _budget(args: argparse.Namespace) -> int:
    criteria = criteria_from(args)
    calibration: Calibration | None = None
    if args.auc is not None:
        if (args.model or args.coefficients or args.coslow_range or args.calibrations
                or args.residual_sd is not None):
            raise InvalidInputError(
                "--auc takes no --model, --coefficients, --coslow-range, --calibrations or "
                "--residual-sd"
            )
        estimate: BudgetEstimate = budget_from_auc(
            args.auc, target=criteria.target, level=args.level, max_budget=criteria.max_budget,
            auc_interval=_interval(args.auc_range, "--auc-range", args.level),
        )
    else:
        if args.auc_range:
            raise InvalidInputError("--auc-range goes with --auc; use --coslow-range")
        calibration = _calibration(args)
        estimate = estimate_budget(
            args.coslow, calibration, target=criteria.target, level=args.level,
            max_budget=criteria.max_budget,
            coslow_interval=_interval(args.coslow_range, "--coslow-range", args.level),
        )
    # the CLI is given a CoS-Low or an AUC: its low-confidence examples were collected
    verdict = decide(estimate, annotated=args.annotated,
                     low_confidence_annotated=criteria.min_examples, criteria=criteria)
    record: dict[str, Any] = {
        "auc": estimate.auc, "p": estimate.p, "examples_needed": estimate.examples_needed,
        "interval": estimate.examples_needed_interval.as_list(),
        "remaining": verdict.remaining, "verdict": verdict.kind.value,
        "message": verdict.message,
        "auc_interval": estimate.auc_interval.as_list(),
        "remaining_interval": None if verdict.remaining_interval is None
        else verdict.remaining_interval.as_list(),
        "target": estimate.target, "max_budget": estimate.max_budget, "level": estimate.level,
        "annotated": args.annotated, "coslow": estimate.coslow,
        "calibration": None if calibration is None else _calibration_record(calibration),
    }
    _emit_one(record, args.format)
    return 0


def _calibration(args: argparse.Namespace) -> Calibration:
    if args.model:
        if args.residual_sd is not None:
            raise InvalidInputError("--residual-sd goes with --coefficients, not --model")
        return load_registry(args.calibrations).get(args.model)
    if not args.coefficients:
        raise InvalidInputError("--coslow needs --model NAME or --coefficients SLOPE,INTERCEPT")
    if args.calibrations:
        raise InvalidInputError("--calibrations goes with --model, not --coefficients")
    slope, intercept = _pair(args.coefficients, "--coefficients")
    residual = FALLBACK_CALIBRATION.residual_sd if args.residual_sd is None else args.residual_sd
    return Calibration(
        name="coefficients", slope=slope, intercept=intercept, slope_se=0.0,
        intercept_se=0.0, residual_sd=residual, source="cli",
        note="given on the command line; residual_sd "
        + ("given" if args.residual_sd is not None else "defaults to the fallback's"),
    )


def _calibrate(args: argparse.Namespace) -> int:
    fit = fit_calibration(load_pairs(args.pairs))
    name = args.name or Path(args.pairs).stem
    summary: dict[str, Any] = {
        "name": name, "n_tasks": fit.n_tasks, "slope": fit.slope, "intercept": fit.intercept,
        "slope_se": fit.slope_se, "intercept_se": fit.intercept_se,
        "residual_sd": fit.loo_rmse, "loo_mae": fit.loo_mae, "loo_rmse": fit.loo_rmse,
        "spearman": fit.spearman, "baseline_mae": fit.baseline_mae,
    }
    if args.save:
        save_calibration(args.save, fit.to_calibration(name))
        summary["saved"] = args.save
    held_out = [
        {"task": h.task, "coslow": h.coslow, "auc": h.auc, "prediction": h.prediction,
         "error": h.error, "baseline_prediction": h.baseline_prediction}
        for h in fit.held_out
    ]
    if args.format == "table":
        _emit_one(summary, "table")
        print()
        emit(held_out, "table")
    else:
        emit([{**summary, "held_out": held_out}])
    return 0


def _models(args: argparse.Namespace) -> int:
    registry = load_registry(args.calibrations)
    records = [_calibration_record(c) for c in (*registry.calibrations, FALLBACK_CALIBRATION)]
    if args.format == "table":
        for record in records:
            record["aliases"] = ",".join(record["aliases"]) or "-"
            del record["note"]
    emit(records, args.format)
    return 0


def _calibration_record(calibration: Calibration) -> dict[str, Any]:
    data = calibration.to_dict()
    keys = ("name", "aliases", "slope", "slope_se", "intercept", "intercept_se",
            "residual_sd", "loo_mae", "spearman", "n_tasks", "source", "note")
    return {k: data[k] for k in keys}


def _emit_one(record: Mapping[str, Any], fmt: str) -> None:
    """JSON as one line; for people a two-column field/value table."""
    if fmt != "table":
        emit([record])
        return
    rows = []
    for key, value in record.items():
        shown = value.get("name") if isinstance(value, Mapping) else value
        rows.append({"field": key, "value": shown})
    emit(rows, "table")


def _pair(text: str, option: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        first, second = (float(p) for p in parts)
    except ValueError:
        raise InvalidInputError(f"{option} must be two numbers A,B, got {text!r}") from None
    if not (math.isfinite(first) and math.isfinite(second)):
        raise InvalidInputError(f"{option} must be finite numbers, got {text!r}")
    return first, second


def _interval(text: str | None, option: str, level: float) -> Interval | None:
    if text is None:
        return None
    low, high = _pair(text, option)
    try:
        return Interval(low, high, level)
    except InvalidInputError as error:
        raise InvalidInputError(f"{option}: {error}") from None
