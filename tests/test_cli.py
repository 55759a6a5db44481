"""The command line as a user meets it: exit codes, outputs, JSON."""
import json
import subprocess
import sys

import numpy as np

from artrestore import __version__
from artrestore.imageio import write_image
from artrestore.training.synthesis import synthesize_damage


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "artrestore.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_version_and_help():
    assert run("--version").stdout.strip() == f"artrestore {__version__}"
    help_text = run("--help").stdout
    assert "restore" in help_text and "examples:" in help_text


def test_restore_file_json_and_exit_codes(tmp_path, astronaut):
    damaged, _ = synthesize_damage(astronaut[::2, ::2], "moderate", seed=1)
    src = write_image(tmp_path / "in" / "photo.jpg", damaged)
    result = run("restore", "-i", str(src), "-o", str(tmp_path / "out"), "--strategy", "classical", "--json")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert row["status"] == "restored" and row["method"] == "classical"
    assert (tmp_path / "out" / "photo_restored.png").is_file()

    bad = tmp_path / "in" / "bad.png"
    bad.write_text("nope")
    result = run("restore", "-i", str(bad), "-o", str(tmp_path / "out"), "--no-dl")
    assert result.returncode == 1 and "not a readable image" in result.stderr


def test_restore_folder_reports_failures(tmp_path, astronaut):
    folder = tmp_path / "in"
    write_image(folder / "a.png", astronaut[::4, ::4])
    (folder / "b.jpg").write_bytes(b"")
    result = run("restore", "-i", str(folder), "-o", str(tmp_path / "out"), "--no-dl", "--ext", "jpg")
    assert result.returncode == 1
    assert "restored 1" in result.stdout and "b.jpg" in result.stderr
    assert (tmp_path / "out" / "a_restored.jpg").is_file()


def test_analyze_prints_features_and_route(tmp_path, astronaut):
    path = write_image(tmp_path / "a.png", astronaut)
    result = run("analyze", str(path))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)[str(path)]
    assert len(report["features"]) == 14 and report["method"] in ("none", "classical", "ml_guided", "deep_learning")


def test_prefer_and_time_budget_set_how_auto_weighs_time(tmp_path):
    from artrestore._resources import SAMPLES
    from artrestore.decision import LEFT_UNAVAILABLE

    cat = str(SAMPLES / "damaged" / "chelsea_severe.jpg")

    def route(*options):
        result = run("analyze", cat, *options)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)[cat]

    free, tight = route("--prefer", "quality"), route("--prefer", "quality", "--time-budget", "1e-6")
    # With time free, the path of highest predicted gain (the severe cat is not left); no path fits
    # in a microsecond, so the same image is left as it is, and the reason says so.
    gains = free["decision"]["predicted_gain_db"]
    assert free["method"] == max(gains, key=gains.get)
    assert tight["method"] == "none" and tight["decision"]["reason"] == LEFT_UNAVAILABLE
    result = run("restore", "-i", cat, "-o", str(tmp_path / "out"), "--time-budget", "1e-6", "--json")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert row["method"] == "none" and row["reason"] == LEFT_UNAVAILABLE
    for bad in ("0", "-1", "inf", "nan", "soon"):
        result = run("restore", "-i", cat, "-o", str(tmp_path / "out"), "--time-budget", bad)
        assert result.returncode == 2 and "--time-budget" in result.stderr, bad
    result = run("analyze", cat, "--prefer", "fastest")
    assert result.returncode == 2 and "--prefer" in result.stderr
    # The guide's threshold rule instead: no predicted gains to report, a path all the same.
    rule = route("--decision", "rule")
    assert not rule.get("decision") and rule["method"] in ("classical", "ml_guided", "deep_learning")
    result = run("analyze", cat, "--decision", "oracle")
    assert result.returncode == 2 and "--decision" in result.stderr


def test_usage_errors_exit_2(tmp_path):
    assert run("restore", "-i", str(tmp_path / "missing"), "-o", str(tmp_path)).returncode in (1, 2)
    assert run("frobnicate").returncode == 2


def _run_without(modules, *args):
    """The CLI in a process where ``modules`` cannot be imported (as if not installed)."""
    code = (f"import sys\nfor m in {modules!r}: sys.modules[m] = None\n"
            "from artrestore.cli import main\nsys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


def test_missing_optional_dependency_is_one_line_with_the_install_hint(tmp_path):
    result = _run_without(["keras", "tensorflow"], "train", "export", "--out", str(tmp_path / "srv"))
    assert result.returncode == 2
    assert result.stderr.strip() == ('artrestore: error: keras is not installed (the U-Net): '
                                     'pip install "artrestore[dl]"')
    assert "Traceback" not in result.stderr and not (tmp_path / "srv").exists()

    result = _run_without(["sklearn"], "train", "router", "--table", str(tmp_path / "t.csv"), "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and 'pip install "artrestore[train]"' in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_restore_without_tensorflow_falls_back_and_says_why(tmp_path, astronaut):
    damaged, _ = synthesize_damage(astronaut[::4, ::4], "severe", seed=2)
    src = write_image(tmp_path / "severe.png", damaged)
    # Neither runtime of the in-process U-Net: ONNX Runtime (default) nor Keras/TensorFlow.
    result = _run_without(["keras", "tensorflow", "onnxruntime"], "restore", "-i", str(src), "-o", str(tmp_path / "out"),
                          "--strategy", "dl", "--json")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert row["method"] == "ml_guided" and 'pip install "artrestore[dl]"' in row["fallback"]


def test_save_mask_writes_the_inpainted_mask_beside_the_output(tmp_path, astronaut):
    from artrestore.imageio import read_image

    damaged, _ = synthesize_damage(astronaut[::2, ::2], "severe", seed=3)
    src = write_image(tmp_path / "in" / "scan.png", damaged)
    result = run("restore", "-i", str(src), "-o", str(tmp_path / "out"), "--strategy", "ml_guided", "--save-mask",
                 "--json")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    mask = read_image(row["mask"])
    assert row["mask"].endswith("scan_restored_mask.png") and mask.shape == damaged.shape
    assert set(map(int, mask.ravel()[:: 97].tolist())) <= {0, 255}
    # A re-run skips the finished output and its mask; the mask is never overwritten silently.
    again = json.loads(run("restore", "-i", str(src), "-o", str(tmp_path / "out"), "--save-mask", "--json").stdout)
    assert again["status"] == "skipped"


def test_remove_scratches_fills_a_drawn_scratch_and_saves_its_mask(tmp_path, astronaut):
    import cv2

    from artrestore.imageio import read_image

    clean = cv2.GaussianBlur(astronaut, (0, 0), 3)
    damaged = clean.copy()
    cv2.line(damaged, (20, 30), (250, 80), (20, 20, 20), 2)  # one long dark scratch across the sky
    src = write_image(tmp_path / "in" / "scan.png", damaged)
    result = run("restore", "-i", str(src), "-o", str(tmp_path / "out"), "--strategy", "none", "--remove-scratches",
                 "--save-mask", "--json")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    mask, restored = read_image(row["mask"])[..., 0] > 0, read_image(row["output"])
    drawn = np.zeros(damaged.shape[:2], np.uint8)
    cv2.line(drawn, (20, 30), (250, 80), 1, 2)
    assert mask[drawn > 0].mean() > 0.85 and mask.mean() < 0.02
    error = lambda image: np.abs(image[drawn > 0].astype(int) - clean[drawn > 0]).mean()  # noqa: E731
    assert error(restored) < 0.2 * error(damaged)
    assert np.array_equal(restored[~mask], damaged[~mask])  # "none": only the scratch changed
    bad = run("restore", "-i", str(src), "-o", str(tmp_path / "o2"), "--remove-scratches", "-1")
    assert bad.returncode != 0 and "scratches must be a finite number >= 0" in bad.stderr
