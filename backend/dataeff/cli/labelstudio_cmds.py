"""``dataeff connect`` (wire a Label Studio project) and ``dataeff demo`` (the guided demo)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from dataeff.cli.output import add_format_option, emit
from dataeff.demo.tasks import KINDS
from dataeff.errors import AuthError

# option -> (type, help): the stop criteria and other per-project parameters
_PARAM_OPTIONS: dict[str, tuple[type, str]] = {
    "target": (float, "fraction of the zero-shot -> ceiling gap to reach, in (0, 1]; default 0.9"),
    "max_budget": (int, "the predicted curve's largest N (calibrated range); default 5000"),
    "min_gain": (float, "minimal useful gain in normalized performance per --gain-step more "
                        "examples; below it the verdict is diminishing returns; default 0.01"),
    "gain_step": (int, "K of --min-gain; default 100"),
    "min_examples": (int, "low-confidence examples to label before a verdict; default 32"),
    "low_confidence_fraction": (float, "the low-confidence share of the pool; default 0.10"),
    "control": (str, "the control holding the answer (default: the first one)"),
    "instruction": (str, "the task instruction given to the model (system turn)"),
    "model": (str, "the scoring model (default: the embedded SmolLM2)"),
}  # fmt: skip


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``connect`` and ``demo`` to the ``dataeff`` parser."""
    connect = commands.add_parser(
        "connect",
        help="wire a Label Studio project to a running dataeff backend (idempotent)",
        description="Register the backend with the project, serve the least confident tasks "
        "first (uncertainty sampling; Data Manager tabs sorted by prediction score), add the "
        "status control to the label config, protect the webhook with a secret header and "
        "store the stop criteria. Running it again changes only what differs; criteria you "
        "leave out keep their stored values.",
    )
    connect.add_argument("--ls-url", required=True, help="Label Studio URL, e.g. http://localhost:8080")
    connect.add_argument("--api-key", default=os.environ.get("LABEL_STUDIO_API_KEY"),
                         help="Label Studio access token (default: $LABEL_STUDIO_API_KEY)")
    connect.add_argument("--project", required=True, type=int, help="Label Studio project id")
    connect.add_argument("--backend-url", required=True,
                         help="URL Label Studio uses to reach dataeff, e.g. http://localhost:9090")
    connect.add_argument("--secret", default=os.environ.get("DATAEFF_WEBHOOK_SECRET"),
                         help="webhook secret sent as X-Dataeff-Secret "
                              "(default: $DATAEFF_WEBHOOK_SECRET; none when unset)")
    connect.add_argument("--no-sync", action="store_true",
                         help="do not ask the backend to sync with the project now")
    for name, (kind, text) in _PARAM_OPTIONS.items():
        connect.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=text)
    add_format_option(connect)
    connect.set_defaults(handler=_connect)

    demo = commands.add_parser(
        "demo",
        help="start Label Studio and dataeff, label a demo project, print estimates",
        description="Start a local Label Studio and `dataeff serve`, create a demo project, "
        "label it in the order Label Studio serves and print the estimate after each batch.",
    )
    demo.add_argument("--task", default="object_counting", choices=sorted(KINDS),
                      help="demo task generator (default object_counting)")
    demo.add_argument("--pool", type=int, default=100, help="tasks in the project (default 100)")
    demo.add_argument("--min-examples", type=int, default=10,
                      help="low-confidence examples before the first estimate (default 10)")
    demo.add_argument("--batch", type=int, default=5, help="annotations per batch (default 5)")
    demo.add_argument("--labels", type=int,
                      help="annotations the simulated annotator makes (default: --min-examples "
                           "+ 4 batches; with --keep-running: --min-examples)")
    demo.add_argument("--seed", type=int, default=0, help="task generator seed (default 0)")
    demo.add_argument("--workdir", type=Path, default=Path("demo-output"),
                      help="where data, logs and the plot go (default ./demo-output)")
    demo.add_argument("--keep-running", action="store_true",
                      help="keep both servers running for a browser after the first estimate")
    demo.add_argument("--ls-port", type=int,
                      help="Label Studio port (default: 8080 with --keep-running when free, "
                           "else a free port)")
    demo.add_argument("--backend-port", type=int,
                      help="dataeff port (default: 9090 with --keep-running when free, "
                           "else a free port)")
    demo.set_defaults(handler=_demo)


def _connect(args: argparse.Namespace) -> int:
    from dataeff.labelstudio.connect import connect

    if not args.api_key:
        raise AuthError("no Label Studio API key: pass --api-key or set LABEL_STUDIO_API_KEY")
    params = {k: getattr(args, k) for k in _PARAM_OPTIONS if getattr(args, k) is not None}
    result = connect(
        args.ls_url,
        args.api_key,
        args.project,
        args.backend_url,
        params=params,
        secret=args.secret,
        sync=not args.no_sync,
    )
    emit([result.to_dict()], args.format)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from dataeff.demo.runner import DemoOptions, run_demo

    options = DemoOptions(
        task=args.task,
        pool=args.pool,
        min_examples=args.min_examples,
        batch=args.batch,
        labels=args.labels,
        seed=args.seed,
        workdir=args.workdir,
        keep_running=args.keep_running,
        ls_port=args.ls_port or (8080 if args.keep_running else None),
        backend_port=args.backend_port or (9090 if args.keep_running else None),
    )
    return run_demo(options)
