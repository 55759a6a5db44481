"""The Debian packages ``collect_images`` takes training images from, and which of their files.

Each package was looked at one by one (docs/image_collection.md): its copyright file gives every
file a free licence, and wallpaper sets are named file by file where a package mixes photographs
with abstract art. ukui-wallpapers, sway-backgrounds, gnome-backgrounds, desktop-base, mate's
abstract/desktop folders, xfdesktop4-data and lxqt's logo/origami wallpapers are abstract or vector
art and left out.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass

__all__ = ["ADDED_PACKAGES", "DEFAULT_PACKAGES", "FIRST_PACKAGES", "PackageSpec", "WESNOTH_CAMPAIGNS"]


@dataclass(frozen=True)
class PackageSpec:
    """Which files of a package to consider and what they are. Globs match installed paths
    (``usr/share/...``) and ``*`` matches ``/`` too."""

    name: str
    include: tuple[str, ...]
    paintings: tuple[str, ...] = ()     # kind "painting" (paintings and drawings)
    renders: tuple[str, ...] = ()       # kind "render" (3D/CG scenes)
    group_by_dir: bool = False          # a directory holds one picture at several sizes
    exclude: tuple[str, ...] = ()       # included files left out: the same picture as a source of
                                        # another collection (dropped as "excluded")

    def kind(self, path: str) -> str:
        if any(fnmatch.fnmatchcase(path, g) for g in self.paintings):
            return "painting"
        if any(fnmatch.fnmatchcase(path, g) for g in self.renders):
            return "render"
        return "photo"


_PLASMA_PHOTOS = ("BytheWater", "ColdRipple", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey",
                  "Kite", "MilkyWay", "OneStandsOut", "Path", "summer_1am")
FIRST_PACKAGES: tuple[PackageSpec, ...] = (     # the first collection (638 sources)
    PackageSpec("endless-sky-data", ("*/images/land/*", "*/images/scene/*")),
    PackageSpec("stellarium-data", ("*/nebulae/*", "*/landscapes/*", "*/skycultures/*"),
                paintings=("*/skycultures/*",)),
    PackageSpec("wesnoth-1.16-data", ("*/images/portraits/*", "*/images/story/*"), paintings=("*",)),
    PackageSpec("plasma-workspace-wallpapers",
                tuple(f"usr/share/wallpapers/{n}/contents/images/*" for n in _PLASMA_PHOTOS + ("Autumn",)),
                paintings=("usr/share/wallpapers/Autumn/*",), group_by_dir=True),
    PackageSpec("mate-backgrounds", ("usr/share/backgrounds/mate/nature/*",)),
    PackageSpec("lomiri-wallpapers-16.04", ("usr/share/backgrounds/*",)),
    PackageSpec("lomiri-wallpapers-20.04", ("usr/share/backgrounds/*",),
                paintings=("*/Painting-Colors_*",)),
    PackageSpec("palapeli-data", ("usr/share/palapeli/collection/*", "usr/share/palapeli/backgrounds/*")),
    PackageSpec("naev-data", ("*/gfx/planet/exterior/*",), renders=("*",)),
)

# The second collection: wesnoth's campaign packages (portraits and story art, like the core data),
# widelands' game-loading photographs (its main-menu screens are game maps), lxqt's photographic
# wallpapers, and the photographs among scikit-image's sample data (astronaut is left out: tests
# use it as an image no training set contains; the motorcycle stereo pair too). matplotlib's
# grace_hopper.jpg is left out: its copyright file names no licence for it.
# sota's story images other than the book are in-game screenshots (map tiles). Excluded as the same
# pictures as portraits of the first collection: httt's elvish Delfador and Konrad, its Lisar and
# sota's Shynal (pHash <= 8 bits and thumbnails within 6 grey levels, the dedupe rule), and sota's
# Ardonna as a lich (core's brown lich repainted: 10 bits, 3.8 grey levels).
WESNOTH_CAMPAIGNS = ("did", "dm", "dw", "ei", "httt", "l", "low", "nr", "sof", "sota", "sotbe", "thot",
                     "trow", "tsg", "ttb", "utbs")
_WESNOTH_STORY = {"sota": "*/images/story/book.png"}
_WESNOTH_SEEN = {"httt": ("delfador-elvish.png", "konrad-elvish*.png", "lisar.png"),
                 "sota": ("shynal-adept.png", "ardonna-lich.png")}
_LXQT_PHOTOS = ("Butterfly-Kenneth-Wimer.jpg", "Valendas.png", "after-the-rain.jpg", "appleflower.png",
                "beam.png", "butterfly.png", "cloud.png", "drop.png", "flowers.png", "fog.jpg",
                "this-is-not-windows.jpg")
_SKIMAGE_PHOTOS = ("camera.png", "chelsea.png", "coffee.png", "rocket.jpg")
ADDED_PACKAGES: tuple[PackageSpec, ...] = (
    *(PackageSpec(f"wesnoth-1.16-{c}", ("*/images/portraits/*", _WESNOTH_STORY.get(c, "*/images/story/*")),
                  paintings=("*",), exclude=tuple(f"*/images/portraits/{n}" for n in _WESNOTH_SEEN.get(c, ())))
      for c in WESNOTH_CAMPAIGNS),
    PackageSpec("widelands-data", ("*/loadscreens/gameloading/*",)),
    PackageSpec("lxqt-themes", tuple(f"usr/share/lxqt/wallpapers/{n}" for n in _LXQT_PHOTOS)),
    PackageSpec("python3-skimage", tuple(f"*/skimage/data/{n}" for n in _SKIMAGE_PHOTOS)),
)
DEFAULT_PACKAGES: tuple[PackageSpec, ...] = FIRST_PACKAGES + ADDED_PACKAGES
