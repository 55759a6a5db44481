"""artrestore._lazy: a package's submodules and former names resolve on first access only."""
import sys

import pytest

from artrestore._lazy import lazy_package


@pytest.fixture
def package(tmp_path, monkeypatch):
    root = tmp_path / "lazypkg"
    root.mkdir()
    (root / "__init__.py").write_text(
        "from artrestore._lazy import lazy_package\n"
        "__all__ = ['heavy']\n"
        "_MOVED = {'OLD_NAME': ('lazypkg.heavy', 'VALUE')}\n"
        "__getattr__, __dir__ = lazy_package(__name__, __all__, _MOVED)\n")
    (root / "heavy.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in [n for n in sys.modules if n == "lazypkg" or n.startswith("lazypkg.")]:
        del sys.modules[name]


def test_submodules_and_moved_names_load_on_first_access_only(package):
    import lazypkg

    assert "lazypkg.heavy" not in sys.modules
    assert {"heavy", "OLD_NAME"} <= set(dir(lazypkg))
    assert "lazypkg.heavy" not in sys.modules  # dir() imports nothing
    assert lazypkg.OLD_NAME == 42
    assert "lazypkg.heavy" in sys.modules and vars(lazypkg)["OLD_NAME"] == 42  # cached on the package
    assert lazypkg.heavy.VALUE == 42


def test_an_unknown_name_is_an_attribute_error_naming_it(package):
    import lazypkg

    with pytest.raises(AttributeError, match="'lazypkg' has no attribute 'missing'"):
        _ = lazypkg.missing
    getattr_, _ = lazy_package("lazypkg", (), {})
    with pytest.raises(AttributeError):
        getattr_("heavy")
