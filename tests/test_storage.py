"""artrestore.storage: a URL store behaves like the local folder (file:// through pyarrow, memory://
through fsspec), writes are whole or absent, and clean-up removes only our temporary files."""
import os
import pathlib

import numpy as np
import pytest

from artrestore.imageio import encode_image, read_image, write_image
from artrestore.storage import ArrowStore, LocalStore, open_store

pytest.importorskip("pyarrow")


@pytest.fixture()
def folder(tmp_path, astronaut):
    small = astronaut[::8, ::8].copy()
    write_image(tmp_path / "b.png", small)
    write_image(tmp_path / "a.JPG", small)
    write_image(tmp_path / "sub" / "c.bmp", small)
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path, small


def test_open_store_picks_by_location(tmp_path):
    assert isinstance(open_store(tmp_path), LocalStore)
    assert isinstance(open_store(str(tmp_path)), LocalStore)
    assert isinstance(open_store(f"file://{tmp_path}"), ArrowStore)


@pytest.mark.parametrize("recursive", [False, True])
def test_url_store_lists_the_images_the_local_store_lists(folder, recursive):
    root, _ = folder
    local, _ = LocalStore(root).list_images(recursive=recursive)
    url, _ = ArrowStore(f"file://{root}").list_images(recursive=recursive)
    assert [str(p.relative_to(root)) for p in local] == [str(p.relative_to(root)) for p in url]
    assert len(local) == (3 if recursive else 2)


def test_url_store_reads_and_writes_the_same_bytes(folder, tmp_path_factory):
    root, small = folder
    store = ArrowStore(f"file://{root}")
    np.testing.assert_array_equal(store.read_image(str(root / "b.png")), read_image(root / "b.png"))
    store.write_image(str(root / "out" / "x.png"), small)
    assert (root / "out" / "x.png").read_bytes() == encode_image(small, ".png")
    assert store.existing([str(root / "out" / "x.png"), str(root / "out" / "y.png")]) == {str(root / "out" / "x.png")}
    with pytest.raises(ValueError, match="not a readable image"):
        store.read_image(str(root / "notes.txt"))
    with pytest.raises(FileNotFoundError):
        ArrowStore(f"file://{root}/missing").list_images(recursive=False)


def test_failed_write_leaves_nothing(folder, monkeypatch):
    root, small = folder
    store = ArrowStore(f"file://{root}")

    def broken_move(src, dst):
        raise OSError("disk gone")

    fs = store.fs
    monkeypatch.setattr(store, "_fs", type("Broken", (), {"__getattr__": lambda self, n: getattr(fs, n),
                                                          "move": staticmethod(broken_move)})())
    with pytest.raises(OSError, match="disk gone"):
        store.write_image(str(root / "out" / "x.png"), small)
    assert os.listdir(root / "out") == []


@pytest.mark.parametrize("make", [lambda p: LocalStore(p), lambda p: ArrowStore(f"file://{p}")])
def test_remove_partials_removes_only_temporary_files_of_the_targets(tmp_path, make):
    keep = ["a_restored.png", ".hidden", "b_restored.png.part", ".b_restored.png", ".other.png.x1.part"]
    gone = [".a_restored.png.k3j2x9.part", ".a_restored.png.12345678.part"]
    for name in keep + gone:
        (tmp_path / name).write_bytes(b"x")
    removed = make(tmp_path).remove_partials([str(tmp_path / "a_restored.png"), str(tmp_path / "b_restored.png")])
    assert sorted(pathlib.Path(p).name for p in removed) == sorted(gone)
    assert sorted(os.listdir(tmp_path)) == sorted(keep)


def test_fsspec_protocol_goes_through_pyarrow(astronaut):
    """memory:// has no pyarrow filesystem: it is reached through fsspec and FSSpecHandler."""
    fsspec = pytest.importorskip("fsspec")
    small = astronaut[::8, ::8].copy()
    memory = fsspec.filesystem("memory")
    memory.pipe("/archive/in/a.png", encode_image(small, ".png"))
    memory.pipe("/archive/in/readme.txt", b"text")
    store = open_store("memory://archive/in")
    sources, refused = store.list_images(recursive=False)
    assert [p.name for p in sources] == ["a.png"] and refused == []
    np.testing.assert_array_equal(store.read_image(str(sources[0])), small)
    out = open_store("memory://archive/out")
    out.prepare_output()
    out.write_image(str(out.root / "a_restored.png"), small)
    assert memory.cat("/archive/out/a_restored.png") == encode_image(small, ".png")
    assert out.display(str(out.root / "a_restored.png")).startswith("memory://")
    assert not [p for p in memory.find("/archive") if p.endswith(".part")]
