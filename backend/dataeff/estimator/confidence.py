"""The label-free confidence pass: batched greedy decoding that scores itself (method §3).

Per batch: the prompts' longest common prefix (the rendered instruction, shared by every
example of a task) is run once and its key/value cache copied to every row; the rest of
each prompt is left-padded against it; then greedy decoding, at most ``max_new_tokens``
steps, each sequence stopping at its end token. Every step's raw logits give the maximum
log-softmax, which under greedy decoding is the log-probability of the token generated, so
no second forward pass is needed (the reference re-runs the model over prompt + answer).

Per example, over the generated tokens before the first end token, special tokens and
whitespace-only tokens excluded (the reference masks its families' end and blank-line ids):

* ``confidence`` = mean of the max softmax probabilities, in (0, 1];
* ``perplexity`` = exp(-mean of their log-probabilities), >= 1;
* ``n_tokens`` = how many tokens were scored. When the model answers nothing (it ends at once
  or emits only whitespace), ``n_tokens`` is 0 and the first generated token is scored, so the
  confidence is that of answering nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from dataeff.errors import UnavailableError
from dataeff.estimator.models import LoadedModel, end_token_ids, special_token_ids
from dataeff.estimator.scorer import Confidence

DEFAULT_MAX_NEW_TOKENS = 30


@dataclass
class ConfidenceScorer:
    """Scores tokenized prompts, one batch at a time; counts the tokens it processed."""

    loaded: LoadedModel
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    prompt_tokens: int = 0
    generated_tokens: int = 0
    _ignorable: dict[int, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        tokenizer = self.loaded.tokenizer
        self.end_ids = end_token_ids(tokenizer, self.loaded.model)
        self.special_ids = special_token_ids(tokenizer) | set(self.end_ids)
        self._pad = int(tokenizer.pad_token_id)

    def score_batch(
        self, keys: Sequence[str], prompts: Sequence[Sequence[int]]
    ) -> list[Confidence]:
        """Confidence per prompt, in order; ``keys`` name the prompts in errors."""
        with torch.inference_mode():
            tokens, max_logp = self._decode(keys, prompts)
        self.prompt_tokens += sum(len(p) for p in prompts)
        return [self.summarise(keys[row], tokens[row], max_logp[row]) for row in range(len(keys))]

    def _decode(self, keys: Sequence[str], prompts: Sequence[Sequence[int]]
                ) -> tuple[list[list[int]], list[list[float]]]:
        model, device, rows = self.loaded.model, self.loaded.device, len(prompts)
        shared = min(_common_prefix(prompts), min(len(p) for p in prompts) - 1)
        cache = None
        if shared > 0:
            prefix = torch.tensor([list(prompts[0][:shared])], device=device)
            cache = model(input_ids=prefix, use_cache=True, logits_to_keep=1).cache
            cache.batch_repeat_interleave(rows)
        width = max(len(p) for p in prompts) - shared
        ids = torch.full((rows, width), self._pad, dtype=torch.long)
        mask = torch.zeros((rows, shared + width), dtype=torch.long)
        mask[:, :shared] = 1
        for row, prompt in enumerate(prompts):
            rest = list(prompt[shared:])
            ids[row, width - len(rest):] = torch.tensor(rest, dtype=torch.long)
            mask[row, shared + width - len(rest):] = 1
        mask = mask.to(device)
        position = (mask.cumsum(dim=1) - 1).clamp(min=0)[:, shared:]
        out = model(input_ids=ids.to(device), attention_mask=mask, position_ids=position,
                    cache=cache, use_cache=True, logits_to_keep=1)
        last = position[:, -1:]
        ends = torch.tensor(self.end_ids, device=device)
        finished = torch.zeros(rows, dtype=torch.bool, device=device)
        steps_tok: list[torch.Tensor] = []
        steps_logp: list[torch.Tensor] = []
        for step in range(self.max_new_tokens):
            logp = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
            best, token = logp.max(dim=-1)
            bad = ~torch.isfinite(best) & ~finished
            if bad.any():
                key = keys[int(bad.nonzero()[0])]
                raise UnavailableError(f"example {key!r}: the model's scores are NaN or infinite")
            token = torch.where(finished, self._pad, token)
            steps_tok.append(token)
            steps_logp.append(best)
            self.generated_tokens += int((~finished).sum())
            finished |= torch.isin(token, ends)
            if bool(finished.all()) or step == self.max_new_tokens - 1:
                break
            mask = torch.cat([mask, torch.ones((rows, 1), dtype=mask.dtype, device=device)], 1)
            last = last + 1
            out = model(input_ids=token[:, None], attention_mask=mask, position_ids=last,
                        cache=out.cache, use_cache=True)
        tokens = torch.stack(steps_tok, dim=1).tolist()
        logps = torch.stack(steps_logp, dim=1).double().tolist()
        return tokens, logps

    def summarise(self, key: str, tokens: list[int], max_logp: list[float]) -> Confidence:
        ends = set(self.end_ids)
        end = next((i for i, t in enumerate(tokens) if t in ends), len(tokens))
        scored = [i for i in range(end) if not self.is_ignorable(tokens[i])]
        n_tokens = len(scored)
        logp = torch.tensor([max_logp[i] for i in (scored or [0])], dtype=torch.float64)
        answer = str(self.loaded.tokenizer.decode(tokens[:end], skip_special_tokens=True)).strip()
        return Confidence(
            answer=answer,
            confidence=float(logp.exp().mean()),
            perplexity=float((-logp.mean()).exp()),
            n_tokens=n_tokens,
        )

    def is_ignorable(self, token: int) -> bool:
        """Special tokens and tokens that decode to whitespace only (memoised)."""
        if token not in self._ignorable:
            text = str(self.loaded.tokenizer.decode([token]))
            self._ignorable[token] = token in self.special_ids or not text.strip()
        return self._ignorable[token]


def _common_prefix(prompts: Sequence[Sequence[int]]) -> int:
    """Length of the longest common prefix of all prompts."""
    first = prompts[0]
    length = min(len(p) for p in prompts)
    for prompt in prompts[1:]:
        i = 0
        while i < length and prompt[i] == first[i]:
            i += 1
        length = i
    return length
