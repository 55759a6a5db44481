"""The Debian packages ``collect_images`` takes training images from, and which of their files.

Each package was looked at one by one (docs/image_collection.md): its copyright file gives every
file a free licence, and wallpaper sets are named file by file where a package mixes photographs
with abstract art. ukui-wallpapers, sway-backgrounds, gnome-backgrounds, desktop-base, mate's
abstract/desktop folders, xfdesktop4-data and lxqt's logo/origami wallpapers are abstract or vector
art and left out. ``DEFAULT_PACKAGES`` is every collection (first + added + third + fourth); a run for one
collection names its packages with ``--packages`` (docs/image_collection.md).
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass

__all__ = ["ADDED_PACKAGES", "DEFAULT_PACKAGES", "FIRST_PACKAGES", "FOURTH_PACKAGES", "PackageSpec",
           "THIRD_PACKAGES", "WESNOTH_CAMPAIGNS"]


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
    maps: tuple[str, ...] = ()          # included files that are maps for a renderer (masks, relief,
                                        # overlays), not pictures (dropped as "not a picture")
    moved: tuple[tuple[str, str], ...] = ()  # (installed prefix, source prefix): files the packaging
                                        # moved, looked up in the copyright file by their source path

    def source_path(self, path: str) -> str:
        """The path the copyright file names ``path`` by (the first ``moved`` prefix that fits)."""
        for installed, source in self.moved:
            if path.startswith(installed):
                return source + path[len(installed):]
        return path

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

# The third collection (docs/image_collection.md, "The third run"). freecol: the founding fathers'
# portraits (historical paintings in a painted frame; the unsuffixed files are the < 256 px copies),
# four engravings of its event dialogs (palette images: the rules drop them as few colours) and the
# old map behind the start screen; left out its declaration of independence (a page of text), the
# Inca drawing (caption, white page) and the paper panels (UI). sddm-theme-maldives: the beach
# photograph, not the preview with the login box. scikit-learn: its two sample photographs.
# hugin-data: the photographs of its help pages (panoramas and their projections); left out its
# screenshots, the chromatic-aberration and aliasing examples (artefacts shown on purpose), the
# drawings, the church projections `Big_ben_*` (a grid drawn over the photograph) and the Pantheon
# panini page (two views with captions). darktable: the style preview photograph. xplanet: NASA's
# day map of the earth (night and sun maps are dark or one colour). scribus: the photographs of two
# newsletter templates. flightgear: its terrain textures, aerial photographs of fields, forests,
# towns, rock and sand (not the winter recolourings in Terrain.winter, nor the masks, relief maps,
# overlays and grain noise that are maps for the renderer; its splash screens and the cloud pictures
# of its docs are renders of the simulator). supertuxkart: the 41 of its textures that are
# photographs (stone walls, rock, bark, wood, ground, water, sky; named one by one after a contact
# sheet of all 246 that pass the rules: the rest are normal maps, drawn or rendered textures, signs,
# logos and foliage cut-outs). Textures of both games tile, so they are photographs of surfaces.
_FREECOL_IMAGES = "usr/share/games/freecol/default/resources/images"
_FREECOL_PRINTS = ("discovery", "landing", "meet_aztec", "meet_natives")
_HUGIN_PHOTOS = ("800px-C_Marchi-GrandCentral-*.jpg", "Medinet_habu_*.jpg", "Vertical-*.jpg")
_STK_PHOTOS = ("HortonRockWall.jpg", "HortonRockWall2.jpg", "HortonStone6.jpg", "Paving_stones_2.jpg",
               "TiZeta_barkM.png", "TiZeta_ivy.png", "canyon.jpg", "castelwall.jpg", "city_asphalt_2.jpg",
               "city_concrete.png", "city_ground.jpg", "city_rock.jpg", "concrete2.png", "cottage_wall1.jpg",
               "cottage_wall2.jpg", "cottage_wall3.jpg", "cracked-earth-texture.jpg", "dark-wall-wood.png",
               "grass2.jpg", "hacienda_ground.jpg", "hd_beach_01_d.png", "hd_palmTreeBark_a_Albedo.png",
               "hd_rock_01_d.png", "lantern.jpg", "deprecated/logs.png", "oldWood.png", "palmBark.jpg",
               "racetrack_grass.jpg", "ribbed_steel.jpg", "rock1.jpg", "rockMountain.jpg", "rockTograss.jpg",
               "rock_mountain.jpg", "rockwall.jpg", "rockwaterfall.jpg", "sea2.jpg", "sky.jpg", "snowrock.jpg",
               "tarmac.jpg", "tree_cut.jpg", "woodBridge.jpg")
THIRD_PACKAGES: tuple[PackageSpec, ...] = (
    PackageSpec("freecol", (f"{_FREECOL_IMAGES}/foundingFathers/*.jpg",
                            *(f"{_FREECOL_IMAGES}/ui/{n}.png" for n in _FREECOL_PRINTS),
                            "usr/share/games/freecol/base/resources/images/ui/map.jpg"), paintings=("*",)),
    PackageSpec("sddm-theme-maldives", ("usr/share/sddm/themes/maldives/background.jpg",),
                moved=(("usr/share/sddm/themes/", "data/themes/"),)),    # its CC-BY-3.0 stanza, not `*`
    PackageSpec("python3-sklearn", ("*/sklearn/datasets/images/*.jpg",)),
    PackageSpec("hugin-data", tuple(f"usr/share/hugin/xrc/data/help_en_EN/{n}" for n in _HUGIN_PHOTOS)),
    PackageSpec("darktable", ("usr/share/darktable/style/image-1.jpg",)),
    PackageSpec("xplanet-images", ("usr/share/xplanet/images/earth.jpg",)),
    PackageSpec("flightgear-data-base", ("usr/share/games/flightgear/Textures/Terrain/*",),
                maps=tuple(f"*/Terrain/*{m}*" for m in ("mask", "relief", "overlay", "structure", "grain"))),
    PackageSpec("supertuxkart-data", tuple(f"*/data/textures/{n}" for n in _STK_PHOTOS)),
    PackageSpec("scribus-data", ("usr/share/scribus/templates/nl1/kites.jpg",
                                 "usr/share/scribus/templates/nl2/flowers.jpg")),
)

# The fourth collection (docs/image_collection.md, "The fourth run"). kphotoalbum: the 24 photographs
# of its demo album (people, a dog, a rabbit, the Grand Canyon, Skagen, a sunset), not the
# screenshots of its handbook. tuxtype-data: its level backgrounds (landscape photographs `kcas*`,
# the "hidden" seal, astrophotographs in `backgrounds/`), not the keyboard render `main_bkg.png`.
# tuxmath-data: its backgrounds and menu picture, NASA/Hubble photographs (public domain: the
# copyright file names them by their source path `data/images/...`, hence `moved`). scribus-template:
# the photographs of the night brochure, the portrait calendar and the pizza menu (Riku Leino's
# templates, placed in the public domain). openuniverse-common: the photographic mosaics of the
# earth, mars, jupiter, io, ganymede and callisto, and its two galaxy photographs; not the moon (a
# grey airbrushed relief map), europa (most of it the smeared polar stretch of the projection), the
# grey relief models of small moons and asteroids, the smooth saturn/uranus/neptune/venus bands, the
# cloud layer, the splash renders and the space-station drawings. The rules drop the earth (flat
# oceans), m31 (dark), two backgrounds of each tux game and two scribus pictures (flat, soft).
_OU_PHOTOS = ("earth", "mars", "jupiter", "io", "ganymede", "callisto", "m31", "m33")
_SCRIBUS_TEMPLATE_PHOTOS = ("br2/brightness.jpg", "br2/halfmoon.jpg", "br2/moon.jpg", "br2/nature.jpg",
                            "br2/sunset.jpg", "cal2/moon.jpg", "menu2/pizza.jpg")
FOURTH_PACKAGES: tuple[PackageSpec, ...] = (
    PackageSpec("kphotoalbum", ("usr/share/kphotoalbum/demo/*.jpg",)),
    PackageSpec("tuxtype-data", ("usr/share/tuxtype/images/kcas*.jpg", "usr/share/tuxtype/images/hidden.jpg",
                                 "usr/share/tuxtype/images/backgrounds/*.jpg")),
    PackageSpec("tuxmath-data", ("usr/share/tuxmath/images/backgrounds/*.jpg",
                                 "usr/share/tuxmath/images/title/menu_bkg.jpg"),
                moved=(("usr/share/tuxmath/", "data/"),)),    # its public-domain stanza, not `*` (GPL-3+)
    PackageSpec("scribus-template", tuple(f"usr/share/scribus/templates/{n}" for n in _SCRIBUS_TEMPLATE_PHOTOS)),
    PackageSpec("openuniverse-common", tuple(f"usr/share/openuniverse/textures/{n}.jpg" for n in _OU_PHOTOS)),
)
DEFAULT_PACKAGES: tuple[PackageSpec, ...] = FIRST_PACKAGES + ADDED_PACKAGES + THIRD_PACKAGES + FOURTH_PACKAGES
