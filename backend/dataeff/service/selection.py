"""Which labeled tasks feed CoS-Low in a live project (method §4, architecture "Decisions").

Pure functions of the store's rows: the answer of each task (its latest non-cancelled
annotation that answers the target control), and the low-confidence set: the tasks in the
bottom ``fraction`` of confidence among scored tasks, extended to the ``min_examples``
least-confident tasks when that share holds fewer. Ties are broken by task id, so the set is
a function of the scores alone (never of arrival order).
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping

from dataeff.labelstudio.mapping import TargetControl, answer_from_result
from dataeff.labelstudio.records import AnnotationRecord, latest_first


def answers_by_task(target: TargetControl,
                    annotations: Iterable[AnnotationRecord]) -> dict[int, str]:
    """``{task_id: answer}`` from the latest non-cancelled annotation with an answer."""
    by_task: dict[int, list[AnnotationRecord]] = defaultdict(list)
    for a in annotations:
        by_task[a.task_id].append(a)
    out: dict[int, str] = {}
    for task_id, anns in by_task.items():
        for a in latest_first(anns):
            answer = answer_from_result(target, a.result)
            if answer is not None:
                out[task_id] = answer
                break
    return out


def low_confidence_set(confidences: Mapping[int, float], fraction: float,
                       min_examples: int) -> list[int]:
    """Task ids of the low-confidence set, least confident first.

    Size ``max(ceil(fraction * n), min(min_examples, n))`` for ``n`` scored tasks.
    """
    n = len(confidences)
    if n == 0:
        return []
    size = max(math.ceil(fraction * n - 1e-9), min(min_examples, n))
    ranked = sorted(confidences.items(), key=lambda item: (item[1], item[0]))
    return [task_id for task_id, _ in ranked[:size]]


def answer_hash(answer: str) -> str:
    return hashlib.sha256(answer.encode()).hexdigest()[:24]
