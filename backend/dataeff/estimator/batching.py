"""Run work in batches that shrink on out-of-memory instead of crashing (method §3, §5).

Pure Python: an out-of-memory error is recognised by type name or message, so this module
needs no torch import and its back-off path is tested without a GPU.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from dataeff.errors import InvalidInputError, UnavailableError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def is_out_of_memory(error: BaseException) -> bool:
    """True for ``torch.OutOfMemoryError`` (CUDA) and allocator failures reported as such."""
    return type(error).__name__ == "OutOfMemoryError" or "out of memory" in str(error).lower()


class AdaptiveBatcher:
    """Feeds items to ``fn`` in batches of at most ``batch_size``; on out-of-memory it calls
    ``on_oom`` (e.g. ``torch.cuda.empty_cache``), halves the failed batch's size and retries
    the same items. The reduced size is kept for later calls. Only a failure at batch size 1
    is raised, as :class:`UnavailableError` naming the item."""

    def __init__(self, batch_size: int, on_oom: Callable[[], None] | None = None) -> None:
        if batch_size < 1:
            raise InvalidInputError(f"batch size must be positive, got {batch_size}")
        self.batch_size = batch_size
        self._on_oom = on_oom
        self.halvings = 0

    def run(
        self,
        items: Sequence[T],
        fn: Callable[[Sequence[T]], Sequence[R]],
        *,
        name: Callable[[T], str] = str,
        progress: Callable[[int], None] | None = None,
    ) -> list[R]:
        """``fn`` over consecutive chunks of ``items``; results concatenated in item order."""
        results: list[R] = []
        start = 0
        while start < len(items):
            chunk = items[start : start + self.batch_size]
            try:
                out = fn(chunk)
            except Exception as error:
                if not is_out_of_memory(error):
                    raise
                if self._on_oom is not None:
                    self._on_oom()
                if len(chunk) == 1:
                    raise UnavailableError(
                        f"out of memory on a single example ({name(chunk[0])}): {error}"
                    ) from None
                self.batch_size = max(1, len(chunk) // 2)
                self.halvings += 1
                log.warning("out of memory at %d examples; retrying with batch size %d",
                            len(chunk), self.batch_size)
                continue
            if len(out) != len(chunk):
                raise RuntimeError(f"batch function returned {len(out)} results for {len(chunk)}")
            results.extend(out)
            start += len(chunk)
            if progress is not None:
                progress(len(chunk))
        return results


def by_length(lengths: Sequence[int]) -> tuple[list[int], Callable[[Sequence[R]], list[R]]]:
    """An order that groups similar lengths (longest first, so an OOM shows up early) and a
    function that puts results computed in that order back into the original order."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))

    position = {index: pos for pos, index in enumerate(order)}

    def restore(results: Sequence[R]) -> list[R]:
        if len(results) != len(order):
            raise RuntimeError(f"{len(results)} results for {len(order)} items after batching")
        return [results[position[i]] for i in range(len(order))]

    return order, restore

