"""The package's layout promises: light modules stay light, old import paths still work, and each
fact (model name, signature keys, suffixes, choices, version) is written once."""
import dataclasses
import importlib
import importlib.metadata
import json
import pathlib
import subprocess
import sys

import pytest

import artrestore

PACKAGE = pathlib.Path(artrestore.__file__).resolve().parent
SOURCES = [p for p in PACKAGE.rglob("*.py") if "_proto" not in p.parts]


def _imported_after(statement: str) -> set:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", ["artrestore", "artrestore.dl", "artrestore.dl.contract", "artrestore.dl.tiling",
                                    "artrestore.dl.backends", "artrestore.serving", "artrestore.serving.client",
                                    "artrestore.restorer", "artrestore.cli"])
def test_light_modules_never_import_tensorflow_keras_or_training(module):
    loaded = _imported_after(f"import {module}")
    heavy = {m for m in loaded if m.split(".")[0] in ("tensorflow", "keras", "sklearn")}
    training = {m for m in loaded if m.startswith("artrestore.training")}
    assert not heavy and not (training and module != "artrestore.cli"), (heavy, training)


def test_building_the_cli_parser_imports_no_tensorflow():
    loaded = _imported_after("from artrestore.cli import build_parser; build_parser()")
    assert not {m for m in loaded if m.split(".")[0] in ("tensorflow", "keras", "sklearn", "grpc")}


def test_unet_training_step_needs_no_compiled_core():
    # `artrestore train unet` runs on GPU machines where the C++ core may not be built.
    loaded = _imported_after("sys.modules['artrestore._core'] = None; from artrestore.cli import build_parser; "
                             "build_parser(); import artrestore.training.unet_train")
    assert "artrestore.training.unet_train" in loaded


OLD_NAMES = {
    "artrestore.dl": {"TILE": "artrestore.dl.contract", "CONTEXT": "artrestore.dl.contract",
                      "UNetConfig": "artrestore.dl.contract", "BUNDLED_UNET": "artrestore.dl.contract",
                      "tiled_predict": "artrestore.dl.tiling", "blend_window": "artrestore.dl.tiling",
                      "make_context": "artrestore.dl.tiling", "build_unet": "artrestore.dl.arch",
                      "load_model": "artrestore.dl.weights", "UNetRestorer": "artrestore.dl.inference",
                      "make_loss": "artrestore.training.losses", "TrainConfig": "artrestore.training.unet_train",
                      "train_unet": "artrestore.training.unet_train",
                      "transfer_weights": "artrestore.training.unet_train",
                      "evaluate_on_pairs": "artrestore.training.unet_eval",
                      "export_saved_model": "artrestore.serving.export"},
    "artrestore.serving": {"to_tensor_proto": "artrestore.serving.tensors", "TFServingClient": "artrestore.serving.client",
                           "RemoteUNet": "artrestore.serving.client", "ServingError": "artrestore.serving.client",
                           "serve": "artrestore.serving.standin", "export_for_serving": "artrestore.serving.export"},
    "artrestore.data": {"synthesize_damage": "artrestore.training.synthesis", "SEVERITIES": "artrestore.training.synthesis",
                        "build_dataset": "artrestore.training.datasets", "load_pairs": "artrestore.training.datasets",
                        "IMAGE_SUFFIXES": "artrestore.imageio"},
    "artrestore.router_fit": {"fit_router": "artrestore.training.router_fit",
                              "_read_training_table": "artrestore.training.router_fit"},
    "artrestore.restorer": {"DeepLearningUnavailable": "artrestore.errors", "STRATEGIES": "artrestore.strategies"},
    "artrestore": {"synthesize_damage": "artrestore.training.synthesis", "HybridRestorer": "artrestore.restorer"},
}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("old", sorted(OLD_NAMES))
def test_old_import_paths_give_the_same_objects(old):
    module = importlib.import_module(old)
    for name, new in OLD_NAMES[old].items():
        assert getattr(module, name) is getattr(importlib.import_module(new), name), f"{old}.{name}"


def test_old_signature_constants_keep_their_values():
    from artrestore import dl, serving

    assert (dl.SIGNATURE_INPUT, dl.SIGNATURE_OUTPUT, dl.SIGNATURE_CONTEXT) == ("image", "restored", "context")
    assert (serving.DEFAULT_MODEL, serving.SIGNATURE) == ("artrestore_unet", "serving_default")
    with pytest.raises(AttributeError):
        dl.no_such_name  # noqa: B018


@pytest.mark.parametrize("literal, home", [('"artrestore_unet"', "dl/contract.py"),
                                           ('"serving_default"', "dl/contract.py"),
                                           ('".webp"', "imageio.py"),
                                           ('"mse_ssim"', "training/losses.py"),
                                           ('"ml_guided": "ml_guided"', "strategies.py")])
def test_each_fact_is_written_once(literal, home):
    # An encoder's format argument (cv2.imencode(".webp", ...)) names a codec, not the suffix list.
    places = [str(p.relative_to(PACKAGE)) for p in SOURCES
              if any(literal in line and "imencode(" not in line for line in p.read_text().splitlines())]
    assert places == [home]


def test_version_is_written_once():
    assert importlib.metadata.version("artrestore") == artrestore.__version__
    pyproject = (PACKAGE.parents[1] / "pyproject.toml").read_text()
    assert f'version = "{artrestore.__version__}"' not in pyproject


def test_cli_choices_and_defaults_come_from_their_tables():
    from artrestore.cli import build_parser
    from artrestore.strategies import STRATEGIES
    from artrestore.training.losses import LOSSES
    from artrestore.training.unet_train import TrainConfig

    parser = build_parser()
    restore = parser.parse_args(["restore", "-i", "x", "-o", "y"])
    assert restore.strategy == "auto"
    with pytest.raises(SystemExit):
        parser.parse_args(["restore", "-i", "x", "-o", "y", "--strategy", "magic"])
    for name in STRATEGIES:
        assert parser.parse_args(["restore", "-i", "x", "-o", "y", "-s", name]).strategy == name
    for loss in LOSSES:
        assert parser.parse_args(["train", "unet", "--clean", "c", "--out", "o", "--loss", loss]).loss == loss
    args = parser.parse_args(["train", "unet", "--clean", "c", "--out", "o"])
    from artrestore.cli.train.unet import config_from_args

    config = config_from_args(args)
    defaults = TrainConfig(clean_dir="c", out_dir="o")
    assert config == defaults  # every exposed default is TrainConfig's own
    assert {f.name for f in dataclasses.fields(TrainConfig) if f.metadata.get("flag")} >= {"epochs", "loss", "seed"}


def test_modules_stay_small():
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in SOURCES}
    assert {name: n for name, n in sizes.items() if n > 300} == {}
