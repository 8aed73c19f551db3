"""The reference implementation's one-at-a-time approach, kept as an oracle (method §3, §5).

Used by the tests (the batched results must equal these) and by ``bench/estimator.py`` (the
baseline the batched code is timed against). Not used in production paths.

* :func:`two_pass_confidence`: generate one prompt greedily, then score prompt + generation
  with a second forward pass (the reference's ``avg_confidence`` and ``ppl``).
* :func:`loop_gradients`: one forward/backward per example through ordinary autograd with
  full logits, every LoRA parameter (A and B) trainable, all gradients copied, then zeroed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from dataeff.estimator.confidence import ConfidenceScorer
from dataeff.estimator.lora import LoraLayer
from dataeff.estimator.prompts import LabeledIds
from dataeff.estimator.scorer import Confidence


def two_pass_confidence(scorer: ConfidenceScorer, prompt: Sequence[int]) -> Confidence:
    """Batch size 1: ``generate`` (greedy), then a second forward pass to score the answer."""
    loaded = scorer.loaded
    model: Any = loaded.model
    ids = torch.tensor([list(prompt)], device=loaded.device)
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                    max_new_tokens=scorer.max_new_tokens,
                                    generation_config=model.generation_config)
        generated = out[0, len(prompt):].tolist()
        logits = model(input_ids=out).logits[0, len(prompt) - 1 : -1].float()
    logp = torch.log_softmax(logits, dim=-1).max(dim=-1).values.double()
    ends = set(scorer.end_ids)
    end = next((i for i, t in enumerate(generated) if t in ends), len(generated))
    scored = [i for i in range(end) if not scorer.is_ignorable(generated[i])]
    chosen = logp[scored or [0]]
    return Confidence(
        answer=str(loaded.tokenizer.decode(generated[:end], skip_special_tokens=True)).strip(),
        confidence=float(chosen.exp().mean()),
        perplexity=float((-chosen.mean()).exp()),
        n_tokens=len(scored),
    )


def loop_gradients(
    model: Any, layers: Sequence[LoraLayer], examples: Sequence[LabeledIds], device: torch.device
) -> tuple[npt.NDArray[np.float32], float]:
    """(B gradients, shape (n, n_B) in layer order; the largest |A gradient| seen)."""
    params = [(layer.lora_b.weight, _lora_a_of(model, layer).weight) for layer in layers]
    for b_weight, a_weight in params:
        b_weight.requires_grad_(True)
        a_weight.requires_grad_(True)
    rows: list[npt.NDArray[np.float32]] = []
    a_max = 0.0
    try:
        for example in examples:
            ids = torch.tensor([list(example.ids)], device=device)
            labels = ids.clone()
            labels[0, : example.n_prompt] = -100
            for offset, scored in enumerate(example.scored):
                if not scored:
                    labels[0, example.n_prompt + offset] = -100
            logits = model(input_ids=ids).logits.float()
            loss = torch.nn.functional.cross_entropy(
                logits[0, :-1], labels[0, 1:], ignore_index=-100)
            loss.backward()  # type: ignore[no-untyped-call]
            grads = [(b.grad.detach().clone(), a.grad.detach().clone())  # type: ignore[union-attr]
                     for b, a in params]
            rows.append(torch.cat([g_b.reshape(-1) for g_b, _ in grads]).cpu().numpy())
            a_max = max([a_max] + [float(g_a.abs().max()) for _, g_a in grads])
            for b_weight, a_weight in params:
                b_weight.grad = None
                a_weight.grad = None
    finally:
        for b_weight, a_weight in params:
            b_weight.requires_grad_(False)
            a_weight.requires_grad_(False)
    return np.stack(rows).astype(np.float32), a_max


def _lora_a_of(model: Any, layer: LoraLayer) -> torch.nn.Linear:
    module = model.get_submodule(layer.name)
    lora_a: torch.nn.Linear = module.lora_A["default"]
    return lora_a
