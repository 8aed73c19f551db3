"""Per-example LoRA gradients of a whole batch in one backward pass (method §5 step 2, §5.1).

Objective: the sum over the batch of each example's mean answer-token cross-entropy, so
∂(objective)/∂θ_i separates per example. Only ``lora_B`` gradients are taken: at
initialisation B = 0, so the ``lora_A`` gradients are exactly zero (§5.1; the tests check it
against a PEFT adapter) and the adapter is used virtually (:func:`~.lora.virtual_lora`). No
parameter needs a gradient: the input embeddings are made to require one, so autograd
computes activation gradients only.

For each adapted projection h = W·x a forward hook computes u = scale·A·x (shape (b, s, r),
float32) and a tensor hook receives δ = ∂L/∂h (shape (b, s, out)); the per-example gradient
of B is Σ_s δ[i, s] ⊗ u[i, s], shape (b, out, r), exactly what PEFT's ``lora_B`` would get.
It is folded into the count sketch (or kept whole in exact mode) inside the hook, layer by
layer, so full per-example gradients of a large model never exist all at once.

Padding is on the left, positions count only real tokens, the logits are computed only at
the positions that predict answer tokens, and u is zeroed at pad positions (no loss reaches
them and no real token attends to them, so δ is zero there too), so a batched result equals
the one-at-a-time result up to floating-point rounding; a NaN anywhere raises.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from dataeff.errors import UnavailableError
from dataeff.estimator.lora import LoraLayer
from dataeff.estimator.prompts import LabeledIds
from dataeff.estimator.sketch import CountSketch


class BatchGradients:
    """Computes per-example lora_B gradients, sketched (``sketch`` set) or exact (``None``)."""

    def __init__(self, model: Any, layers: Sequence[LoraLayer], *, scale: float, pad_id: int,
                 device: torch.device, sketch: CountSketch | None) -> None:
        self.model = model
        self.layers = list(layers)
        self.scale = scale
        self.pad_id = pad_id
        self.device = device
        self.sketch = sketch
        self.n_params = sum(layer.size for layer in self.layers)
        self._buckets: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    @property
    def dim(self) -> int:
        return self.sketch.dim if self.sketch is not None else self.n_params

    def compute(self, batch: Sequence[LabeledIds]) -> npt.NDArray[np.float32]:
        """Gradients of ``batch``: shape (len(batch), dim), float32, finite."""
        ids, mask, position = self._pad(batch)
        width = ids.shape[1]
        answer_len = max(len(e.ids) - e.n_prompt for e in batch)
        keep = torch.arange(width - answer_len - 1, width - 1, device=self.device)
        targets = ids[:, width - answer_len:]
        scored = torch.zeros((len(batch), answer_len), dtype=torch.bool)
        for row, example in enumerate(batch):
            scored[row, answer_len - len(example.scored):] = torch.tensor(example.scored)
        scored = scored.to(self.device)
        rows = len(batch)
        store: list[torch.Tensor | None] = [None] * len(self.layers)
        sketch_out = torch.zeros((rows, self.dim), dtype=torch.float32, device=self.device) \
            if self.sketch is not None else None
        with self._hooks(mask, store, sketch_out):
            logits = self.model(input_ids=ids, attention_mask=mask, position_ids=position,
                                logits_to_keep=keep, use_cache=False).logits
            logp = torch.log_softmax(logits.float(), dim=-1)
            nll = -logp.gather(-1, targets[..., None]).squeeze(-1)
            losses = (nll * scored).sum(dim=1) / scored.sum(dim=1)
            self._check_finite(losses, batch, "loss")
            losses.sum().backward()  # type: ignore[no-untyped-call]
        if sketch_out is not None:
            result = sketch_out
        else:
            result = torch.cat([s for s in store if s is not None], dim=1)
        self._check_finite(result, batch, "gradient")
        return result.cpu().numpy().astype(np.float32, copy=False)

    def _pad(self, batch: Sequence[LabeledIds]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        width = max(len(e.ids) for e in batch)
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, example in enumerate(batch):
            ids[row, width - len(example.ids):] = torch.tensor(example.ids)
            mask[row, width - len(example.ids):] = 1
        position = (mask.cumsum(dim=1) - 1).clamp(min=0)
        return ids.to(self.device), mask.to(self.device), position.to(self.device)

    @contextmanager
    def _hooks(self, mask: torch.Tensor, store: list[torch.Tensor | None],
               sketch_out: torch.Tensor | None) -> Iterator[None]:
        real = mask[..., None].float() * self.scale  # scale, and zero at pad positions
        handles = [self.model.get_input_embeddings().register_forward_hook(
            lambda _m, _i, out: out.requires_grad_(True))]
        for index, layer in enumerate(self.layers):
            handles.append(layer.module.register_forward_hook(
                self._capture(index, layer, real, store, sketch_out)))
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()

    def _capture(self, index: int, layer: LoraLayer, real: torch.Tensor,
                 store: list[torch.Tensor | None], sketch_out: torch.Tensor | None) -> Any:
        def forward_hook(
            _module: Any, inputs: tuple[torch.Tensor, ...], output: torch.Tensor
        ) -> None:
            x = inputs[0].detach().float()
            u = (x @ layer.lora_a.T).mul_(real)  # (b, s, r)

            def grad_hook(delta: torch.Tensor) -> None:
                per_example = torch.einsum("bso,bsr->bor", delta.float(), u).reshape(len(u), -1)
                if sketch_out is None:
                    store[index] = per_example
                else:
                    bucket, sign = self._bucket_cache(layer)
                    sketch_out.index_add_(1, bucket, per_example.mul_(sign))

            output.register_hook(grad_hook)  # type: ignore[no-untyped-call]

        return forward_hook

    def _bucket_cache(self, layer: LoraLayer) -> tuple[torch.Tensor, torch.Tensor]:
        assert self.sketch is not None
        if layer.name not in self._buckets:
            self._buckets[layer.name] = self.sketch.buckets(layer.offset, layer.size, self.device)
        return self._buckets[layer.name]

    @staticmethod
    def _check_finite(values: torch.Tensor, batch: Sequence[LabeledIds], what: str) -> None:
        bad = ~torch.isfinite(values.reshape(len(batch), -1)).all(dim=1)
        if bad.any():
            key = batch[int(bad.nonzero()[0])].key
            raise UnavailableError(f"example {key!r}: the {what} is NaN or infinite")
