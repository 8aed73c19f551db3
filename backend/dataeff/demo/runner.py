"""``dataeff demo``: the main job end to end on embedded defaults, narrated for a person.

Starts a local Label Studio and ``dataeff serve`` (SQLite, in-process queue, SmolLM2-135M on
CPU), creates a demo project (:mod:`dataeff.demo.tasks`), connects it, waits for the
zero-shot confidence pass, then labels in the order Label Studio serves (least confident
first, LS §5) in batches, printing the estimate after each batch; writes the predicted curve
to ``<workdir>/curve.png`` and every estimate to ``<workdir>/estimates.jsonl``; stops what it
started (also on Ctrl-C). ``keep_running`` leaves both servers up for a browser.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import secrets
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from dataeff.demo.annotator import SimulatedAnnotator
from dataeff.demo.backend_process import BackendProcess
from dataeff.demo.estimates import (
    format_estimate,
    is_settled,
    progress_bar,
    wait_for_estimate,
)
from dataeff.demo.tasks import make_task
from dataeff.errors import InvalidInputError, NotReadyError
from dataeff.labelstudio.connect import connect
from dataeff.labelstudio.localserver import LocalLabelStudio


@dataclass(frozen=True)
class DemoOptions:
    """What the demo does. ``labels``: annotations the simulated annotator makes (default:
    ``min_examples + 4 * batch``; with ``keep_running``: ``min_examples``, so the browser
    shows a first estimate and most tasks are left to label by hand)."""

    task: str = "object_counting"
    pool: int = 100
    min_examples: int = 10
    batch: int = 5
    labels: int | None = None
    seed: int = 0
    workdir: Path = Path("demo-output")
    keep_running: bool = False
    ls_port: int | None = None
    backend_port: int | None = None
    batch_timeout_s: float = 900.0

    def planned_labels(self) -> int:
        if self.labels is not None:
            return self.labels
        return self.min_examples if self.keep_running else self.min_examples + 4 * self.batch

    def check(self) -> None:
        if self.pool < 10 or self.batch < 1 or self.min_examples < 2:
            raise InvalidInputError("demo: --pool >= 10, --batch >= 1, --min-examples >= 2")
        if not 0 <= self.planned_labels() <= self.pool:
            raise InvalidInputError(f"demo: --labels {self.planned_labels()} must lie in 0.."
                                    f"{self.pool} (the pool)")  # fmt: skip


def _port_or_free(port: int | None) -> int | None:
    """``port`` when nothing listens on it, else ``None`` (pick a free one)."""
    if port is None:
        return None
    with socket.socket() as sock:
        return port if sock.connect_ex(("127.0.0.1", port)) != 0 else None


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_demo(
    options: DemoOptions,
    out: TextIO | None = None,
    *,
    label_studio: LocalLabelStudio | None = None,
) -> int:
    """Run the demo; returns the exit code (0). What it started is stopped on every way out.

    ``label_studio``: an already running Label Studio to use (and leave running) instead of
    starting one in ``<workdir>/labelstudio``.
    """
    options.check()
    options = dataclasses.replace(options, workdir=options.workdir.resolve())
    options.workdir.mkdir(parents=True, exist_ok=True)
    for stale in ("labelstudio", "backend", "curve.png", "estimates.jsonl", "answers.json"):
        target = options.workdir / stale
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    demo = _Demo(options, out or sys.stdout, label_studio)
    # Ctrl-C and SIGTERM both end in KeyboardInterrupt, which stops the servers below (a
    # shell's background job inherits an ignored SIGINT: take it back)
    previous = {sig: signal.signal(sig, handler) for sig, handler in
                ((signal.SIGTERM, _on_sigterm), (signal.SIGINT, signal.default_int_handler))}
    try:
        demo.run()
    finally:
        demo.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


class _Demo:
    """One demo run: its servers, project and narration."""

    def __init__(self, options: DemoOptions, out: TextIO,
                 label_studio: LocalLabelStudio | None) -> None:  # fmt: skip
        self.options = options
        self.out = out
        self.task = make_task(options.task, options.pool, options.seed)
        self.own_ls = label_studio is None
        self.ls = label_studio or LocalLabelStudio(options.workdir / "labelstudio",
                                                   port=_port_or_free(options.ls_port))
        self.secret = secrets.token_urlsafe(16)
        self.backend: BackendProcess | None = None
        self.project = 0
        self.answers: dict[int, str] = {}

    def say(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def run(self) -> None:
        options = self.options
        self.say(f"dataeff demo: {self.task.title}, {options.pool} tasks (seed {options.seed}); "
                 "embedded SmolLM2-135M on CPU, SQLite, in-process queue")  # fmt: skip
        started = time.monotonic()
        if self.own_ls:
            self.ls.start()
            self.say(f"  Label Studio  {self.ls.url}  up in {time.monotonic() - started:.1f} s")
        else:
            self.say(f"  Label Studio  {self.ls.url}  (already running)")
        self.backend = BackendProcess(options.workdir / "backend", self.ls.url,
                                      self.ls.credentials.token, secret=self.secret,
                                      port=_port_or_free(options.backend_port))  # fmt: skip
        started = time.monotonic()
        self.backend.start()
        self.say(f"  dataeff       {self.backend.url}  up in {time.monotonic() - started:.1f} s")
        self._create_project()
        self._wait_scored()
        estimate = self._label()
        if estimate is not None:
            self._conclude(estimate)
        if options.keep_running:
            self._serve_forever()
        else:
            self.say("To look for yourself: run `make up` (or `dataeff demo --keep-running`), "
                     "open the Label Studio URL it prints, log in with the user and password it "
                     "prints and press 'Label All Tasks': the box at the top of each task shows "
                     "dataeff's estimate.")  # fmt: skip

    def stop(self) -> None:
        if self.backend is not None:
            self.backend.stop()
        if self.own_ls:
            self.ls.stop()
        self.say("stopped Label Studio and dataeff." if self.own_ls else "stopped dataeff.")

    @property
    def backend_url(self) -> str:
        assert self.backend is not None
        return self.backend.url

    def _create_project(self) -> None:
        from label_studio_sdk import LabelStudio

        token = self.ls.credentials.token
        api = LabelStudio(base_url=self.ls.url, api_key=token)  # type: ignore[no-untyped-call]
        project = api.projects.create(
            title=f"dataeff demo: {self.task.title}",
            label_config=self.task.label_config,
            description=f"Made by `dataeff demo` ({self.task.name}, seed {self.task.seed}).",
        )
        self.project = int(project.id or 0)
        result = connect(self.ls.url, token, self.project, self.backend_url, secret=self.secret,
                         params={"min_examples": self.options.min_examples}, sync=False)
        tasks: Any = self.task.ls_tasks()
        imported = api.projects.import_tasks(id=self.project, request=tasks,
                                             return_task_ids=True)  # fmt: skip
        ids = [int(i) for i in getattr(imported, "task_ids", None) or []]
        if len(ids) != len(self.task.items):
            raise InvalidInputError(f"imported {len(ids)} tasks, expected {len(self.task.items)}")
        self.answers = {i: item.answer for i, item in zip(ids, self.task.items, strict=True)}
        (self.options.workdir / "answers.json").write_text(json.dumps(self.answers))
        self.say(f"  project {self.project}: {len(ids)} tasks imported; connected (uncertainty "
                 f"sampling, model version {result.model_version}, "
                 f"min_examples {self.options.min_examples})")  # fmt: skip

    def _wait_scored(self) -> None:
        started, total = time.monotonic(), len(self.answers)
        tty = self.out.isatty()

        def show(estimate: dict[str, Any]) -> None:
            if tty:
                self.out.write(f"\r  scoring the pool: {_scored(estimate)}/{total}")
                self.out.flush()

        wait_for_estimate(
            self.backend_url, self.project,
            lambda e: _scored(e) >= total and e.get("state") == "idle",
            what="the zero-shot confidence pass", timeout_s=self.options.batch_timeout_s,
            on_poll=show,
        )  # fmt: skip
        self.say(f"\r  scoring the pool: {total}/{total} tasks scored (zero-shot confidence) in "
                 f"{time.monotonic() - started:.1f} s")  # fmt: skip

    def _label(self) -> dict[str, Any] | None:
        options = self.options
        annotator = SimulatedAnnotator(self.ls.url, self.ls.credentials.token, self.project,
                                       self.answers, self.task.annotation)  # fmt: skip
        total = options.planned_labels()
        self.say(f"  labeling {total} tasks in the order Label Studio serves them "
                 f"(least confident first), {options.batch} per batch:")  # fmt: skip
        done = 0
        estimate: dict[str, Any] | None = None
        with (options.workdir / "estimates.jsonl").open("a") as log:
            while done < total:
                served = [s for s in (annotator.label_next()
                                      for _ in range(min(options.batch, total - done))) if s]
                done += len(served)
                started = time.monotonic()
                estimate = wait_for_estimate(
                    self.backend_url, self.project, functools.partial(is_settled, annotated=done),
                    what=f"the estimate after {done} labels", timeout_s=options.batch_timeout_s,
                )  # fmt: skip
                log.write(json.dumps(estimate) + "\n")
                scores = [s.score for s in served if s.score is not None]
                at = f"served confidence {min(scores):.2f}-{max(scores):.2f}" if scores else ""
                self.say(f"  {progress_bar(done, total)} {done:>3}/{total} labeled  {at}  "
                         f"(estimate in {time.monotonic() - started:.1f} s)")  # fmt: skip
                self.say(f"      {format_estimate(estimate)}")
                if not served:
                    break
        return estimate

    def _conclude(self, estimate: dict[str, Any]) -> None:
        from dataeff.demo.plot import plot_estimate

        self.say(f"  dataeff says: {estimate.get('message')}")
        try:
            path = plot_estimate(estimate, self.options.workdir / "curve.png",
                                 title=f"dataeff demo: {self.task.title}")  # fmt: skip
        except NotReadyError as error:
            self.say(f"  no curve yet ({error}); label more with --labels")
            return
        self.say(f"  predicted curve with its band: {path}")

    def _serve_forever(self) -> None:
        credentials = self.ls.credentials
        self.say(f"Label Studio: {self.ls.url}/projects/{self.project}/data  "
                 f"(user {credentials.username}, password {credentials.password})")
        self.say("Press 'Label All Tasks' to label; dataeff's estimate is the box at the top of "
                 "each task. Press Ctrl-C to stop both servers.")  # fmt: skip
        while True:
            time.sleep(3600)


def _scored(estimate: dict[str, Any]) -> int:
    return int((estimate.get("counts") or {}).get("scored") or 0)
