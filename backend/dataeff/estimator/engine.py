"""The torch :class:`~dataeff.estimator.scorer.Scorer`: confidence pass and gradient sketches.

Built by :func:`dataeff.estimator.load_scorer`. Work runs in length-sorted batches that halve
on out-of-memory (:class:`~dataeff.estimator.batching.AdaptiveBatcher`); results come back in
input order as frozen dataclasses and numpy arrays. The seeded LoRA adapter is built on the first
gradient request; it is virtual (B = 0 leaves the forward pass unchanged, see :mod:`.lora`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from tqdm import tqdm

from dataeff.errors import InvalidInputError
from dataeff.estimator.batching import AdaptiveBatcher, by_length
from dataeff.estimator.confidence import DEFAULT_MAX_NEW_TOKENS, ConfidenceScorer
from dataeff.estimator.gradients import BatchGradients
from dataeff.estimator.lora import DEFAULT_TARGETS, LoraLayer, LoraSettings, virtual_lora
from dataeff.estimator.models import LoadedModel
from dataeff.estimator.prompts import LabeledIds, encode_labeled, prompt_ids
from dataeff.estimator.scorer import Confidence
from dataeff.estimator.sketch import DEFAULT_SKETCH_DIM, CountSketch
from dataeff.estimator.spec import Example, TaskSpec, keys_of


class TorchScorer:
    """Scores examples with a loaded causal LM.

    Options: ``seed`` (LoRA init and sketch, default 0), ``sketch_dim`` (default 8192),
    ``exact`` (store full lora_B gradients instead of sketches, for checks), ``lora_r`` (64),
    ``lora_alpha`` (32), ``lora_targets`` (all attention and MLP projections), ``batch_size``
    (starting size, halved on out-of-memory; by default 64 prompts or 16 gradients per batch
    on CUDA, 16 or 8 on the CPU), ``max_new_tokens``
    (30), ``max_length`` (the model's context), ``progress`` (tqdm bars on stderr).
    """

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        seed: int = 0,
        sketch_dim: int = DEFAULT_SKETCH_DIM,
        exact: bool = False,
        lora_r: int = 64,
        lora_alpha: int = 32,
        lora_targets: Sequence[str] = DEFAULT_TARGETS,
        batch_size: int | None = None,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        max_length: int | None = None,
        progress: bool = False,
    ) -> None:
        if max_new_tokens < 1:
            raise InvalidInputError(f"max_new_tokens must be positive, got {max_new_tokens}")
        self.loaded = loaded
        self.lora = LoraSettings(lora_r, lora_alpha, tuple(lora_targets), seed)
        self.sketch = None if exact else CountSketch(sketch_dim, seed)
        self.progress = progress
        self.max_length = max_length or _context_length(loaded)
        cuda = loaded.device.type == "cuda"
        on_oom = torch.cuda.empty_cache if cuda else None
        self.confidence_batcher = AdaptiveBatcher(batch_size or (64 if cuda else 16), on_oom)
        self.gradient_batcher = AdaptiveBatcher(batch_size or (16 if cuda else 8), on_oom)
        self.scorer = ConfidenceScorer(loaded, max_new_tokens)
        self._gradients: BatchGradients | None = None

    @property
    def model_key(self) -> str:
        """Model, adapter and sketch: gradients are comparable only under equal keys."""
        sketch = self.sketch.key if self.sketch is not None else "exact"
        return f"{self.loaded.name}@{self.loaded.fingerprint}/{self.lora.key}/{sketch}"

    @property
    def sketch_dim(self) -> int:
        if self.sketch is not None:
            return self.sketch.dim
        return self._gradient_engine().n_params

    @property
    def name(self) -> str:
        """The model's display name (calibrations are looked up by it)."""
        return self.loaded.name

    @property
    def layers(self) -> list[LoraLayer]:
        """The adapted projections with their seeded A matrices (built on first use)."""
        return self._gradient_engine().layers

    def confidence(self, spec: TaskSpec, examples: Sequence[Example]) -> list[Confidence]:
        """Zero-shot confidence per example, in order (method §3)."""
        _require_examples(examples)
        keys = keys_of(examples)
        limit = self.max_length - self.scorer.max_new_tokens
        prompts = []
        for key, example in zip(keys, examples, strict=True):
            ids = prompt_ids(self.loaded.tokenizer, spec, example)
            if len(ids) > limit:
                raise InvalidInputError(
                    f"example {key!r}: prompt of {len(ids)} tokens leaves no room for "
                    f"{self.scorer.max_new_tokens} new tokens in the context of {self.max_length}"
                )
            prompts.append(ids)
        order, restore = by_length([len(p) for p in prompts])
        items = [(keys[i], prompts[i]) for i in order]
        with self._bar("confidence", len(items)) as bar:
            results = self.confidence_batcher.run(
                items,
                lambda chunk: self.scorer.score_batch([k for k, _ in chunk], [p for _, p in chunk]),
                name=lambda item: f"example {item[0]!r}",
                progress=bar.update,
            )
        return restore(results)

    def gradient_sketches(self, spec: TaskSpec, examples: Sequence[Example]
                          ) -> npt.NDArray[np.float32]:
        """Per-example lora_B gradient sketches, shape (n, sketch_dim), float32 (method §5)."""
        _require_examples(examples)
        engine = self._gradient_engine()
        encoded = self.encode(spec, examples)
        order, restore = by_length([len(e.ids) for e in encoded])
        with self._bar("gradients", len(encoded)) as bar:
            rows = self.gradient_batcher.run(
                [encoded[i] for i in order],
                lambda chunk: list(engine.compute(chunk)),
                name=lambda item: f"example {item.key!r}",
                progress=bar.update,
            )
        return np.stack(restore(rows)).astype(np.float32, copy=False)

    def encode(self, spec: TaskSpec, examples: Sequence[Example]) -> list[LabeledIds]:
        """Token ids of labeled examples as the gradient pass sees them (tests, benchmarks)."""
        unscored = self.scorer.special_ids
        return [encode_labeled(self.loaded.tokenizer, spec, replace_key(e, k),
                               max_length=self.max_length, unscored=unscored)
                for k, e in zip(keys_of(examples), examples, strict=True)]

    def _gradient_engine(self) -> BatchGradients:
        if self._gradients is None:
            self._gradients = BatchGradients(
                self.loaded.model, virtual_lora(self.loaded.model, self.lora),
                scale=self.lora.scale, pad_id=int(self.loaded.tokenizer.pad_token_id),
                device=self.loaded.device, sketch=self.sketch)
        return self._gradients

    def _bar(self, what: str, total: int) -> Any:
        return tqdm(total=total, desc=what, unit="ex", file=sys.stderr,
                    disable=not self.progress, leave=False)


def replace_key(example: Example, key: str) -> Example:
    """The example with ``key`` set (positions stand in for missing keys in messages)."""
    return example if example.key == key else Example(example.inputs, example.answer, key)


def _require_examples(examples: Sequence[Example]) -> None:
    if not examples:
        raise InvalidInputError("no examples given (the pool is empty)")


def _context_length(loaded: LoadedModel) -> int:
    value = getattr(loaded.model.config, "max_position_embeddings", None)
    return int(value) if value else int(loaded.tokenizer.model_max_length)
