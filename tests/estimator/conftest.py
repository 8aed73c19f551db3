"""A tiny random Llama-architecture model with a tokenizer trained in-process (seconds).

The model directory is built once per session and loaded through the same code path as a
real model (``load_scorer(path)``), so these tests exercise the production loader.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from dataeff.estimator import load_scorer
from dataeff.estimator.engine import TorchScorer
from dataeff.estimator.spec import Example, TaskSpec

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
WORDS = [
    "yes", "no", "maybe", "the", "cat", "dog", "sat", "on", "a", "mat", "question", "answer",
    "context", "category", "label", "positive", "negative", "neutral", "classify", "review",
    "movie", "great", "bad", "fine", "system", "user", "assistant", "is", "was", "it", "this",
    "that", "good", "very", "not",
]


def _corpus() -> list[str]:
    lines = [" ".join(WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(12)) for i in range(200)]
    return [*lines, "0 1 2 3 4 5 6 7 8 9", "CONTEXT - QUESTION - ANSWER - [SEP]"]


def build_tiny_model(directory: Path, *, seed: int = 0) -> Path:
    """Train a byte-level BPE tokenizer (vocab 384) and save a random 2-layer Llama."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=384, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(_corpus(), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>")
    fast.chat_template = CHATML
    config = LlamaConfig(vocab_size=len(fast), hidden_size=48, intermediate_size=96,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=160, tie_word_embeddings=True,
                         eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id,
                         bos_token_id=None)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    with torch.no_grad():  # larger weights than the 0.02 default: peaked, varied predictions
        for parameter in model.parameters():
            if parameter.dim() == 2:
                parameter.normal_(0.0, 0.15)
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def make_scorer(tiny_model_dir: Path) -> Callable[..., TorchScorer]:
    """``make_scorer(**options)``: a fresh CPU scorer over the tiny model."""

    def make(**options: Any) -> TorchScorer:
        scorer = load_scorer(str(tiny_model_dir), device="cpu", **options)
        assert isinstance(scorer, TorchScorer)
        return scorer

    return make


@pytest.fixture(scope="session")
def spec() -> TaskSpec:
    return TaskSpec("Classify the review as positive or negative.", ("review",),
                    ("positive", "negative"))


@pytest.fixture(scope="session")
def labeled() -> list[Example]:
    """Eight labeled examples of different lengths; answers of one to several tokens."""
    texts = ["the movie was great", "bad", "the cat sat on a mat and it was very good",
             "not good", "this is fine", "a dog", "great great great movie yes",
             "it was not very bad this movie"]
    answers = ["positive", "negative", "positive", "negative", "neutral maybe",
               "no", "positive", "negative yes"]
    return [Example({"review": t}, a, key=f"ex{i}")
            for i, (t, a) in enumerate(zip(texts, answers, strict=True))]
