"""training.unet_hold: the rule picks the hold and, per severity class, the share a known case needs."""
import cv2
import numpy as np
import pytest

from artrestore.training import unet_hold


def _shift_blue(image, levels):
    out = image.astype(np.int16)
    out[..., 2] += levels
    return np.clip(out, 0, 255).astype(np.uint8)


def test_a_wrong_cast_on_light_images_is_dropped_and_a_right_one_on_damaged_images_kept(monkeypatch):
    rng = np.random.default_rng(0)
    clean = cv2.resize(rng.integers(60, 180, (8, 8, 3)).astype(np.uint8), (64, 64), interpolation=cv2.INTER_CUBIC)
    # Light and clean images: the network adds a cast that is not there. Moderate and severe: it
    # removes the fading the damage made, exactly. Each level is classified with certainty.
    outcomes = [
        ("clean", clean, clean, _shift_blue(clean, 15), {"light": 1.0, "moderate": 0.0, "severe": 0.0}),
        ("light", clean, clean, _shift_blue(clean, 15), {"light": 1.0, "moderate": 0.0, "severe": 0.0}),
        ("moderate", clean, _shift_blue(clean, -20), clean, {"light": 0.0, "moderate": 1.0, "severe": 0.0}),
        ("severe", clean, _shift_blue(clean, -40), clean, {"light": 0.0, "moderate": 0.0, "severe": 1.0}),
    ]
    monkeypatch.setattr(unet_hold, "_outcomes", lambda *args: outcomes)
    report = unet_hold.choose("unused")
    # Either hold removes a pure cast exactly; the colour family is tried first and wins the tie.
    assert report["chosen"]["shares"] == {"light": 0.0, "moderate": 1.0, "severe": 1.0}
    full = report["uniform"][unet_hold.CHANGE_KEEP_KEY]["1.0"]
    assert report["chosen_scores"]["light"]["psnr"] > full["light"]["psnr"] + 10
    assert report["chosen_scores"]["severe"]["psnr"] == full["severe"]["psnr"]
    assert report["input"]["clean"]["psnr"] == unet_hold.PSNR_CAP


def test_no_share_is_taken_when_every_hold_loses_a_level(monkeypatch):
    rng = np.random.default_rng(1)
    clean = cv2.resize(rng.integers(60, 180, (8, 8, 3)).astype(np.uint8), (64, 64), interpolation=cv2.INTER_CUBIC)
    # Every level is classified as light and the network's colour is right everywhere.
    outcomes = [(level, clean, _shift_blue(clean, -10 * (k + 1)), clean, {"light": 1.0})
                for k, level in enumerate(unet_hold.LEVELS)]
    monkeypatch.setattr(unet_hold, "_outcomes", lambda *args: outcomes)
    assert unet_hold.choose("unused")["chosen"]["shares"] == {"light": 1.0, "moderate": 1.0, "severe": 1.0}


LIGHT = {"light": 1.0, "moderate": 0.0, "severe": 0.0}  # the decision certain an image is light


def _clean_and_blurred(seed):
    """A smooth random 64 x 64 image and its Gaussian blur (sigma 3)."""
    rng = np.random.default_rng(seed)
    clean = cv2.resize(rng.integers(60, 180, (8, 8, 3)).astype(np.uint8), (64, 64), interpolation=cv2.INTER_CUBIC)
    return clean, cv2.GaussianBlur(clean, (0, 0), 3)


def test_a_detail_removing_network_on_light_images_gets_its_change_halved(monkeypatch):
    clean, smooth = _clean_and_blurred(2)
    light = LIGHT
    # On light and clean inputs the network blurs (no colour change to take back); on severe
    # inputs (the blurred image) it restores the clean one.
    outcomes = [("clean", clean, clean, smooth, light), ("light", clean, clean, smooth, light),
                ("severe", clean, smooth, clean, {"light": 0.0, "moderate": 0.0, "severe": 1.0})]
    monkeypatch.setattr(unet_hold, "LEVELS", ("clean", "light", "severe"))
    monkeypatch.setattr(unet_hold, "_outcomes", lambda *args: outcomes)
    report = unet_hold.choose("unused")
    assert report["chosen"] == {"hold": unet_hold.CHANGE_KEEP_KEY,
                                "shares": {"light": 0.0, "moderate": 1.0, "severe": 1.0}}


def test_draws_keep_the_training_validation_pairs_first_and_never_repeat_a_seed():
    import pytest

    draws, sources = 4, 12
    seeds = [unet_hold.damage_seed(i, k, d, draws) for i in range(sources) for d in range(draws) for k in range(3)]
    assert len(set(seeds)) == len(seeds)
    # Draw 0 is what training.unet_broad validates on (900000 + 3 i + k), so one draw is the old choice.
    assert [unet_hold.damage_seed(i, k, 0, draws) for i in range(sources) for k in range(3)] == \
        list(range(unet_hold.VAL_SEED0, unet_hold.VAL_SEED0 + 3 * sources))
    with pytest.raises(ValueError, match="draws"):
        unet_hold.choose("unused", draws=0)


def test_an_eight_view_choice_is_recorded_beside_the_one_view_shares_and_read_back(tmp_path):
    import json

    from artrestore.dl.hold import read_shares

    folder = tmp_path / "unet"
    folder.mkdir()
    one_view = {"light": 0.5, "moderate": 0.9, "severe": 0.9}
    from artrestore.dl.contract import BUNDLED_UNET

    metadata = json.loads((BUNDLED_UNET / "model_metadata.json").read_text())
    metadata = {k: v for k, v in metadata.items() if not k.endswith("_x8")}
    metadata[unet_hold.CHANGE_KEEP_KEY] = one_view
    (folder / "model_metadata.json").write_text(json.dumps(metadata))
    report = {"views": 8, "sources": 12, "draws": 4, "rule": "r",
              "chosen": {"hold": unet_hold.CHANGE_KEEP_KEY, "shares": {"light": 0.3, "moderate": 0.9, "severe": 0.7}}}
    unet_hold.record_choice(folder, report, "x8.json")
    metadata = json.loads((folder / "model_metadata.json").read_text())
    assert metadata[unet_hold.CHANGE_KEEP_KEY] == one_view
    assert metadata["hold_choice_x8"]["draws"] == 4
    assert read_shares(folder, 1)[unet_hold.CHANGE_KEEP_KEY] == one_view
    assert read_shares(folder, 8)[unet_hold.CHANGE_KEEP_KEY] == {"light": 0.3, "moderate": 0.9, "severe": 0.7}
    # Two views have no choice of their own: they fall back to the one-view shares.
    assert read_shares(folder, 2)[unet_hold.CHANGE_KEEP_KEY] == one_view


@pytest.mark.dl
def test_held_out_sources_join_the_validation_sources(monkeypatch, astronaut):
    """``extra_val`` reaches the source loader, and each source it adds is scored clean and at every
    severity like the split's own."""
    pytest.importorskip("onnxruntime")
    from artrestore.training import routing_outcomes

    asked = {}

    def sources(clean_dir, split, *, max_side, extra_dir=None):
        asked.update(split=split, extra_dir=extra_dir)
        return [("val/a.png", astronaut[::8, ::8].copy()), ("extra/b.png", astronaut[::-8, ::8].copy())], []

    monkeypatch.setattr(routing_outcomes, "source_images", sources)
    outcomes = unet_hold._outcomes("clean", None, 1, 1, "held_out")
    assert asked == {"split": "val", "extra_dir": "held_out"}
    assert [level for level, *_ in outcomes] == ["clean", "light", "moderate", "severe"] * 2


def test_no_harm_drops_the_light_share_the_keep_all_floor_forces(monkeypatch):
    clean, smooth = _clean_and_blurred(3)
    light = LIGHT
    # The network blurs undamaged and lightly damaged images (here: the clean image itself) and
    # repairs blurred ones exactly; the decision thinks the moderate image half light.
    outcomes = [("clean", clean, clean, smooth, light), ("light", clean, clean, smooth, light),
                ("moderate", clean, smooth, clean, {"light": 0.5, "moderate": 0.5, "severe": 0.0}),
                ("severe", clean, smooth, clean, {"light": 0.0, "moderate": 0.0, "severe": 1.0})]
    monkeypatch.setattr(unet_hold, "_outcomes", lambda *args: outcomes)
    # keep_all: the moderate image may not lose against its whole change, so light keeps it all.
    assert unet_hold.choose("unused")["chosen"]["shares"]["light"] == 1.0
    report = unet_hold.choose("unused", rule="no_harm")
    assert report["chosen"] == {"hold": unet_hold.CHANGE_KEEP_KEY,
                                "shares": {"light": 0.0, "moderate": 1.0, "severe": 1.0}}
    assert report["chosen_scores"]["light"]["psnr"] == report["input"]["light"]["psnr"]
    assert report["rule_name"] == "no_harm"
    with pytest.raises(ValueError, match="rule"):
        unet_hold.choose("unused", rule="best")


def test_with_two_families_the_floor_holds_on_each(monkeypatch):
    clean, smooth = _clean_and_blurred(5)
    severe = {"light": 0.0, "moderate": 0.0, "severe": 1.0}
    moderate = {"light": 0.0, "moderate": 1.0, "severe": 0.0}
    # Family "broad": the network's change helps every damaged level, so no_harm keeps all of it.
    # Family "proxy": light images are misread as moderate and the network blurs them, so keeping
    # the moderate class's change lowers light damage below the input there.
    broad = [("clean", clean, clean, clean, LIGHT), ("light", clean, smooth, clean, LIGHT),
             ("moderate", clean, smooth, clean, moderate), ("severe", clean, smooth, clean, severe)]
    proxy = [("clean", clean, clean, clean, LIGHT), ("light", clean, clean, smooth, moderate),
             ("moderate", clean, smooth, clean, moderate), ("severe", clean, smooth, clean, severe)]
    monkeypatch.setattr(unet_hold, "_outcomes", lambda *args: {"broad": broad, "proxy": proxy}[args[-1]])
    alone = unet_hold.choose("unused", rule="no_harm", families=("broad",))
    assert alone["chosen"]["shares"]["moderate"] == 1.0
    both = unet_hold.choose("unused", rule="no_harm", families=("broad", "proxy"))
    assert both["chosen"]["shares"]["moderate"] == 0.0 and both["chosen"]["shares"]["severe"] == 1.0
    assert both["per_family"]["proxy"]["chosen_scores"]["light"]["psnr"] >= both["per_family"]["proxy"]["input"]["light"]["psnr"]
    with pytest.raises(ValueError, match="families"):
        unet_hold.choose("unused", families=("check",))
