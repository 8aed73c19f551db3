"""The reference implementation's one-at-a-time approach, kept as an oracle (method §3, §5).

Used by the tests (the batched results must equal these) and by ``bench/estimator.py`` (the
baseline the batched code is timed against). Not used in production paths.

* :func:`two_pass_confidence`: generate one prompt greedily, then score prompt + generation
  with a second forward pass (the reference's ``avg_confidence`` and ``ppl``).
* :func:`loop_gradients`: one forward/backward per example through ordinary autograd on a
  real PEFT adapter, with full logits, every LoRA parameter (A and B) trainable, all
  gradients copied, then zeroed.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from dataeff.estimator.confidence import ConfidenceScorer
from dataeff.estimator.lora import PeftLayer
from dataeff.estimator.prompts import LabeledIds
from dataeff.estimator.scorer import Confidence


def two_pass_confidence(scorer: ConfidenceScorer, prompt: Sequence[int]) -> Confidence:
    """Batch size 1: ``generate`` (greedy), then a second forward pass to score the answer."""
    loaded = scorer.loaded
    model: Any = loaded.model
    ids = torch.tensor([list(prompt)], device=loaded.device)
    config = copy.deepcopy(model.generation_config)
    config.max_new_tokens = scorer.max_new_tokens
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                             generation_config=config)
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
    model: Any, layers: Sequence[PeftLayer], examples: Sequence[LabeledIds], device: torch.device,
    *, collect: bool = True,
) -> tuple[npt.NDArray[np.float32], float]:
    """(B gradients, shape (n, n_B) in layer order; the largest |A gradient| seen).

    ``model`` and ``layers`` come from :func:`~dataeff.estimator.lora.attach_lora`.
    ``collect=False`` copies the gradients on the device and drops them (benchmarks of large
    models, whose n full gradients would not fit in memory); the array is then empty.
    """
    params = [(layer.lora_b.weight, layer.lora_a.weight) for layer in layers]
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
            grads = [(b.grad.detach().clone(), a.grad.detach().clone()) for b, a in params]
            if collect:
                rows.append(torch.cat([g_b.reshape(-1) for g_b, _ in grads]).cpu().numpy())
                a_max = max([a_max] + [float(g_a.abs().max()) for _, g_a in grads])
            for b_weight, a_weight in params:
                b_weight.grad = None
                a_weight.grad = None
    finally:
        for b_weight, a_weight in params:
            b_weight.requires_grad_(False)
            a_weight.requires_grad_(False)
    if not rows:
        return np.zeros((0, 0), dtype=np.float32), a_max
    return np.stack(rows).astype(np.float32), a_max
