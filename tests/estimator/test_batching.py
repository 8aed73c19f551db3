"""Adaptive batches: out-of-memory halves the batch and retries, never crashes (method §3)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import torch

from dataeff.errors import UnavailableError
from dataeff.estimator.batching import AdaptiveBatcher, by_length, is_out_of_memory


class _Device:
    """Runs out of memory above ``capacity`` items per call."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.calls: list[int] = []
        self.freed = 0

    def __call__(self, chunk: Sequence[int]) -> list[int]:
        self.calls.append(len(chunk))
        if len(chunk) > self.capacity:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 4.00 GiB")
        return [2 * x for x in chunk]

    def free(self) -> None:
        self.freed += 1


def test_halves_on_out_of_memory_and_keeps_the_smaller_size() -> None:
    device = _Device(capacity=3)
    batcher = AdaptiveBatcher(16, on_oom=device.free)
    assert batcher.run(list(range(10)), device) == [2 * x for x in range(10)]
    assert device.calls[:3] == [10, 5, 2]  # 10 items: 10 and 5 fail, 2 fits
    assert batcher.batch_size == 2 and batcher.halvings == 2 and device.freed == 2
    device.calls.clear()
    batcher.run([1, 2, 3], device)
    assert device.calls == [2, 1]  # later calls start at the reduced size


def test_a_single_item_that_does_not_fit_is_a_clear_error() -> None:
    batcher = AdaptiveBatcher(4)
    with pytest.raises(UnavailableError, match=r"single example.*item 7"):
        batcher.run([7, 8], _Device(capacity=0), name=lambda x: f"item {x}")


def test_other_errors_propagate_unchanged() -> None:
    def broken(chunk: Sequence[int]) -> list[int]:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        AdaptiveBatcher(4).run([1], broken)


def test_out_of_memory_is_recognised_by_type_or_message() -> None:
    assert is_out_of_memory(torch.OutOfMemoryError("x"))
    assert is_out_of_memory(RuntimeError("CUDA error: out of memory"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))


def test_by_length_groups_long_first_and_restores_order() -> None:
    order, restore = by_length([3, 10, 1, 10])
    assert order == [1, 3, 0, 2]
    assert restore([f"r{i}" for i in order]) == ["r0", "r1", "r2", "r3"]
