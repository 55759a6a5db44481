"""The package lists of the image collection: every collection in DEFAULT_PACKAGES, no package twice,
and the fourth collection's specs choose the files and licences docs/image_collection.md names."""
import fnmatch

from artrestore.training.debsource import Copyright
from artrestore.training.image_packages import ADDED_PACKAGES, DEFAULT_PACKAGES, FIRST_PACKAGES, FOURTH_PACKAGES, THIRD_PACKAGES

SPECS = {s.name: s for s in FOURTH_PACKAGES}


def included(spec, path):
    return (any(fnmatch.fnmatchcase(path, g) for g in spec.include)
            and not any(fnmatch.fnmatchcase(path, g) for g in spec.exclude + spec.maps))


def test_every_collection_is_in_default_and_no_package_twice():
    assert DEFAULT_PACKAGES == FIRST_PACKAGES + ADDED_PACKAGES + THIRD_PACKAGES + FOURTH_PACKAGES
    names = [s.name for s in DEFAULT_PACKAGES]
    assert len(names) == len(set(names))
    assert sorted(SPECS) == ["kphotoalbum", "openuniverse-common", "scribus-template", "tuxmath-data",
                             "tuxtype-data"]


def test_fourth_specs_choose_the_photographs():
    assert included(SPECS["kphotoalbum"], "usr/share/kphotoalbum/demo/skagen.jpg")
    assert not included(SPECS["kphotoalbum"], "usr/share/doc/HTML/en/kphotoalbum/viewer.png")  # screenshot
    tuxtype = SPECS["tuxtype-data"]
    for name in ("kcas0.jpg", "kcas11.jpg", "hidden.jpg", "backgrounds/0.jpg"):
        assert included(tuxtype, f"usr/share/tuxtype/images/{name}")
    assert not included(tuxtype, "usr/share/tuxtype/images/main_bkg.png")     # a keyboard render
    assert included(SPECS["tuxmath-data"], "usr/share/tuxmath/images/title/menu_bkg.jpg")
    scribus = SPECS["scribus-template"]
    assert included(scribus, "usr/share/scribus/templates/menu2/pizza.jpg")
    assert not included(scribus, "usr/share/scribus/templates/nl1-bw/kites-bw.png")
    universe = SPECS["openuniverse-common"]
    assert included(universe, "usr/share/openuniverse/textures/mars.jpg")
    for name in ("moon", "europa", "saturn", "splash1", "phobos", "station"):
        assert not included(universe, f"usr/share/openuniverse/textures/{name}.jpg")
    assert all(s.kind("x") == "photo" for s in FOURTH_PACKAGES)


TUXMATH_COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: tuxmath

Files: *
Copyright: 2001-2010 Tux4Kids
License: GPL-3+

Files: data/images/backgrounds/*
       data/images/title/menu_bkg.jpg
Copyright: not-applicable
License:
 Public Domain
Comment:
 Modified from images released into the public domain by NASA
"""


def test_tuxmath_backgrounds_take_their_public_domain_stanza():
    spec, notice = SPECS["tuxmath-data"], Copyright.parse(TUXMATH_COPYRIGHT)
    for path in ("usr/share/tuxmath/images/backgrounds/4.jpg", "usr/share/tuxmath/images/title/menu_bkg.jpg"):
        licence = notice.licence_for(spec.source_path(path))
        assert (licence.licence, licence.copyright) == ("public-domain", "not-applicable")
        assert notice.licence_for(path).licence == "GPL-3+"     # without `moved`: the `*` stanza
    assert notice.licence_for(spec.source_path("usr/share/tuxmath/images/sprites/tux.png")).licence == "GPL-3+"


def test_a_licence_field_that_is_text_only_gets_the_licence_the_text_names_never_its_first_sentence():
    # DEP-5 puts the short name on the `License:` line; tuxmath leaves it empty. Its text is read
    # for a licence; a sentence that names none is "unknown" (the collection drops those files).
    notice = Copyright.parse("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
                             "Files: a/*\nCopyright: x\nLicense:\n Feel free to do whatever you see fit with the images\n\n"
                             "Files: b/*\nCopyright: y\nLicense:\n Released into the public domain by NASA\n\n"
                             "Files: c/*\nCopyright: z\nLicense: CC-BY-4.0\n The full text.\n")
    assert [notice.licence_for(f"{d}/x.jpg").licence for d in "abc"] == ["unknown", "public-domain", "CC-BY-4.0"]


def test_free_text_licences_of_the_fourth_packages():
    scribus = ("Materials in this package are distributed under varied conditions.\n\nScribus templates by Riku "
               "Leino listed above ... have been placed into public domain by their author.\n\nThis program is "
               "free software; you can redistribute it and/or modify it under the terms of the GNU General Public "
               "License as published by the Free Software Foundation; either version 2 of the License, or\n(at "
               "your option) any later version.\n")
    assert Copyright.parse(scribus).licence_for("usr/share/scribus/templates/br2/moon.jpg").licence == "public-domain"
    tuxtype = ("Tux Typing is licensed under the GNU Public License version 2.\n\nThis program is free software; "
               "you can redistribute it and/or modify\nit under the terms of the GNU General Public License as "
               "published by\nthe Free Software Foundation in version 2 of the License.\n")
    assert Copyright.parse(tuxtype).licence_for("usr/share/tuxtype/images/kcas0.jpg").licence == "GPL"
