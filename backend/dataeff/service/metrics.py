"""Prometheus text exposition of the service's counters (no client library needed).

Counters and the job-duration histogram are per process; the queue depth is read from the
store at scrape time, so it is right whichever process runs the jobs.
"""

from __future__ import annotations

import threading
from collections import defaultdict

JOB_BUCKETS_S = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0)


class Metrics:
    """Thread-safe counters; :meth:`render` gives the Prometheus text format."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: dict[tuple[str, str], int] = defaultdict(int)   # (action, outcome)
        self.jobs: dict[str, int] = defaultdict(int)                 # outcome
        self.job_seconds_sum = 0.0
        self.job_buckets = [0] * (len(JOB_BUCKETS_S) + 1)
        self.ls_writes: dict[str, int] = defaultdict(int)

    def event(self, action: str, outcome: str) -> None:
        with self._lock:
            self.events[(action, outcome)] += 1

    def job(self, outcome: str, seconds: float) -> None:
        with self._lock:
            self.jobs[outcome] += 1
            self.job_seconds_sum += seconds
            for i, bound in enumerate((*JOB_BUCKETS_S, float("inf"))):
                if seconds <= bound:
                    self.job_buckets[i] += 1
                    break

    def ls_write(self, call: str, n: int = 1) -> None:
        with self._lock:
            self.ls_writes[call] += n

    def jobs_run(self) -> int:
        with self._lock:
            return sum(self.jobs.values())

    def render(self, queue_depth: int, pending_events: int) -> str:
        with self._lock:
            lines = [
                "# HELP dataeff_events_received_total Webhook events received, by outcome.",
                "# TYPE dataeff_events_received_total counter",
            ]
            lines += [f'dataeff_events_received_total{{action="{a}",outcome="{o}"}} {n}'
                      for (a, o), n in sorted(self.events.items())]
            lines += ["# HELP dataeff_jobs_total Re-estimation jobs run, by outcome.",
                      "# TYPE dataeff_jobs_total counter"]
            lines += [f'dataeff_jobs_total{{outcome="{o}"}} {n}'
                      for o, n in sorted(self.jobs.items())]
            lines += ["# HELP dataeff_job_seconds Duration of re-estimation jobs.",
                      "# TYPE dataeff_job_seconds histogram"]
            cumulative = 0
            for bound, n in zip((*JOB_BUCKETS_S, float("inf")), self.job_buckets, strict=True):
                cumulative += n
                le = "+Inf" if bound == float("inf") else repr(bound)
                lines.append(f'dataeff_job_seconds_bucket{{le="{le}"}} {cumulative}')
            lines += [f"dataeff_job_seconds_sum {self.job_seconds_sum:.6f}",
                      f"dataeff_job_seconds_count {cumulative}",
                      "# HELP dataeff_label_studio_writes_total Writes made to Label Studio.",
                      "# TYPE dataeff_label_studio_writes_total counter"]
            lines += [f'dataeff_label_studio_writes_total{{call="{c}"}} {n}'
                      for c, n in sorted(self.ls_writes.items())]
        lines += ["# HELP dataeff_queue_depth Projects waiting for a re-estimation job.",
                  "# TYPE dataeff_queue_depth gauge", f"dataeff_queue_depth {queue_depth}",
                  "# HELP dataeff_events_pending Stored events not yet applied by a job.",
                  "# TYPE dataeff_events_pending gauge", f"dataeff_events_pending {pending_events}"]
        return "\n".join(lines) + "\n"
