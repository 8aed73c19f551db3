"""A fresh, seeded LoRA adapter on the base model (method §5 step 1, §5.1).

Defaults follow the reference: rank 64, alpha 32 (scale 0.5), no bias, on every attention and
MLP projection; dropout is off (the reference's 0.05 is inactive in eval mode). The reference
leaves the initialisation unseeded; here every ``lora_A`` matrix is drawn on the CPU from a
generator seeded by (seed, module path), with PEFT's default distribution (Kaiming-uniform,
a = sqrt(5): uniform on ±1/sqrt(fan_in)), so the adapter is the same on every device and in
every process. ``lora_B`` starts at zero.

At that initialisation the adapter adds B·A·x = 0, so the forward pass is the base model's,
∂L/∂A = scale·Bᵀ·∂L/∂h is exactly zero, and ∂L/∂B = scale·∂L/∂h ⊗ (A·x) (§5.1). dataeff
therefore uses the adapter *virtually* (:func:`virtual_lora`): it keeps the seeded A matrices
beside the projections they adapt and never runs the zero B path, which saves the B matmul,
the zero additions and their backward. :func:`attach_lora` builds the same adapter with PEFT
(identical A, B = 0); the tests use it as the oracle the virtual adapter must match.
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
_PEFT_PREFIX = "base_model.model."


@dataclass(frozen=True)
class LoraSettings:
    """Rank ``r`` >= 1, ``alpha`` > 0 (scale = alpha / r), ``targets``: module names (last
    component), ``seed``: the initialisation seed."""

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
    def scale(self) -> float:
        return self.alpha / self.r

    @property
    def key(self) -> str:
        """Identifies the adapter in :attr:`Scorer.model_key`."""
        return f"lora-r{self.r}-a{self.alpha}-{'+'.join(self.targets)}-s{self.seed}"


@dataclass(frozen=True)
class LoraLayer:
    """One adapted projection: its module path ``name`` (layers are kept in sorted-name
    order), the projection ``module`` (a ``torch.nn.Linear``), its seeded ``lora_a`` (r, in)
    in float32 on the model's device, and the ``offset`` of its B matrix (out, r) in the
    row-major concatenation of all B matrices."""

    name: str
    module: torch.nn.Linear
    lora_a: torch.Tensor
    offset: int

    @property
    def size(self) -> int:
        """Number of entries of this layer's B matrix: out_features · r."""
        return int(self.module.out_features * self.lora_a.shape[0])


@dataclass(frozen=True)
class PeftLayer:
    """A projection adapted by PEFT: module path, its ``lora_A`` and ``lora_B`` modules."""

    name: str
    lora_a: Any
    lora_b: Any


def lora_a_init(seed: int, name: str, r: int, fan_in: int) -> torch.Tensor:
    """The seeded A matrix (r, fan_in), float32, uniform on ±1/sqrt(fan_in), on the CPU."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    generator = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)
    values = torch.rand((r, fan_in), generator=generator, dtype=torch.float32) * 2 - 1
    return values * (1.0 / math.sqrt(fan_in))


def virtual_lora(model: Any, settings: LoraSettings) -> list[LoraLayer]:
    """The adapted projections of ``model`` with their seeded A matrices; B = 0 implicitly."""
    layers: list[LoraLayer] = []
    offset = 0
    for name, module in sorted(model.named_modules(), key=lambda item: item[0]):
        if name.rsplit(".", 1)[-1] not in settings.targets:
            continue
        if not isinstance(module, torch.nn.Linear):
            raise InvalidInputError(f"LoRA target {name} is a {type(module).__name__}, "
                                    "not a linear layer")
        a = lora_a_init(settings.seed, name, settings.r, module.in_features)
        layer = LoraLayer(name, module, a.to(module.weight.device), offset)
        layers.append(layer)
        offset += layer.size
    if not layers:
        raise InvalidInputError(f"LoRA targets {list(settings.targets)} match no module of "
                                "the model")
    return layers


def attach_lora(model: Any, settings: LoraSettings) -> tuple[PeftModel, list[PeftLayer]]:
    """Wrap ``model`` in place with the same adapter through PEFT; every parameter frozen.

    Returns the PEFT model and its adapted layers in sorted-name order (B weights zero).
    """
    config = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=0.0, bias="none",
                        target_modules=list(settings.targets), init_lora_weights=True)
    try:
        peft_model = get_peft_model(model, config)
    except ValueError as error:
        raise InvalidInputError(f"LoRA targets {list(settings.targets)}: {error}") from None
    adapted: list[PeftLayer] = []
    for name, module in sorted(peft_model.named_modules(), key=lambda item: item[0]):
        lora_a = getattr(module, "lora_A", None)
        if not isinstance(lora_a, torch.nn.ModuleDict) or "default" not in lora_a:
            continue
        weight = cast(torch.Tensor, lora_a["default"].weight)
        path = name.removeprefix(_PEFT_PREFIX)
        with torch.no_grad():
            weight.copy_(lora_a_init(settings.seed, path, settings.r, weight.shape[1]))
        b_module = module.lora_B["default"]
        if bool(b_module.weight.detach().any()):
            raise RuntimeError(f"LoRA layer {path}: lora_B is not zero at initialisation")
        adapted.append(PeftLayer(path, lora_a["default"], b_module))
    peft_model.requires_grad_(False)
    peft_model.eval()
    return peft_model, adapted
