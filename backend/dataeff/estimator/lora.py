"""A fresh, seeded LoRA adapter on the base model (method §5 step 1, §5.1).

Defaults follow the reference: rank 64, alpha 32 (scale 0.5), no bias, on every attention and
MLP projection; dropout is off (the reference's 0.05 is inactive in eval mode). The reference
leaves the initialisation unseeded; here every ``lora_A`` matrix is drawn on the CPU from a
generator seeded by (seed, module name), with PEFT's default distribution (Kaiming-uniform,
a = sqrt(5): uniform on ±1/sqrt(fan_in)), so the adapter is the same on every device and
in every process. ``lora_B`` starts at zero, so ∂L/∂A = scale·Bᵀ·∂L/∂h is exactly zero and
only the B gradients carry information (§5.1); :func:`attach_lora` checks B = 0.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, cast

import torch
from peft import LoraConfig, PeftModel, get_peft_model

from dataeff.errors import InvalidInputError

DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class LoraSettings:
    """Rank ``r`` >= 1, ``alpha`` > 0 (scale = alpha / r), ``targets``: module-name suffixes,
    ``seed``: the initialisation seed."""

    r: int = 64
    alpha: int = 32
    targets: tuple[str, ...] = DEFAULT_TARGETS
    seed: int = 0

    def __post_init__(self) -> None:
        if self.r < 1:
            raise InvalidInputError(f"LoRA rank must be positive, got {self.r}")
        if not self.alpha > 0:
            raise InvalidInputError(f"LoRA alpha must be positive, got {self.alpha}")
        if not self.targets:
            raise InvalidInputError("LoRA targets must name at least one module")

    @property
    def key(self) -> str:
        """Identifies the adapter in :attr:`Scorer.model_key`."""
        return f"lora-r{self.r}-a{self.alpha}-{'+'.join(self.targets)}-s{self.seed}"


@dataclass(frozen=True)
class LoraLayer:
    """One adapted projection: ``name`` (stable, sorted order), its ``lora_B`` module with a
    weight of shape (out_features, r), and the offset of that weight in the concatenation of
    all B weights (row-major)."""

    name: str
    lora_b: torch.nn.Linear
    offset: int

    @property
    def size(self) -> int:
        return int(self.lora_b.weight.numel())


def attach_lora(model: Any, settings: LoraSettings) -> tuple[PeftModel, list[LoraLayer]]:
    """Wrap ``model`` (in place) with a fresh seeded adapter; every parameter ends frozen.

    Returns the PEFT model and the adapted layers in sorted-name order.
    """
    config = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=0.0, bias="none",
                        target_modules=list(settings.targets), init_lora_weights=True)
    try:
        peft_model = get_peft_model(model, config)
    except ValueError as error:
        raise InvalidInputError(f"LoRA targets {list(settings.targets)}: {error}") from None
    layers: list[LoraLayer] = []
    offset = 0
    for name, module in sorted(peft_model.named_modules(), key=lambda item: item[0]):
        lora_a = getattr(module, "lora_A", None)
        if not isinstance(lora_a, torch.nn.ModuleDict) or "default" not in lora_a:
            continue
        a_weight = cast(torch.Tensor, lora_a["default"].weight)
        b_module = module.lora_B["default"]
        _seeded_uniform_(a_weight, settings.seed, name)
        if bool(b_module.weight.detach().any()):
            raise RuntimeError(f"LoRA layer {name}: lora_B is not zero at initialisation")
        layers.append(LoraLayer(name, b_module, offset))
        offset += int(b_module.weight.numel())
    peft_model.requires_grad_(False)
    peft_model.eval()
    return peft_model, layers


def _seeded_uniform_(weight: torch.Tensor, seed: int, name: str) -> None:
    """Fill ``weight`` (r, fan_in) from uniform(±1/sqrt(fan_in)), seeded by (seed, name)."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    generator = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)
    bound = 1.0 / math.sqrt(weight.shape[1])
    values = torch.rand(weight.shape, generator=generator, dtype=torch.float32) * 2 - 1
    with torch.no_grad():
        weight.copy_((values * bound).to(weight.dtype))
