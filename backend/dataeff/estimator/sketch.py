"""Seeded count sketch of a gradient: fixed-size storage whatever the model (method §5.2).

A dense Gaussian projection of ~10 M (SmolLM2) to ~88 M (Llama-3.1-8B) lora_B parameters
down to 8192 numbers would need a matrix far larger than the model, so each parameter
instead goes, with a random sign, into one of ``dim`` buckets (CountSketch, Charikar et al.
2002). Bucket and sign are hashes of the parameter's global index (its position in the
concatenation of all B weights) and the seed, computed on the device, so nothing of the size
of the projection is ever stored or moved.

The sketch is linear and unbiased for inner products: E⟨Sx, Sy⟩ = ⟨x, y⟩ with
Var⟨Sx, Sy⟩ ≤ 2‖x‖²‖y‖²/dim, so with ``dim`` = 8192 a cosine is off by about
sqrt((1 + cos²)/8192) ≈ 0.011-0.016 (one standard deviation) before normalisation, and less
after (the errors of the norms are correlated with that of the inner product). Sketches of
the concatenation are the sums of the per-layer sketches, so the cosine is the paper's one
global cosine over all layers (§5 step 3), never an average of per-layer cosines.
"""

from __future__ import annotations

import numpy as np
import torch

from dataeff.errors import InvalidInputError

DEFAULT_SKETCH_DIM = 8192
_PRIME = 2**31 - 1  # hashes stay below 2**62 in int64: no overflow on any device


class CountSketch:
    """Maps parameter indices in [0, 2**31 - 1) to (bucket in [0, dim), sign ±1), seeded."""

    def __init__(self, dim: int = DEFAULT_SKETCH_DIM, seed: int = 0) -> None:
        if dim < 1:
            raise InvalidInputError(f"sketch dimension must be positive, got {dim}")
        self.dim = dim
        self.seed = seed
        rng = np.random.default_rng([seed, 0x5CE7C4])
        self._coef = [int(c) for c in rng.integers(1, _PRIME, size=8)]

    @property
    def key(self) -> str:
        return f"countsketch-{self.dim}-s{self.seed}"

    def buckets(
        self, start: int, count: int, device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Buckets (int64) and signs (float32) of the indices ``start .. start + count - 1``."""
        if start + count >= _PRIME:
            raise InvalidInputError(f"sketch: {start + count} parameters exceed the hash range")
        index = torch.arange(start, start + count, dtype=torch.int64, device=device)
        bucket = self._mix(index, 0) % self.dim
        sign = (self._mix(index, 4) & 1).to(torch.float32).mul_(-2.0).add_(1.0)
        return bucket, sign

    def _mix(self, index: torch.Tensor, at: int) -> torch.Tensor:
        """Two affine rounds mod 2**31 - 1 with an xor-shift between them (not affine)."""
        a1, b1, a2, b2 = self._coef[at : at + 4]
        h = (index * a1 + b1) % _PRIME
        h = h ^ (h >> 16)
        return (h * a2 + b2) % _PRIME

    def project(self, vectors: torch.Tensor, start: int = 0) -> torch.Tensor:
        """Sketch rows of ``vectors`` (n, count) whose columns are global indices
        ``start ..``; returns (n, dim) float32. For tests and small inputs."""
        bucket, sign = self.buckets(start, vectors.shape[1], vectors.device)
        out = torch.zeros((vectors.shape[0], self.dim), dtype=torch.float32, device=vectors.device)
        return out.index_add_(1, bucket, vectors.float() * sign)
