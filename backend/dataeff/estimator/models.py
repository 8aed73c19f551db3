"""Load a causal language model and its tokenizer, offline (method §3, §5: the base model).

``model`` is ``None`` (the embedded SmolLM2-135M-Instruct), a local directory, the name of a
model prepared in the dataeff cache, or a Hugging Face hub id already in the local hub cache.
Nothing is ever downloaded. Device ``"auto"`` picks CUDA with bfloat16 when available, else the
CPU with float32. The embedded model is converted once from its GGUF file into
``<cache>/models/SmolLM2-135M-Instruct`` (safetensors); later loads take about a second.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from dataeff import __version__
from dataeff.errors import InvalidInputError, NotFoundError, UnavailableError
from dataeff.estimator import paths

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class LoadedModel:
    """A model in eval mode on ``device`` with its tokenizer; ``fingerprint`` identifies the
    weights' source (name, config, file sizes) for :attr:`Scorer.model_key`."""

    name: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    device: torch.device
    dtype: torch.dtype
    fingerprint: str


def resolve_device(
    device: str = "auto", dtype: str | None = None
) -> tuple[torch.device, torch.dtype]:
    """``"auto"`` -> (cuda, bfloat16) when CUDA is available, else (cpu, float32)."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise InvalidInputError(
            f"device {device!r} is not a torch device (try auto, cpu, cuda)"
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UnavailableError(f"device {device!r}: CUDA is not available on this machine")
    if dtype is None:
        return dev, torch.bfloat16 if dev.type == "cuda" else torch.float32
    if dtype not in DTYPES:
        raise InvalidInputError(f"dtype {dtype!r} is not one of {sorted(DTYPES)}")
    return dev, DTYPES[dtype]


def prepare_embedded(cache_dir: Path | None = None) -> Path:
    """Convert the embedded GGUF model into safetensors under the cache, once (idempotent).

    The conversion (about 40 s) writes into a temporary sibling directory that is renamed into
    place, so a crash never leaves a half-written model behind.
    """
    target = paths.embedded_model_dir(cache_dir)
    if paths.is_prepared(target):
        return target
    gguf = paths.embedded_gguf()
    log.info("converting the embedded model %s from %s into %s (once)", paths.EMBEDDED_MODEL,
             gguf, target)
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        quantized = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32
        )
        config = quantized.config.to_dict()
        config.pop("quantization_config", None)
        model = AutoModelForCausalLM.from_config(  # type: ignore[no-untyped-call]
            type(quantized.config).from_dict(config), dtype=torch.float32
        )
        model.load_state_dict(quantized.state_dict())
        model.generation_config = _clean_generation_config(tokenizer, model)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        marker = {"name": paths.EMBEDDED_MODEL, "source": gguf.name,
                  "source_bytes": gguf.stat().st_size, "dataeff": __version__}
        (tmp / paths.MARKER).write_text(json.dumps(marker, indent=1))
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache is shared
        for file in tmp.iterdir():
            file.chmod(0o644)
        if target.exists() and not paths.is_prepared(target):
            shutil.rmtree(target)  # a stale partial copy from an older layout
        try:
            os.replace(tmp, target)
        except OSError:
            if not paths.is_prepared(target):  # not a concurrent prepare that won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("embedded model ready in %.1f s", time.perf_counter() - started)
    return target


def locate(model: str | None, cache_dir: Path | None = None) -> tuple[str, str]:
    """(display name, what ``from_pretrained`` loads) for a model argument; see module doc."""
    if paths.is_embedded(model):
        return paths.EMBEDDED_MODEL, str(prepare_embedded(cache_dir))
    assert model is not None
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise NotFoundError(f"model {model!r}: directory has no config.json")
        return path.name, str(path)
    cached = paths.models_dir(cache_dir) / model
    if paths.is_prepared(cached):
        return model, str(cached)
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise NotFoundError(f"model {model!r}: no such directory")
    try:
        AutoConfig.from_pretrained(model, local_files_only=True)
    except (OSError, ValueError) as error:
        raise NotFoundError(
            f"model {model!r}: not a local directory, not prepared in {paths.models_dir(cache_dir)}"
            f" and not in the local Hugging Face cache (dataeff never downloads): {error}"
        ) from None
    return model, model


def check_model(model: str | None, cache_dir: Path | None = None) -> tuple[str, str]:
    """Prepare the embedded model, or check that ``model`` is available offline with a chat
    template; returns (name, location). Loads no weights for other models."""
    name, source = locate(model, cache_dir)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError) as error:
        raise UnavailableError(f"model {name!r}: its tokenizer cannot be loaded: {error}") from None
    if getattr(tokenizer, "chat_template", None) is None:
        raise InvalidInputError(f"model {name!r}: its tokenizer has no chat template")
    return name, source


def load_model(
    model: str | None = None,
    *,
    device: str = "auto",
    dtype: str | None = None,
    cache_dir: Path | None = None,
) -> LoadedModel:
    """Load model + tokenizer in eval mode with a clean greedy generation config."""
    name, source = locate(model, cache_dir)
    dev, torch_dtype = resolve_device(device, dtype)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
        lm = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype, local_files_only=True)
    except (OSError, ValueError) as error:
        raise UnavailableError(
            f"model {name!r} could not be loaded from {source}: {error}"
        ) from None
    return wrap_model(lm, tokenizer, name=name, device=dev, fingerprint=_fingerprint(name, source))


def wrap_model(
    lm: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    *,
    name: str,
    device: torch.device,
    fingerprint: str | None = None,
) -> LoadedModel:
    """Put an already-built model on ``device`` in eval mode (used by tests and benchmarks)."""
    if getattr(tokenizer, "chat_template", None) is None:
        raise InvalidInputError(f"model {name!r}: its tokenizer has no chat template")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    lm = lm.to(device).eval()  # type: ignore[arg-type]
    lm.requires_grad_(False)
    lm.generation_config = _clean_generation_config(tokenizer, lm)
    dtype = next(lm.parameters()).dtype
    if fingerprint is None:
        fingerprint = hashlib.sha256(lm.config.to_json_string().encode()).hexdigest()[:16]
    return LoadedModel(name, lm, tokenizer, device, dtype, fingerprint)


def end_token_ids(tokenizer: PreTrainedTokenizerBase, lm: Any) -> list[int]:
    """Every id that ends a turn: the tokenizer's EOS and the model's configured EOS ids."""
    ids: set[int] = set()
    for source in (tokenizer.eos_token_id, getattr(lm.generation_config, "eos_token_id", None),
                   getattr(lm.config, "eos_token_id", None)):
        if isinstance(source, int):
            ids.add(source)
        elif isinstance(source, list | tuple):
            ids.update(int(i) for i in source)
    return sorted(ids)


def special_token_ids(tokenizer: PreTrainedTokenizerBase) -> set[int]:
    """The tokenizer's special tokens, including added tokens flagged special (chat markup)."""
    ids = {int(i) for i in tokenizer.all_special_ids}
    decoder = getattr(tokenizer, "added_tokens_decoder", {})
    ids.update(int(i) for i, token in decoder.items() if getattr(token, "special", False))
    return ids


def _clean_generation_config(tokenizer: PreTrainedTokenizerBase, lm: Any) -> GenerationConfig:
    """Greedy decoding with nothing else: no penalties or warpers alter the logits we score."""
    return GenerationConfig(  # type: ignore[no-untyped-call]
        do_sample=False,
        eos_token_id=end_token_ids(tokenizer, lm),
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None
        else tokenizer.eos_token_id,
    )


def _fingerprint(name: str, source: str) -> str:
    """Hash of the name, config and weight-file sizes: cheap, changes when the weights do."""
    digest = hashlib.sha256(name.encode())
    directory = Path(source)
    if directory.is_dir():
        for file in sorted(directory.iterdir()):
            if file.suffix in {".json", ".safetensors", ".bin"} and file.name != paths.MARKER:
                digest.update(file.name.encode() + str(file.stat().st_size).encode())
                if file.name == "config.json":
                    digest.update(file.read_bytes())
    return digest.hexdigest()[:16]
