"""artrestore.cluster on a local Ray instance (2 CPUs): the single-machine batch is the reference.

Every run is checked against ``HybridRestorer.batch_restore`` on the same inputs: the same output
files byte for byte, the same summary rows. Faults are real: a worker process is SIGKILLed mid-run,
the driver gets SIGINT.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest

from artrestore._cluster_stages import DEFERRED, RestoreStage, UNetStage
from artrestore.imageio import write_image
from artrestore.restorer import HybridRestorer
from artrestore.storage import open_store
from artrestore.training.synthesis import synthesize_damage

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")
from artrestore.cluster import restore_dataset  # noqa: E402

# The guide's threshold rule: its routes (some images to the U-Net, some to ml_guided) are what
# these tests exercise; the learned decision leaves many of these small test images untouched.
NO_DL = {"use_dl": False, "decision": "rule"}


@pytest.fixture(scope="module")
def ray_local():
    import logging

    # num_gpus=1 is a logical resource (no GPU here): the U-Net actor runs TensorFlow on the CPU.
    ray.init(address="local", num_cpus=2, num_gpus=1, include_dashboard=False, logging_level=logging.WARNING)
    yield
    ray.shutdown()


def _photos(astronaut, count, size=(96, 128)):
    """``count`` different crops of the astronaut (rows, cols = ``size``)."""
    rng = np.random.default_rng(7)
    h, w = size
    tops = rng.integers(0, astronaut.shape[0] - h, count)
    lefts = rng.integers(0, astronaut.shape[1] - w, count)
    return [np.ascontiguousarray(astronaut[t:t + h, s:s + w]) for t, s in zip(tops, lefts)]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, astronaut):
    """A folder like a real archive: all severities, a subfolder, two inputs with the same stem,
    unreadable files and a link leaving the folder; and the single-machine result for it."""
    root = tmp_path_factory.mktemp("mixed")
    src = root / "in"
    photos = _photos(astronaut, 12)
    for i, photo in enumerate(photos):
        write_image(src / f"p{i:02d}.png", synthesize_damage(photo, ("light", "moderate", "severe")[i % 3], seed=i)[0])
    write_image(src / "sub" / "deep.jpg", photos[0])
    write_image(src / "p00.jpg", photos[1])  # same stem as p00.png
    # A grayscale scan, a cut-out with transparency and a 16-bit scan: their outputs keep one
    # channel, the alpha and 16 bits.
    cv2.imwrite(str(src / "deep.png"), photos[5][:, :, ::-1].astype(np.uint16) * 257 + 3)
    write_image(src / "gray.png", synthesize_damage(photos[3], "moderate", seed=20)[0][..., 1].copy())
    write_image(src / "cutout.png", np.dstack([photos[4], np.tile(np.arange(photos[4].shape[1], dtype=np.uint8),
                                                                  (photos[4].shape[0], 1))]))
    (src / "text.jpg").write_text("I am not an image")
    (src / "empty.png").write_bytes(b"")
    write_image(root / "outside.png", photos[2])
    os.symlink(root / "outside.png", src / "link.png")
    reference = HybridRestorer(**NO_DL).batch_restore(src, root / "reference", recursive=True, workers=2,
                                                      progress=False)
    return src, root / "reference", reference


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _comparable(rows, src_prefix, out_prefix):
    """Rows without timings, paths relative to their folders."""
    out = []
    for row in rows:
        row = {k: v for k, v in row.items() if k != "ms"}
        row["file"] = os.path.relpath(row["file"].removeprefix("file://"), src_prefix)
        if row["output"]:
            row["output"] = os.path.relpath(row["output"].removeprefix("file://"), out_prefix)
        if row["error"]:  # messages name the file as the user gave it
            row["error"] = row["error"].replace("file://", "")
        out.append(row)
    return out


def _assert_same_as_reference(out, rows, mixed, src_prefix=None, out_prefix=None):
    src, reference_dir, reference = mixed
    expected, got = _tree(reference_dir), _tree(out)
    assert set(got) == set(expected)
    for name in expected:
        if not name.startswith("summary."):
            assert got[name] == expected[name], f"{name} differs from the single-machine output"
    assert _comparable(rows, src_prefix or src, out_prefix or out) == _comparable(reference, src, reference_dir)
    assert _comparable(json.loads((out / "summary.json").read_text()), src_prefix or src, out_prefix or out) == \
        _comparable(rows, src_prefix or src, out_prefix or out)


def test_import_artrestore_never_imports_ray():
    code = ("import sys, artrestore, artrestore.cluster; artrestore.HybridRestorer; "
            "print(sorted(m for m in ('ray', 'pyarrow', 'fsspec') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_without_ray_a_clear_message_and_nothing_written(light_folder, tmp_path):
    code = ("import sys; sys.modules['ray'] = None\n"  # as if Ray were not installed
            "from artrestore.cluster import restore_dataset\n"
            f"restore_dataset({str(light_folder[0])!r}, {str(tmp_path / 'out')!r}, use_dl=False)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1 and 'pip install "artrestore[cluster]"' in result.stderr
    assert os.listdir(tmp_path / "out") == []


def test_bad_arguments_fail_before_any_cluster_work(tmp_path):
    with pytest.raises(ValueError, match="strategy"):
        restore_dataset(tmp_path, tmp_path / "o", strategy="magic")
    with pytest.raises(ValueError, match="workers"):
        restore_dataset(tmp_path, tmp_path / "o", workers=0)
    with pytest.raises(ValueError, match="dl_backend"):
        restore_dataset(tmp_path, tmp_path / "o", dl_backend="http://x")
    with pytest.raises(FileNotFoundError, match="input folder"):
        restore_dataset(tmp_path / "missing", tmp_path / "o", **NO_DL)
    assert not ray.is_initialized()


def test_same_outputs_and_summary_as_batch_restore_then_resume(ray_local, mixed, tmp_path):
    src, _, reference = mixed
    out = tmp_path / "out"
    rows = restore_dataset(src, out, recursive=True, workers=2, **NO_DL)
    _assert_same_as_reference(out, rows, mixed)
    statuses = {os.path.basename(r["file"]): r["status"] for r in rows}
    assert statuses["text.jpg"] == statuses["empty.png"] == statuses["link.png"] == "failed"
    assert any(r.get("fallback") for r in rows), "severe images should record the U-Net fallback"

    again = restore_dataset(src, out, recursive=True, workers=2, **NO_DL)
    assert [r["status"] for r in again] == [{"restored": "skipped"}.get(r["status"], r["status"]) for r in rows]
    assert _tree(out).keys() == _tree(mixed[1]).keys()


def test_filesystem_url_gives_the_same_outputs(ray_local, mixed, tmp_path):
    """file:// goes through pyarrow.fs (the path every s3:// or gs:// URL takes), not the local shortcut."""
    src = mixed[0]
    out = tmp_path / "out"
    rows = restore_dataset(f"file://{src}", f"file://{out}", recursive=True, workers=2, **NO_DL)
    assert rows[0]["file"].startswith("file://")
    # pyarrow lists what the link points to; the local engine refuses links that leave the folder.
    link = [r for r in rows if r["file"].endswith("link.png")]
    assert len(link) == 1 and link[0]["status"] == "restored"
    rows = [r for r in rows if r is not link[0]]
    (out / "link_restored.png").unlink()
    reference = [r for r in mixed[2] if not r["file"].endswith("link.png")]
    expected = _tree(mixed[1])
    got = _tree(out)
    assert {k for k in got if not k.startswith("summary")} == {k for k in expected if not k.startswith("summary")}
    assert all(got[k] == expected[k] for k in got if not k.startswith("summary"))
    assert _comparable(rows, src, out) == _comparable(reference, src, mixed[1])


def _descendants(pid):
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = [], {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found += frontier
    return found


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().decode(errors="replace")
    except OSError:
        return ""


@pytest.fixture(scope="module")
def light_folder(tmp_path_factory, astronaut):
    root = tmp_path_factory.mktemp("light")
    for i, photo in enumerate(_photos(astronaut, 40, size=(256, 256))):
        write_image(root / "in" / f"l{i:02d}.png", synthesize_damage(photo, "light", seed=i)[0])
    HybridRestorer(**NO_DL).batch_restore(root / "in", root / "reference", workers=2, progress=False)
    return root / "in", _tree(root / "reference")


def _when_outputs(out, count, action, timeout_s=60.0):
    """Run ``action`` (in a thread) once ``count`` outputs exist; returns what it returned."""
    result = {}

    def watch():
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if out.is_dir() and sum(1 for p in out.iterdir() if p.name.endswith("_restored.png")) >= count:
                result["value"] = action()
                return
            time.sleep(0.002)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread, result


def _assert_each_input_once(out, rows, src, expected):
    got = _tree(out)
    assert not [p for p in out.iterdir() if p.name.endswith(".part")], "temporary file left"
    assert set(got) == set(expected)
    assert all(got[k] == expected[k] for k in expected if not k.startswith("summary"))
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(r["file"] for r in summary) == sorted(str(p) for p in src.iterdir())
    assert summary == rows


def test_worker_killed_mid_run_every_image_restored_exactly_once(ray_local, light_folder, tmp_path):
    src, expected = light_folder
    out = tmp_path / "out"

    def kill_a_worker():
        workers = [p for p in _descendants(os.getpid()) if "RestoreStage" in _cmdline(p)]
        done = sum(1 for p in out.iterdir() if p.name.endswith("_restored.png"))
        if workers:
            os.kill(workers[0], signal.SIGKILL)
        return len(workers), done

    thread, killed = _when_outputs(out, 6, kill_a_worker)
    rows = restore_dataset(src, out, workers=2, batch_size=1, **NO_DL)
    thread.join()
    workers, done_at_kill = killed["value"]
    assert workers >= 1 and done_at_kill < len(rows), "the kill must land mid-run"
    assert all(r["status"] == "restored" for r in rows)
    _assert_each_input_once(out, rows, src, expected)


def test_ctrl_c_leaves_a_resumable_state(ray_local, light_folder, tmp_path, monkeypatch):
    src, expected = light_folder
    out = tmp_path / "out"
    import tqdm

    real_bar = tqdm.tqdm

    class CtrlCAfterSix(real_bar):
        """The driver's progress bar: a real SIGINT (Ctrl-C) in the main thread once six results are
        in (deterministic; a watcher thread sending it when six files existed raced the run)."""

        results_in = 0

        def update(self, n=1):
            result = super().update(n)  # counts nothing when disabled (progress=False): count here
            type(self).results_in += n
            if type(self).results_in == 6:
                signal.raise_signal(signal.SIGINT)
            return result

    monkeypatch.setattr(tqdm, "tqdm", CtrlCAfterSix)  # cluster._run imports it at call time
    # Python's own Ctrl-C handler, even where the test runner inherited SIGINT ignored (a process
    # started in the background by a non-interactive shell does: the signal would then do nothing).
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            restore_dataset(src, out, workers=2, batch_size=1, **NO_DL)
    finally:
        signal.signal(signal.SIGINT, inherited)
    monkeypatch.setattr(tqdm, "tqdm", real_bar)
    summary = json.loads((out / "summary.json").read_text())
    statuses = [r["status"] for r in summary]
    assert len(summary) == 40 and "interrupted" in statuses and "restored" in statuses
    # Whatever was written under its final name is whole. (This test's Ray is the fixture's, which
    # the interrupted run must not shut down, so one of its actors can still be writing a temporary
    # file after Ctrl-C; a run that starts its own Ray, as the CLI does, stops every worker before
    # its clean-up. Either way the next run removes such leftovers, checked below.)
    for path in sorted(out.rglob("*")):
        name = str(path.relative_to(out))
        if path.is_file() and not name.startswith("summary.") and not name.endswith(".part"):
            assert path.read_bytes() == expected[name]

    rows = restore_dataset(src, out, workers=2, batch_size=1, **NO_DL)
    assert {r["status"] for r in rows} == {"restored", "skipped"}
    assert not [p for p in out.iterdir() if p.name.endswith(".part")], "temporary file left"
    _assert_each_input_once(out, rows, src, expected)


# ---------------------------------------------------------------------- the stages, without Ray
def _batch(pairs):
    return {"index": np.arange(len(pairs)), "src": np.array([os.fsencode(s) for s, _ in pairs], dtype=object),
            "dst": np.array([os.fsencode(d) for _, d in pairs], dtype=object)}


def test_unet_images_are_deferred_and_the_rest_written_first(astronaut, tmp_path):
    """With GPU actors, the CPU stage writes light images and hands severe ones on untouched; the
    U-Net stage restores only those, to the bytes ``restore_file`` writes for ``auto``."""
    restorer = HybridRestorer(**NO_DL)
    damaged = [synthesize_damage(photo, severity, seed=i)[0]
               for i, photo in enumerate(_photos(astronaut, 4, size=(128, 128))) for severity in ("light", "severe")]
    light, severe = tmp_path / "light.png", tmp_path / "severe.png"
    write_image(light, next(d for d in damaged if restorer.analyze(d)["method"] != "deep_learning"))
    write_image(severe, next(d for d in damaged if restorer.analyze(d)["method"] == "deep_learning"))
    store = open_store(tmp_path)
    pairs = [(str(light), str(tmp_path / "out" / "light.png")), (str(severe), str(tmp_path / "out" / "severe.png"))]

    cpu = RestoreStage(store, store, "auto", NO_DL, defer_unet=True)
    first = cpu(_batch(pairs))
    rows = [json.loads(r) for r in first["row"]]
    assert rows[0]["status"] == "restored" and rows[1]["status"] == DEFERRED
    assert os.path.exists(pairs[0][1]) and not os.path.exists(pairs[1][1])

    unet = UNetStage(store, store, "auto", NO_DL)  # no U-Net here: it falls back exactly as one machine does
    second = unet(first)
    after = [json.loads(r) for r in second["row"]]
    assert after[0] == rows[0], "rows that needed no U-Net pass through untouched"
    expected = restorer.restore_file(severe, tmp_path / "ref", output_path=tmp_path / "ref" / "severe.png")
    assert {k: v for k, v in after[1].items() if k not in ("ms", "output")} == \
        {k: v for k, v in expected.items() if k not in ("ms", "output")}
    assert open(pairs[1][1], "rb").read() == (tmp_path / "ref" / "severe.png").read_bytes()


def test_scratch_removal_on_the_cpu_stage_gives_restore_files_bytes(astronaut, tmp_path):
    """``scratches=`` reaches the stages' restorers: the bytes ``restore_file`` writes with it."""
    scanned = cv2.GaussianBlur(cv2.resize(astronaut, (256, 256)), (0, 0), 2)
    cv2.line(scanned, (5, 30), (250, 90), (25, 25, 25), 1)
    src = write_image(tmp_path / "scan.png", scanned)
    options = {**NO_DL, "scratches": 1.0}
    store = open_store(tmp_path)
    rows = RestoreStage(store, store, "classical", options, defer_unet=False)(_batch([(str(src), str(tmp_path / "out.png"))]))
    assert json.loads(rows["row"][0])["status"] == "restored"
    expected = HybridRestorer(**options).restore_file(src, tmp_path, output_path=tmp_path / "ref.png", strategy="classical")
    plain = HybridRestorer(**NO_DL).restore_file(src, tmp_path, output_path=tmp_path / "plain.png", strategy="classical")
    assert expected["status"] == plain["status"] == "restored"
    assert (tmp_path / "out.png").read_bytes() == (tmp_path / "ref.png").read_bytes() != (tmp_path / "plain.png").read_bytes()


def test_the_cpu_stage_says_why_auto_left_an_image_as_restore_file_does(astronaut, tmp_path):
    """A row's ``reason`` (and every other field but the time) is the one ``restore_file`` gives."""
    from artrestore.decision import LEFT_UNAVAILABLE

    damaged, _ = synthesize_damage(astronaut[::2, ::2].copy(), "severe", seed=3)
    src = write_image(tmp_path / "old.png", damaged)
    options = {"use_dl": False, "time_budget_s": 1e-6}  # learned decision; no path fits: left, and why
    store = open_store(tmp_path)
    rows = RestoreStage(store, store, "auto", options, defer_unet=False)(_batch([(str(src), str(tmp_path / "out.png"))]))
    row = json.loads(rows["row"][0])
    expected = HybridRestorer(**options).restore_file(src, tmp_path, output_path=tmp_path / "ref.png")
    assert row["reason"] == expected["reason"] == LEFT_UNAVAILABLE
    assert {k: v for k, v in row.items() if k not in ("ms", "output")} == \
        {k: v for k, v in expected.items() if k not in ("ms", "output")}


@pytest.mark.dl
def test_unet_on_gpu_actors_same_outputs_as_one_machine(ray_local, astronaut, tmp_path):
    """The whole pipeline with the U-Net in a GPU actor: the bytes ``batch_restore`` writes with the
    U-Net in process (both on this CPU), light images on the classical paths, severe on the U-Net."""
    pytest.importorskip("tensorflow")
    restorer = HybridRestorer(decision="rule")
    src = tmp_path / "in"
    damaged = [synthesize_damage(photo, severity, seed=i)[0]
               for i, photo in enumerate(_photos(astronaut, 2, size=(128, 128))) for severity in ("light", "severe")]
    routes = [restorer.analyze(d)["method"] for d in damaged]
    for i, image in enumerate(damaged):
        write_image(src / f"d{i}.png", image)
    reference = restorer.batch_restore(src, tmp_path / "reference", workers=1, progress=False)
    assert [r["method"] for r in reference] == routes and "deep_learning" in routes and "ml_guided" in routes

    out = tmp_path / "out"
    rows = restore_dataset(src, out, workers=1, dl_gpus=1, decision="rule")
    assert _comparable(rows, src, out) == _comparable(reference, src, tmp_path / "reference")
    expected, got = _tree(tmp_path / "reference"), _tree(out)
    assert set(got) == set(expected)
    assert all(got[k] == expected[k] for k in got if not k.startswith("summary"))


def test_cli_handler_with_the_restore_arguments(light_folder, tmp_path, capsys):
    """``artrestore restore --engine ray`` reads the names the restore command defines."""
    import shutil

    from artrestore import cli

    parser = cli.build_parser()
    src = light_folder[0]
    out = tmp_path / "out"
    shutil.copytree(src.parent / "reference", out)  # everything done: the handler plans, skips and reports
    args = parser.parse_args(["restore", "-i", str(src), "-o", str(out), "--engine", "ray", "--workers", "2",
                              "--no-dl"])
    assert args.engine == "ray" and args.address is None and args.dl_gpus is None
    assert args.handler(args) == 0
    assert "restored 0, skipped 40 (already done), failed 0" in capsys.readouterr().out
    masks = parser.parse_args(["restore", "-i", str(src), "-o", str(out), "--engine", "ray", "--save-mask"])
    with pytest.raises(SystemExit, match="--save-mask is not available with --engine ray"):
        masks.handler(masks)
