"""Image collection from Debian packages, checked on a small .deb built here (no network)."""
import csv
import dataclasses
import hashlib
import json
import pathlib
import shutil
import subprocess

import cv2
import numpy as np
import pytest

from artrestore.training import image_select as sel
from artrestore.training.collect_images import PackageSpec, collect_images, main
from artrestore.training.crop_shards import load_shard, pack_shards
from artrestore.training.debsource import Copyright

pytestmark = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: fake-art

Files: *
Copyright: 2020 Some Painter
License: GPL-2+

Files: photos/*
Copyright: 2021 A Photographer
License: CC-BY-4.0

Files: debian/*
Copyright: 2022 The Packager
License: MIT
"""


def photo_like(seed: int, h: int, w: int) -> np.ndarray:
    """Multi-scale coloured noise: many colours, texture everywhere, no flat areas."""
    rng = np.random.default_rng(seed)
    image = np.zeros((h, w, 3), np.float32)
    for sigma, amplitude in ((24, 90), (6, 50), (1.5, 30)):
        layer = cv2.GaussianBlur(rng.normal(0, 1, (h, w, 3)).astype(np.float32), (0, 0), sigma)
        image += amplitude * layer / layer.std()
    return np.clip(image + 128 + rng.normal(0, 3, (h, w, 3)), 0, 255).astype(np.uint8)


def vector_like(h: int, w: int) -> np.ndarray:
    image = np.full((h, w, 3), (230, 230, 240), np.uint8)
    cv2.rectangle(image, (40, 40), (w // 2, h // 2), (200, 30, 30), -1)
    cv2.circle(image, (w * 2 // 3, h * 2 // 3), min(h, w) // 5, (20, 120, 200), -1)
    return image


def png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image[:, :, ::-1])[1].tobytes()


@pytest.fixture(scope="module")
def fake_deb(tmp_path_factory):
    root = tmp_path_factory.mktemp("pkg") / "fake-art"
    files = {
        "usr/share/fake-art/photos/scene.png": png(photo_like(1, 640, 800)),
        "usr/share/fake-art/photos/scene_small.jpg": cv2.imencode(
            ".jpg", cv2.resize(photo_like(1, 640, 800), (400, 320), interpolation=cv2.INTER_AREA)[:, :, ::-1],
            [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes(),
        "usr/share/fake-art/art/painting.png": png(photo_like(2, 512, 560)),
        "usr/share/fake-art/art/flat.png": png(vector_like(600, 600)),
        "usr/share/fake-art/art/tiny.png": png(photo_like(3, 100, 120)),
        "usr/share/fake-art/art/icon.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        "usr/share/doc/fake-art/copyright": COPYRIGHT.encode(),
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN/control").write_text(
        "Package: fake-art\nVersion: 1.2-3\nArchitecture: all\nMaintainer: Test <t@example.org>\n"
        "Description: test images\n")
    deb = root.parent / "fake-art_1.2-3_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)], check=True,
                   capture_output=True)
    sha = {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}
    return deb, sha


SPEC = PackageSpec("fake-art", ("usr/share/fake-art/*",), paintings=("*/art/*",))


def run(fake_deb, out, **kw):
    deb, _ = fake_deb
    calls = []

    def download(package, dest):
        calls.append(package)
        return deb

    report = collect_images(out, packages=(SPEC,), download=download, **kw)
    assert calls == ["fake-art"]
    return report


@pytest.fixture(scope="module")
def collected(fake_deb, tmp_path_factory):
    """One collection run shared by the tests that only read its output."""
    out = tmp_path_factory.mktemp("collected") / "out"
    return out, run(fake_deb, out, seed=5)


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_selection_dedupe_licences_and_csv(fake_deb, collected):
    _, sha = fake_deb
    out, report = collected
    rows = {r["path"]: r for r in read_csv(out / "images.csv")}
    assert sorted(rows) == ["usr/share/fake-art/art/painting.png", "usr/share/fake-art/photos/scene.png"]
    scene, painting = rows["usr/share/fake-art/photos/scene.png"], rows["usr/share/fake-art/art/painting.png"]
    assert (scene["licence"], scene["copyright"], scene["kind"]) == ("CC-BY-4.0", "2021 A Photographer", "photo")
    assert (painting["licence"], painting["copyright"], painting["kind"]) == ("GPL-2+", "2020 Some Painter", "painting")
    assert scene["version"] == "1.2-3" and scene["package"] == "fake-art"
    assert scene["sha256"] == sha["usr/share/fake-art/photos/scene.png"]
    assert (scene["width"], scene["height"]) == ("800", "640")

    dropped = {r["path"]: r["reason"] for r in read_csv(out / "dropped.csv")}
    assert dropped["usr/share/fake-art/photos/scene_small.jpg"] == "duplicate of fake-art:usr/share/fake-art/photos/scene.png"
    assert dropped["usr/share/fake-art/art/flat.png"].startswith("few colours")
    assert dropped["usr/share/fake-art/art/tiny.png"].startswith("small: 120x100")
    assert not any(p.endswith(".svg") for p in dropped)

    for row in rows.values():
        crops = row["crops"].split(";")
        assert 1 <= len(crops) <= 4
        for crop in crops:
            image = cv2.imread(str(out / crop))
            assert image is not None and image.shape[0] == image.shape[1] and 256 <= image.shape[0] <= 512
    assert report["images"] == 2 and report["kinds"] == {"photo": 1, "painting": 1, "render": 0}
    assert json.loads((out / "report.json").read_text())["images"] == 2


def test_crops_come_from_the_source(collected):
    # A 512 crop of the 640 x 800 source (no downscale below 1024) must appear in it exactly, up to WebP loss.
    out, _ = collected
    row = next(r for r in read_csv(out / "images.csv") if r["path"].endswith("scene.png"))
    crop = cv2.imread(str(out / row["crops"].split(";")[0]))[:, :, ::-1].astype(np.float32)
    source = photo_like(1, 640, 800).astype(np.float32)
    best = min(np.abs(source[y:y + 512, x:x + 512] - crop).mean()
               for y in range(0, 640 - 512 + 1, 32) for x in range(0, 800 - 512 + 1, 32))
    assert best < 6.0


def test_never_overwrites(fake_deb, collected, tmp_path):
    out, _ = collected
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(FileExistsError, match="images.csv"):
        run(fake_deb, out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before

    # A crop file someone already has at the target name is left alone.
    _, sha = fake_deb
    mine = tmp_path / "out2/crops/fake-art" / f"{sha['usr/share/fake-art/photos/scene.png'][:16]}_0.webp"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"mine")
    run(fake_deb, tmp_path / "out2")
    assert mine.read_bytes() == b"mine"


def test_reproducible(fake_deb, collected, tmp_path):
    out, _ = collected
    run(fake_deb, tmp_path / "b", seed=5)
    a, b = read_csv(out / "images.csv"), read_csv(tmp_path / "b/images.csv")
    assert a == b
    for row in a:
        for crop in row["crops"].split(";"):
            assert (out / crop).read_bytes() == (tmp_path / "b" / crop).read_bytes()


def test_cli_main(fake_deb, tmp_path, monkeypatch, capsys):
    import artrestore.training.collect_images as module

    deb, _ = fake_deb
    monkeypatch.setattr(module, "DEFAULT_PACKAGES", (SPEC,))
    monkeypatch.setattr(module, "apt_download", lambda package, dest: deb)
    assert main(["--out", str(tmp_path / "cli"), "--workers", "1", "--crops-per-image", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["images"] == 2
    with pytest.raises(SystemExit, match="unknown packages"):
        main(["--out", str(tmp_path / "cli2"), "--packages", "nope"])


def test_shards_round_trip(collected, tmp_path):
    out, _ = collected
    rows = read_csv(out / "images.csv")
    crops = [c for r in rows for c in r["crops"].split(";")]
    largest = max((out / c).stat().st_size for c in crops)
    limit = 2 * largest + 12 * 1024
    shards = pack_shards(out, tmp_path / "shards", max_bytes=limit)
    assert len(shards) >= len(crops) // 2 and all(s.stat().st_size <= limit for s in shards)
    manifest = read_csv(tmp_path / "shards/shards.csv")
    assert sorted(m["member"].split("/")[1] for m in manifest) == sorted(pathlib.Path(c).name for c in crops)
    loaded = {}
    for shard in shards:
        names, images = load_shard(shard)
        loaded.update(zip(names, images))
    for crop in crops:
        expected = cv2.imread(str(out / crop))[:, :, ::-1]
        np.testing.assert_array_equal(loaded[f"fake-art/{pathlib.Path(crop).name}"], expected)
    small = pack_shards(out, tmp_path / "small", size=256)
    assert all(im.shape == (256, 256, 3) for s in small for im in load_shard(s)[1])
    with pytest.raises(FileExistsError):
        pack_shards(out, tmp_path / "shards")


def _collect_with(fake_deb, out, **spec_fields):
    """Collect the fake package under ``SPEC`` changed by ``spec_fields``: (kept paths, {dropped path: reason})."""
    deb, _ = fake_deb
    collect_images(out, packages=(dataclasses.replace(SPEC, **spec_fields),), download=lambda package, dest: deb)
    return ([r["path"] for r in read_csv(out / "images.csv")],
            {r["path"]: r["reason"] for r in read_csv(out / "dropped.csv")})


def test_exclude_drops_named_files(fake_deb, tmp_path):
    kept, dropped = _collect_with(fake_deb, tmp_path / "out", exclude=("*/art/painting.png",))
    assert kept == ["usr/share/fake-art/photos/scene.png"]
    assert dropped["usr/share/fake-art/art/painting.png"].startswith("excluded")


def test_maps_are_not_pictures(fake_deb, tmp_path):
    kept, dropped = _collect_with(fake_deb, tmp_path / "out", maps=("*/art/painting*",))
    assert kept == ["usr/share/fake-art/photos/scene.png"]
    assert dropped["usr/share/fake-art/art/painting.png"].startswith("not a picture")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["packages"]["fake-art"]["dropped"]["not a picture"] == 1


def test_moved_files_take_their_source_licence(fake_deb, tmp_path):
    deb, _ = fake_deb
    spec = dataclasses.replace(SPEC, moved=(("usr/share/fake-art/art/", "photos/"),))
    assert spec.source_path("usr/share/fake-art/art/painting.png") == "photos/painting.png"
    assert spec.source_path("usr/share/fake-art/photos/scene.png") == "usr/share/fake-art/photos/scene.png"
    collect_images(tmp_path / "out", packages=(spec,), download=lambda package, dest: deb)
    rows = {r["path"]: r for r in read_csv(tmp_path / "out" / "images.csv")}
    painting = rows["usr/share/fake-art/art/painting.png"]
    assert (painting["licence"], painting["licence_source"]) == ("CC-BY-4.0", "dep5:photos/*")
    assert painting["path"] == "usr/share/fake-art/art/painting.png"   # the installed path is what is recorded


def test_copyright_dep5_and_text():
    notice = Copyright.parse(COPYRIGHT)
    assert notice.licence_for("usr/share/fake-art/photos/a/b.png").licence == "CC-BY-4.0"
    assert notice.licence_for("usr/share/fake-art/art/b.png").licence == "GPL-2+"
    moved = Copyright.parse("Format: x\n\nFiles: 16.04/a_by_b.jpg\nCopyright: B\nLicense: CC0-1.0\n")
    assert moved.licence_for("usr/share/backgrounds/a_by_b.jpg").licence == "CC0-1.0"
    assert moved.licence_for("usr/share/backgrounds/other.jpg").licence == "unknown"
    text = Copyright.parse("Art by X.\n\nLicense:\n  under the terms of the GNU General Public License version 2\n"
                           "  or at your option any later version.\n\nsrc/lib is under the GNU Library General "
                           "Public License.\n")
    assert text.licence_for("usr/share/x.png").licence == "GPL-2+"


def test_criteria_reject_non_photographic():
    ramp = np.dstack([np.tile(np.linspace(0, 255, 800, dtype=np.float32), (600, 1))] * 3).astype(np.uint8)
    ramp[..., 2] = 255 - ramp[..., 2]
    assert sel.reject_reason(sel.measure(np.dstack([ramp, np.full(ramp.shape[:2], 255, np.uint8)]))).startswith(
        ("few colours", "flat"))
    photo = photo_like(4, 600, 800)
    opaque = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    assert sel.reject_reason(sel.measure(opaque)) is None
    cutout = opaque.copy()
    cutout[:, 200:, 3] = 0  # a quarter opaque
    assert sel.reject_reason(sel.measure(cutout)).startswith("cut-out")
    dark = opaque.copy()
    dark[..., :3] //= 16
    assert sel.reject_reason(sel.measure(dark)).startswith("dark")


def test_perceptual_hash_survives_resizing_not_content():
    a = photo_like(5, 600, 800)
    half = cv2.resize(a, (400, 300), interpolation=cv2.INTER_AREA)
    assert sel.hamming(sel.perceptual_hash(a), sel.perceptual_hash(half)) <= 4
    assert sel.hamming(sel.perceptual_hash(a), sel.perceptual_hash(photo_like(6, 600, 800))) > 16
