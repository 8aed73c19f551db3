"""The gradient bank and CoS-Low (method §5, steps 3-4), numpy only.

The bank keeps one unit-normalised gradient (or gradient sketch) per labeled low-confidence
example, keyed by a stable id, together with the matrix of their pairwise cosines. Adding an
example costs one matrix-vector product, O(n·d); removing one is O(n²) bookkeeping. CoS-Low is
the median of the cosines over all unordered pairs i < j, with a bootstrap over the examples
for its interval. Everything is a function of the *set* of (key, vector) pairs: insertion
order never changes a result, so an estimate built incrementally equals one built from scratch.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dataeff.efficiency.interval import Interval
from dataeff.errors import InvalidInputError, NotFoundError, NotReadyError

_MAGIC = b"DEBANK1\n"
_HEADER_LEN = struct.Struct("<I")


@dataclass(frozen=True)
class CosLow:
    """Median pairwise gradient cosine of the labeled low-confidence examples.

    ``value`` in [-1, 1]; ``interval``: bootstrap percentile interval widened to hold
    ``value``; ``samples``: the bootstrap medians; ``n_examples`` and ``n_pairs = n(n-1)/2``.
    """

    value: float
    interval: Interval
    samples: tuple[float, ...]
    n_examples: int
    n_pairs: int


class GradientBank:
    """Unit gradients of the labeled low-confidence examples and their pairwise cosines."""

    def __init__(self, dim: int) -> None:
        if dim < 1:
            raise InvalidInputError(f"gradient bank dimension must be positive, got {dim}")
        self.dim = dim
        self._keys: list[str] = []
        self._units: npt.NDArray[np.float32] = np.zeros((0, dim), dtype=np.float32)
        self._cos: npt.NDArray[np.float64] = np.zeros((0, 0), dtype=np.float64)

    @classmethod
    def from_rows(cls, dim: int, rows: Iterable[tuple[str, npt.ArrayLike]]) -> GradientBank:
        """A bank of many examples at once (a later row of the same key replaces an earlier
        one): the same cosines, bit for bit, as :meth:`add` one by one, without regrowing the
        matrices at every row (that made rebuilding a 600-example bank O(n²·d) in copies)."""
        bank = cls(dim)
        by_key = {key: bank._unit(key, vector) for key, vector in rows}
        n = len(by_key)
        units = np.stack(list(by_key.values())) if n else bank._units
        wide = units.astype(np.float64)
        cos = np.eye(n, dtype=np.float64)
        for i in range(1, n):
            row = (wide[:i] * wide[i]).sum(axis=1).clip(-1.0, 1.0)      # as in add()
            cos[i, :i] = row
            cos[:i, i] = row
        bank._keys, bank._units, bank._cos = list(by_key), units, cos
        return bank

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def keys(self) -> list[str]:
        return list(self._keys)

    def add(self, key: str, vector: npt.ArrayLike) -> None:
        """Add (or replace) the gradient of example ``key``; rejects NaN, inf and zero."""
        unit = self._unit(key, vector)
        if key in self._keys:
            self.remove(key)
        # elementwise products summed per row: the same rounding for (i, j) and (j, i), so the
        # cosines do not depend on which example came first (a BLAS product's blocking does)
        products = self._units.astype(np.float64) * unit.astype(np.float64)
        row = products.sum(axis=1).clip(-1.0, 1.0)
        n = len(self._keys)
        cos = np.empty((n + 1, n + 1), dtype=np.float64)
        cos[:n, :n] = self._cos
        cos[n, :n] = row
        cos[:n, n] = row
        cos[n, n] = 1.0
        self._cos = cos
        self._units = np.vstack([self._units, unit[None, :]])
        self._keys.append(key)

    def remove(self, key: str) -> None:
        """Drop example ``key`` (its annotation was deleted or changed)."""
        try:
            i = self._keys.index(key)
        except ValueError:
            raise NotFoundError(f"gradient bank has no example {key!r}") from None
        keep = [j for j in range(len(self._keys)) if j != i]
        self._keys.pop(i)
        self._units = self._units[keep]
        self._cos = self._cos[np.ix_(keep, keep)]

    def cosines(self) -> npt.NDArray[np.float64]:
        """Pairwise cosines over unordered pairs i < j, in sorted-key order."""
        order = np.argsort(np.array(self._keys, dtype=object), kind="stable")
        cos = self._cos[np.ix_(order, order)]
        return cos[np.triu_indices(len(order), k=1)]

    def coslow(self, *, n_bootstrap: int = 1000, level: float = 0.8, seed: int = 0) -> CosLow:
        """CoS-Low with a bootstrap interval over the examples (resampled with replacement;
        pairs of an example with its own copy are left out). Needs at least 2 examples."""
        n = len(self._keys)
        if n < 2:
            raise NotReadyError(f"CoS-Low needs at least 2 labeled examples, the bank has {n}")
        if n_bootstrap < 1:
            raise InvalidInputError(f"n_bootstrap must be positive, got {n_bootstrap}")
        order = np.argsort(np.array(self._keys, dtype=object), kind="stable")
        cos = self._cos[np.ix_(order, order)]
        iu = np.triu_indices(n, k=1)
        value = float(np.median(cos[iu]))
        rng = np.random.default_rng([seed, _set_seed(sorted(self._keys))])
        samples: list[float] = []
        while len(samples) < n_bootstrap:
            idx = rng.integers(0, n, size=n)
            distinct = idx[iu[0]] != idx[iu[1]]
            if distinct.any():
                samples.append(float(np.median(cos[idx[iu[0]], idx[iu[1]]][distinct])))
        tail = (1.0 - level) / 2.0
        low, high = np.quantile(samples, [tail, 1.0 - tail])
        interval = Interval(float(low), float(high), level).widened_to(value)
        return CosLow(value, interval, tuple(samples), n, n * (n - 1) // 2)

    def to_bytes(self) -> bytes:
        """Serialise (for a database column): header JSON + float32 unit vectors."""
        header = json.dumps({"dim": self.dim, "keys": self._keys}).encode()
        body = np.ascontiguousarray(self._units, dtype="<f4").tobytes()
        return _MAGIC + _HEADER_LEN.pack(len(header)) + header + body

    @classmethod
    def from_bytes(cls, data: bytes) -> GradientBank:
        """Inverse of :meth:`to_bytes`; raises :class:`InvalidInputError` on corrupt data."""
        if not data.startswith(_MAGIC):
            raise InvalidInputError("not a dataeff gradient bank (bad magic bytes)")
        try:
            start = len(_MAGIC) + _HEADER_LEN.size
            (length,) = _HEADER_LEN.unpack_from(data, len(_MAGIC))
            header = json.loads(data[start : start + length])
            dim, keys = int(header["dim"]), [str(k) for k in header["keys"]]
            units = np.frombuffer(data[start + length :], dtype="<f4").reshape(len(keys), dim)
        except (ValueError, KeyError, TypeError, struct.error) as error:
            raise InvalidInputError(f"corrupt gradient bank: {error}") from None
        return cls.from_rows(dim, zip(keys, units, strict=True))

    def _unit(self, key: str, vector: npt.ArrayLike) -> npt.NDArray[np.float32]:
        v = np.asarray(vector, dtype=np.float64)
        if v.shape != (self.dim,):
            raise InvalidInputError(
                f"example {key!r}: gradient has shape {v.shape}, the bank holds ({self.dim},)"
            )
        if not np.isfinite(v).all():
            raise InvalidInputError(f"example {key!r}: gradient contains NaN or infinity")
        norm = float(np.linalg.norm(v))
        if norm == 0.0:
            raise InvalidInputError(f"example {key!r}: gradient is zero (empty answer?)")
        return (v / norm).astype(np.float32)


def _set_seed(sorted_keys: list[str]) -> int:
    """A 64-bit seed derived from the set of example keys (order-free by construction)."""
    digest = hashlib.sha256("\x00".join(sorted_keys).encode()).digest()
    return int.from_bytes(digest[:8], "little")
