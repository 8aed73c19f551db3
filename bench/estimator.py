"""Benchmark of the estimator: batched and incremental work against the one-at-a-time way.

CPU (default): the embedded SmolLM2-135M-Instruct on the paper's circa demo files.
  (a) confidence pass: batched, self-scoring (one left-padded decode per batch, shared prompt
      prefix computed once) vs the reference approach (one example at a time: generate, then a
      second forward pass to score the answer);
  (b) 32 per-example LoRA gradients: one backward per batch with hooks vs the reference loop
      (a PEFT adapter, one forward/backward per example, full logits, every A and B gradient
      copied);
  (c) adding a 33rd example to a gradient bank (one gradient + O(n·d) cosines) vs recomputing
      all 33 gradients and the bank;
  (d) bytes per stored gradient: the 8192-float sketch vs the full LoRA gradient (fp32).
CUDA (``--device cuda``): the same on a randomly initialised model shaped like
Llama-3.1-8B (bf16, no weights needed), reporting tokens/s and ms per gradient.

Prints one JSON object, then a table with ratios and targets. Usage::

    python bench/estimator.py [--device cpu|cuda] [--n-confidence 16] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from dataeff.estimator.coslow import build_bank
from dataeff.estimator.engine import TorchScorer
from dataeff.estimator.examples_io import load_examples
from dataeff.estimator.lora import attach_lora
from dataeff.estimator.models import load_model, wrap_model
from dataeff.estimator.prompts import prompt_ids
from dataeff.estimator.reference import loop_gradients, two_pass_confidence
from dataeff.estimator.spec import Example, TaskSpec

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference" / "dataefficiency-results" / "coslow_data"
TARGETS = {"confidence": 4.0, "gradients": 3.0, "bank_add": 20.0, "bytes_per_gradient": 65536}


@dataclass
class Timing:
    """Best (smallest) wall-clock and process CPU seconds over the repeats of one measure.

    The CPU time counts only work done by this process, so it stays meaningful on a machine
    shared with other jobs, where wall-clock time swings with their load.
    """

    wall: float = math.inf
    cpu: float = math.inf

    def run(self, fn: Callable[[], Any], device: torch.device) -> Any:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        self.wall = min(self.wall, time.perf_counter() - wall)
        self.cpu = min(self.cpu, time.process_time() - cpu)
        return result


def _ratios(slow: Timing, fast: Timing, slow_n: int = 1, fast_n: int = 1) -> dict[str, float]:
    """Per-item time ratios slow/fast, on wall-clock and on CPU seconds."""
    return {"ratio": (slow.wall / slow_n) / (fast.wall / fast_n),
            "cpu_ratio": (slow.cpu / slow_n) / (fast.cpu / fast_n)}


def llama8b_shaped(device: str) -> TorchScorer:
    """A random bf16 model with Llama-3.1-8B's shapes and the SmolLM2 tokenizer (ids fit)."""
    from transformers import AutoModelForCausalLM, LlamaConfig

    tokenizer = load_model(device="cpu").tokenizer
    config = LlamaConfig(vocab_size=128256, hidden_size=4096, intermediate_size=14336,
                         num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                         max_position_embeddings=8192, rms_norm_eps=1e-5,
                         rope_parameters={"rope_type": "default", "rope_theta": 500000.0},
                         tie_word_embeddings=False, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    loaded = wrap_model(model, tokenizer, name="random-llama-3.1-8b-shape",
                        device=torch.device(device))
    return TorchScorer(loaded)


def bench_confidence(scorer: TorchScorer, spec: TaskSpec, pool: list[Example],
                     n_reference: int, repeats: int) -> dict[str, Any]:
    """Batched vs two passes one at a time, interleaved so both see the same load."""
    device = scorer.loaded.device
    prompts = [prompt_ids(scorer.loaded.tokenizer, spec, e) for e in pool[:n_reference]]
    scorer.confidence(spec, pool[:2])  # warm-up
    two_pass_confidence(scorer.scorer, prompts[0])
    batched, reference = Timing(), Timing()
    for _ in range(repeats):
        scorer.scorer.prompt_tokens = scorer.scorer.generated_tokens = 0
        results = batched.run(lambda: scorer.confidence(spec, pool), device)
        ref_results = reference.run(
            lambda: [two_pass_confidence(scorer.scorer, p) for p in prompts], device)
    tokens = scorer.scorer.prompt_tokens + scorer.scorer.generated_tokens
    ref_tokens = sum(len(p) + r.n_tokens for p, r in zip(prompts, ref_results, strict=True))
    return {"n_batched": len(pool), "n_reference": len(prompts), "repeats": repeats,
            "batched_examples_per_s": len(pool) / batched.wall,
            "batched_tokens_per_s": tokens / batched.wall,
            "reference_examples_per_s": len(prompts) / reference.wall,
            "reference_tokens_per_s": ref_tokens / reference.wall,
            "batched_cpu_s_per_example": batched.cpu / len(pool),
            "reference_cpu_s_per_example": reference.cpu / len(prompts),
            "batch_size": scorer.confidence_batcher.batch_size,
            "same_answers": all(a.answer == b.answer
                                for a, b in zip(results, ref_results, strict=False)),
            **_ratios(reference, batched, len(prompts), len(pool))}


def bench_gradients(scorer: TorchScorer, spec: TaskSpec, examples: list[Example]
                    ) -> tuple[dict[str, Any], Timing, Any]:
    device = scorer.loaded.device
    scorer.gradient_sketches(spec, examples[:1])  # warm-up, builds the adapter
    timing = Timing()
    sketches = timing.run(lambda: scorer.gradient_sketches(spec, examples), device)
    return {"n_batched": len(examples),
            "batched_ms_per_gradient": 1000 * timing.wall / len(examples),
            "batched_cpu_ms_per_gradient": 1000 * timing.cpu / len(examples),
            "batch_size": scorer.gradient_batcher.batch_size}, timing, sketches


def bench_loop(scorer: TorchScorer, spec: TaskSpec, examples: list[Example],
               result: dict[str, Any], batched: Timing) -> None:
    """The reference loop on a real PEFT adapter; attaches it to the scorer's model, so run
    it last."""
    device = scorer.loaded.device
    encoded = scorer.encode(spec, examples)
    peft_model, adapted = attach_lora(scorer.loaded.model, scorer.lora)
    loop_gradients(peft_model, adapted, encoded[:1], device, collect=False)  # warm-up
    timing = Timing()
    timing.run(lambda: loop_gradients(peft_model, adapted, encoded, device, collect=False),
               device)
    result.update({"n_loop": len(encoded),
                   "loop_ms_per_gradient": 1000 * timing.wall / len(encoded),
                   "loop_cpu_ms_per_gradient": 1000 * timing.cpu / len(encoded),
                   **_ratios(timing, batched, len(encoded), result["n_batched"])})


def bench_bank(scorer: TorchScorer, spec: TaskSpec, examples: list[Example],
               sketches: Any, repeats: int) -> dict[str, Any]:
    """One more example into a bank of n - 1 (best of ``repeats``) vs all n from scratch."""
    device = scorer.loaded.device
    *first, extra = examples
    bank = build_bank_from(sketches[: len(first)], first, scorer.sketch_dim)

    def add_one() -> float:
        if extra.key in bank:
            bank.remove(extra.key)
        bank.add(extra.key, scorer.gradient_sketches(spec, [extra])[0])
        return bank.coslow().value

    add, recompute = Timing(), Timing()
    for _ in range(repeats):
        added = add.run(add_one, device)
    rebuilt = recompute.run(lambda: build_bank(scorer, spec, examples).coslow().value, device)
    return {"n": len(examples), "add_seconds": add.wall, "recompute_seconds": recompute.wall,
            "add_cpu_seconds": add.cpu, "recompute_cpu_seconds": recompute.cpu,
            "coslow_difference": abs(added - rebuilt), **_ratios(recompute, add)}


def build_bank_from(rows: Any, examples: list[Example], dim: int) -> Any:
    from dataeff.estimator.bank import GradientBank

    bank = GradientBank(dim)
    for example, row in zip(examples, rows, strict=True):
        bank.add(example.key, row)
    return bank


def bench_storage(scorer: TorchScorer, examples: list[Example], sketches: Any) -> dict[str, Any]:
    bank = build_bank_from(sketches[: len(examples)], examples, scorer.sketch_dim)
    empty = build_bank_from(sketches[:0], [], scorer.sketch_dim)
    per = (len(bank.to_bytes()) - len(empty.to_bytes())) / len(examples)
    b_only = sum(layer.size for layer in scorer.layers)
    lora = b_only + sum(layer.lora_a.numel() for layer in scorer.layers)
    return {"bytes_per_gradient": per, "full_lora_gradient_bytes": 4 * lora,
            "lora_b_gradient_bytes": 4 * b_only, "lora_parameters": lora,
            "ratio": 4 * lora / per}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--n-confidence", type=int, help="prompts, batched (cpu 16, cuda 256)")
    parser.add_argument("--n-reference", type=int, help="prompts, one at a time (cpu 8, cuda 16)")
    parser.add_argument("--n-loop", type=int, help="gradients in the loop (cpu 16, cuda 8)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="interleaved repeats of the confidence measure (best is kept)")
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="coslow_data folder")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    cuda = args.device == "cuda"
    n_conf = args.n_confidence or (256 if cuda else 16)
    _, pool = load_examples(args.reference / "task_data_unannotated.json")
    spec, annotated = load_examples(args.reference / "low_conf_examples_annotated.json",
                                    labeled=True)
    extra = Example(pool[-1].inputs, "1", key="extra-33")
    scorer = llama8b_shaped("cuda") if cuda else TorchScorer(load_model(device="cpu"))
    started = time.perf_counter()
    report: dict[str, Any] = {"device": args.device, "model": scorer.loaded.name,
                              "torch_threads": torch.get_num_threads()}
    report["confidence"] = bench_confidence(scorer, spec, pool[:n_conf],
                                            args.n_reference or (16 if cuda else 8),
                                            args.repeats)
    report["gradients"], batched, sketches = bench_gradients(scorer, spec, annotated)
    report["bank_add"] = bench_bank(scorer, spec, [*annotated, extra], sketches, 3)
    report["storage"] = bench_storage(scorer, annotated, sketches)
    bench_loop(scorer, spec, annotated[: args.n_loop or (8 if cuda else 16)],
               report["gradients"], batched)
    report["seconds"] = time.perf_counter() - started
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text)
    _table(report)
    return 0


def _met(ratio: float, cpu_ratio: float, goal: float) -> str:
    if min(ratio, cpu_ratio) >= goal:
        return "met"
    return "met on cpu time" if cpu_ratio >= goal else "missed"


def _table(report: dict[str, Any]) -> None:
    c, g, b, s = (report[k] for k in ("confidence", "gradients", "bank_add", "storage"))
    small = s["bytes_per_gradient"] <= TARGETS["bytes_per_gradient"]
    rows = [
        ("measure", "one at a time", "dataeff", "ratio", "cpu ratio", "target", "met"),
        ("(a) confidence, examples/s", f"{c['reference_examples_per_s']:.3f}",
         f"{c['batched_examples_per_s']:.3f}", f"{c['ratio']:.1f}x", f"{c['cpu_ratio']:.1f}x",
         ">= 4x", _met(c["ratio"], c["cpu_ratio"], TARGETS["confidence"])),
        ("    tokens/s", f"{c['reference_tokens_per_s']:.0f}",
         f"{c['batched_tokens_per_s']:.0f}", "", "", "", ""),
        ("(b) ms per gradient", f"{g['loop_ms_per_gradient']:.0f}",
         f"{g['batched_ms_per_gradient']:.0f}", f"{g['ratio']:.1f}x", f"{g['cpu_ratio']:.1f}x",
         ">= 3x", _met(g["ratio"], g["cpu_ratio"], TARGETS["gradients"])),
        ("(c) 33rd example, s", f"{b['recompute_seconds']:.2f}", f"{b['add_seconds']:.2f}",
         f"{b['ratio']:.1f}x", f"{b['cpu_ratio']:.1f}x", ">= 20x",
         _met(b["ratio"], b["cpu_ratio"], TARGETS["bank_add"])),
        ("(d) bytes per gradient", f"{s['full_lora_gradient_bytes']:,}",
         f"{s['bytes_per_gradient']:,.0f}", f"{s['ratio']:,.0f}x", "", "<= 64 KiB",
         "met" if small else "missed"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(f"\n{report['model']} on {report['device']} ({report['seconds']:.0f} s)")
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    sys.exit(main())
