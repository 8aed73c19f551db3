"""`dataeff confidence | select | coslow | estimate | model`: commands over `dataeff.estimator`.

Heavy imports (torch, the model) happen inside the handlers that need them. Results go to
stdout as JSON (``--format table`` for people); progress bars and log lines go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

from dataeff.cli.efficiency_cmds import (
    add_gain_options,
    add_level_option,
    add_max_budget_option,
    criteria_from,
)
from dataeff.cli.output import add_format_option, emit
from dataeff.datafiles.jsonfiles import write_jsonl
from dataeff.errors import InvalidInputError
from dataeff.estimator import EMBEDDED_MODEL, paths
from dataeff.estimator.coslow import DEFAULT_BOOTSTRAP, measure_coslow
from dataeff.estimator.examples_io import load_examples, read_rows, read_task
from dataeff.estimator.selection import DEFAULT_FRACTION, DEFAULT_K, select_low_confidence


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-commands to the `dataeff` parser."""
    confidence = commands.add_parser(
        "confidence", help="zero-shot confidence of every pool example (method §3)",
        description="Greedy answers, confidence and perplexity per example, written as JSONL.")
    _task_option(confidence)
    confidence.add_argument("--pool", required=True, type=Path, metavar="POOL.jsonl",
                            help="unlabeled examples (.jsonl or a .json list)")
    confidence.add_argument("--out", required=True, type=Path, metavar="CONF.jsonl")
    confidence.add_argument("--limit", type=int, metavar="N", help="score the first N only")
    confidence.add_argument("--max-new-tokens", type=int, default=30, metavar="N")
    _model_options(confidence)
    confidence.set_defaults(handler=_confidence)

    select = commands.add_parser(
        "select", help="examples to annotate: a seeded sample of the least confident (§4)")
    select.add_argument("--confidence", required=True, type=Path, metavar="CONF.jsonl")
    select.add_argument("--k", type=int, default=DEFAULT_K, help="how many (default 32)")
    select.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    select.add_argument("--fraction", type=float, default=DEFAULT_FRACTION,
                        help="low-confidence fraction of the pool (default 0.1)")
    add_format_option(select)
    select.set_defaults(handler=_select)

    for name, helptext in (("coslow", "CoS-Low of annotated low-confidence examples (§5)"),
                           ("estimate", "CoS-Low plus examples needed and verdict (§6-§7)")):
        sub = commands.add_parser(name, help=helptext)
        _task_option(sub)
        sub.add_argument("--examples", required=True, type=Path, metavar="ANNOTATED.jsonl")
        sub.add_argument("--exact", action="store_true",
                         help="full lora_B gradients instead of 8192-float sketches")
        sub.add_argument("--seed", type=int, default=0,
                         help="LoRA init, sketch and bootstrap seed (default 0)")
        sub.add_argument("--sketch-dim", type=int, default=8192, metavar="D")
        sub.add_argument("--bootstrap", type=int, default=DEFAULT_BOOTSTRAP, metavar="B")
        add_level_option(sub)
        _model_options(sub)
        sub.set_defaults(handler=_coslow if name == "coslow" else _estimate)
        if name == "estimate":
            sub.add_argument("--target", type=float, required=True, metavar="T",
                             help="fraction of the achievable gain, in (0, 1]")
            sub.add_argument("--annotated", type=int, metavar="N",
                             help="labeled examples so far (default: those in the file)")
            add_max_budget_option(sub)
            add_gain_options(sub)

    model = commands.add_parser("model", help="prepare or inspect the local model cache")
    actions = model.add_subparsers(dest="action", metavar="ACTION", required=True)
    prepare = actions.add_parser("prepare", help="convert the embedded model once (idempotent)")
    prepare.add_argument("--model", help=f"model (default: the embedded {EMBEDDED_MODEL})")
    add_format_option(prepare)
    prepare.set_defaults(handler=_model_prepare)
    info = actions.add_parser("info", help="what is prepared in the cache")
    add_format_option(info)
    info.set_defaults(handler=_model_info)


def _task_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", type=Path, metavar="TASK.json",
                        help="task spec; omit for rows with rendered prompts (input_text)")


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help=f"model dir or id (default: the embedded {EMBEDDED_MODEL})")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")
    parser.add_argument("--batch-size", type=int, metavar="N",
                        help="starting batch size, halved on out-of-memory")
    add_format_option(parser)


def _log_to_stderr() -> None:
    root = logging.getLogger("dataeff")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("dataeff: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def _scorer(args: argparse.Namespace, **options: Any) -> Any:
    from dataeff.estimator import load_scorer

    _log_to_stderr()
    if args.batch_size is not None:
        options["batch_size"] = args.batch_size
    return load_scorer(args.model, device=args.device, progress=sys.stderr.isatty(), **options)


def _confidence(args: argparse.Namespace) -> int:
    spec, examples = load_examples(args.pool, read_task(args.task) if args.task else None)
    if args.limit is not None:
        if args.limit < 1:
            raise InvalidInputError(f"--limit must be positive, got {args.limit}")
        examples = examples[: args.limit]
    scorer = _scorer(args, max_new_tokens=args.max_new_tokens)
    started = time.perf_counter()
    results = scorer.confidence(spec, examples)
    seconds = time.perf_counter() - started
    rows = [{"key": e.key, "answer": r.answer, "confidence": r.confidence,
             "perplexity": r.perplexity, "n_tokens": r.n_tokens}
            for e, r in zip(examples, results, strict=True)]
    write_jsonl(args.out, rows, "confidence")
    tokens = scorer.scorer.prompt_tokens + scorer.scorer.generated_tokens
    emit([{"out": str(args.out), "n_examples": len(rows), "seconds": seconds,
           "examples_per_s": len(rows) / seconds, "tokens_per_s": tokens / seconds,
           "model": scorer.loaded.name, "device": str(scorer.loaded.device)}], args.format)
    return 0


def _select(args: argparse.Namespace) -> int:
    keys, values = [], []
    for index, row in enumerate(read_rows(args.confidence)):
        if "confidence" not in row:
            raise InvalidInputError(f"{args.confidence} row {index}: no 'confidence'")
        keys.append(str(row.get("key", index)))
        values.append(row["confidence"])
    selection = select_low_confidence(keys, values, k=args.k, seed=args.seed,
                                      fraction=args.fraction)
    emit([{"selected": list(selection.selected), "k": selection.k, "seed": selection.seed,
           "pool": selection.pool, "fraction": selection.fraction,
           "low_confidence": len(selection.low_confidence), "threshold": selection.threshold,
           "extended": selection.extended}], args.format)
    return 0


def _measure(args: argparse.Namespace) -> tuple[Any, dict[str, Any], Any]:
    spec, examples = load_examples(args.examples, read_task(args.task) if args.task else None,
                                   labeled=True)
    if len(examples) < 2:
        raise InvalidInputError(f"{args.examples}: CoS-Low needs at least 2 annotated examples")
    scorer = _scorer(args, exact=args.exact, seed=args.seed, sketch_dim=args.sketch_dim)
    started = time.perf_counter()
    coslow = measure_coslow(scorer, spec, examples, seed=args.seed, n_bootstrap=args.bootstrap,
                            level=args.level)
    record = {"coslow": coslow.value, "interval": coslow.interval.as_list(),
              "n_examples": coslow.n_examples, "n_pairs": coslow.n_pairs,
              "seconds": time.perf_counter() - started, "model": scorer.loaded.name,
              "model_key": scorer.model_key}
    return scorer, record, coslow


def _coslow(args: argparse.Namespace) -> int:
    _, record, _ = _measure(args)
    emit([record], args.format)
    return 0


def _estimate(args: argparse.Namespace) -> int:
    from dataeff.efficiency import (
        FALLBACK_CALIBRATION,
        calibration_for,
        decide,
        estimate_budget,
    )

    criteria = criteria_from(args)
    scorer, record, coslow = _measure(args)
    calibration = calibration_for(scorer.loaded.name)
    estimate = estimate_budget(coslow.value, calibration or FALLBACK_CALIBRATION,
                               target=criteria.target, coslow_samples=coslow.samples,
                               coslow_interval=coslow.interval, level=args.level,
                               max_budget=criteria.max_budget)
    annotated = coslow.n_examples if args.annotated is None else args.annotated
    verdict = decide(estimate, annotated=annotated, low_confidence_annotated=coslow.n_examples,
                     criteria=criteria)
    record.update({
        "calibration": None if calibration is None else calibration.name,
        "calibration_used": (calibration or FALLBACK_CALIBRATION).name,
        "auc": estimate.auc, "auc_interval": estimate.auc_interval.as_list(),
        "examples_needed": estimate.examples_needed,
        "examples_needed_interval": estimate.examples_needed_interval.as_list(),
        "target": criteria.target, "max_budget": criteria.max_budget, "annotated": annotated,
        **verdict.to_dict(),
    })
    emit([record], args.format)
    return 0


def _model_prepare(args: argparse.Namespace) -> int:
    from dataeff.estimator.models import check_model

    _log_to_stderr()
    started = time.perf_counter()
    name, where = check_model(args.model)
    emit([{"model": name, "path": where, "seconds": time.perf_counter() - started}], args.format)
    return 0


def _model_info(args: argparse.Namespace) -> int:
    root = paths.models_dir()
    records = []
    for directory in sorted(root.iterdir()) if root.is_dir() else []:
        if directory.is_dir() and not directory.name.startswith("."):
            size = sum(f.stat().st_size for f in directory.iterdir() if f.is_file())
            records.append({"model": directory.name, "path": str(directory),
                            "ready": paths.is_prepared(directory),
                            "megabytes": round(size / 2**20, 1)})
    if not records:
        records.append({"model": EMBEDDED_MODEL, "path": str(paths.embedded_model_dir()),
                        "ready": False, "megabytes": 0.0})
    emit(records, args.format)
    return 0
