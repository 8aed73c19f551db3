"""Model loading (offline), scorer options, model keys, and the light package import."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dataeff.errors import InvalidInputError, NotFoundError, UnavailableError
from dataeff.estimator import load_scorer, paths
from dataeff.estimator.engine import TorchScorer
from dataeff.estimator.models import locate, resolve_device
from dataeff.estimator.spec import Example, TaskSpec


def test_importing_the_package_does_not_import_torch() -> None:
    code = ("import sys, dataeff.estimator, dataeff.estimator.examples_io, "
            "dataeff.estimator.fake, dataeff.cli; "
            "heavy = {'torch', 'transformers', 'peft'} & set(sys.modules); "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("model", "message"), [
    ("/nonexistent/model-dir", "no such directory"),
    ("./relative/missing", "no such directory"),
    ("no-such-org/no-such-model", "not in the local Hugging Face cache"),
])
def test_unknown_models_are_clear_errors(model: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=message) as error:
        locate(model, tmp_path)
    assert repr(model) in str(error.value)


def test_a_directory_without_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"no config.json"):
        locate(str(tmp_path), tmp_path)


def test_locates_prepared_models_by_name(tmp_path: Path, tiny_model_dir: Path) -> None:
    target = paths.models_dir(tmp_path) / "tiny"
    target.mkdir(parents=True)
    (target / paths.MARKER).write_text("{}")
    assert locate("tiny", tmp_path) == ("tiny", str(target))
    assert locate(str(tiny_model_dir), tmp_path) == (tiny_model_dir.name, str(tiny_model_dir))


def test_devices() -> None:
    device, dtype = resolve_device("cpu")
    assert (device.type, str(dtype)) == ("cpu", "torch.float32")
    assert str(resolve_device("cpu", "bfloat16")[1]) == "torch.bfloat16"
    with pytest.raises(InvalidInputError, match="'gpu7'"):
        resolve_device("gpu7")
    with pytest.raises(InvalidInputError, match="dtype 'int8'"):
        resolve_device("cpu", "int8")
    if not __import__("torch").cuda.is_available():
        with pytest.raises(UnavailableError, match="CUDA is not available"):
            resolve_device("cuda")


def test_unknown_options_are_named(tiny_model_dir: Path) -> None:
    with pytest.raises(InvalidInputError, match="'lora_rank'"):
        load_scorer(str(tiny_model_dir), device="cpu", lora_rank=8)


def test_model_key_changes_with_everything_that_changes_gradients(
    make_scorer: Callable[..., TorchScorer], tmp_path: Path
) -> None:
    base = make_scorer().model_key
    variants = [make_scorer(seed=1), make_scorer(sketch_dim=4096), make_scorer(lora_r=8),
                make_scorer(lora_alpha=16), make_scorer(lora_targets=("q_proj", "v_proj")),
                make_scorer(exact=True)]
    keys = [base, *(v.model_key for v in variants)]
    assert len(set(keys)) == len(keys)
    assert make_scorer().model_key == base
    assert base.startswith("tiny-llama")


def test_missing_lora_targets_are_named(make_scorer: Callable[..., TorchScorer],
                                        spec: TaskSpec, labeled: list[Example]) -> None:
    scorer = make_scorer(lora_targets=("no_such_proj",))
    with pytest.raises(InvalidInputError, match="no_such_proj"):
        scorer.gradient_sketches(spec, labeled[:2])
