"""Debian packages as an image source: fetch a .deb, unpack it, and say which licence covers a file.

- ``apt_download(package, dest_dir) -> Path``: ``apt-get download`` into ``dest_dir`` (no install,
  no root needed beyond apt's cache); a .deb already there is reused. Any callable with the same
  signature can replace it (tests pass a local .deb).
- ``unpack(deb, dest_dir) -> DebContents``: ``dpkg-deb -x`` plus the package's name and version
  from ``dpkg-deb -f``.
- ``Copyright.parse(text)`` and ``Copyright.licence_for(path)``: the licence of one installed file,
  from the machine-readable (DEP-5) ``Files:`` stanzas when the file is machine-readable, else the
  licence named in the free text for the whole package.
"""
from __future__ import annotations

import fnmatch
import logging
import pathlib
import re
import subprocess
from dataclasses import dataclass, field

__all__ = ["Copyright", "DebContents", "Licence", "apt_download", "unpack"]

log = logging.getLogger(__name__)

DEP5_FORMAT = "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"


def apt_download(package: str, dest_dir) -> pathlib.Path:
    """Download ``package``'s .deb for this machine's release into ``dest_dir`` (reused if present)."""
    dest_dir = pathlib.Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    existing = sorted(dest_dir.glob(f"{package}_*.deb"))
    if existing:
        return existing[-1]
    result = subprocess.run(["apt-get", "download", package], cwd=dest_dir, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"apt-get download {package} failed: {result.stderr.strip()[-500:]}")
    found = sorted(dest_dir.glob(f"{package}_*.deb"))
    if not found:
        raise RuntimeError(f"apt-get download {package} left no {package}_*.deb in {dest_dir}")
    return found[-1]


@dataclass(frozen=True)
class DebContents:
    package: str
    version: str
    root: pathlib.Path           # the unpacked tree (usr/share/...)
    deb_sha256: str


def unpack(deb, dest_dir) -> DebContents:
    """Unpack ``deb`` under ``dest_dir`` with ``dpkg-deb -x``; name and version from its control file."""
    import hashlib

    deb = pathlib.Path(deb)
    dest_dir = pathlib.Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    fields = {}
    for name in ("Package", "Version"):
        out = subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise ValueError(f"{deb}: not a readable .deb ({out.stderr.strip()[-300:]})")
        fields[name] = out.stdout.strip()
    result = subprocess.run(["dpkg-deb", "-x", str(deb), str(dest_dir)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ValueError(f"{deb}: dpkg-deb -x failed ({result.stderr.strip()[-300:]})")
    digest = hashlib.sha256()
    with open(deb, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return DebContents(fields["Package"], fields["Version"], dest_dir, digest.hexdigest())


@dataclass(frozen=True)
class Licence:
    licence: str                 # short name as the copyright file writes it (DEP-5) or as detected
    copyright: str               # first line of the Copyright: field ("" when not given)
    source: str                  # "dep5:<pattern>", "dep5-name:<pattern>" (file name only),
                                 # "dep5-header" (no stanza matched) or "text" (free-text file)


# Free-text copyright files: the licence named by the first of these phrases found (order matters:
# the more specific first).
_TEXT_LICENCES = [
    (r"Creative Commons Attribution[- ]ShareAlike (\d\.\d)", "CC-BY-SA-{0}"),
    (r"Creative Commons Attribution (\d\.\d)", "CC-BY-{0}"),
    (r"GNU (?:Lesser|Library) General Public\s+License", "LGPL"),
    (r"GNU General Public\s+License,?\s+(?:as published[^.]*?)?version (\d)[^.]*?(?:or|any) later", "GPL-{0}+"),
    (r"GNU General Public\s+License\s+version (\d)\s+or at your option any later", "GPL-{0}+"),
    (r"GNU General Public\s+License", "GPL"),
    (r"public domain", "public-domain"),
]


@dataclass
class Copyright:
    """A parsed ``usr/share/doc/PKG/copyright``."""

    machine_readable: bool
    stanzas: list[tuple[list[str], str, str]] = field(default_factory=list)  # (patterns, licence, copyright)
    text_licence: str = "unknown"
    header_licence: str = ""     # License: of the DEP-5 header paragraph (whole package), if any

    @classmethod
    def parse(cls, text: str) -> Copyright:
        first = text.lstrip().split("\n", 1)[0]
        if not first.startswith("Format:"):
            return cls(False, [], _detect_text_licence(text))
        stanzas = []
        paragraphs = re.split(r"\n\s*\n", text.strip())
        header = _dep5_fields(paragraphs[0])
        header_licence = _short_name(header.get("license", "")) if header.get("license") else ""
        for paragraph in paragraphs[1:]:
            fields = _dep5_fields(paragraph)
            if "files" not in fields or "license" not in fields:
                continue
            patterns = [p.removeprefix("./") for p in fields["files"].split()]
            if patterns and all(p.startswith("debian/") for p in patterns):
                continue  # the packaging itself, never an installed image
            licence = _short_name(fields["license"])
            holder = fields.get("copyright", "").strip().split("\n", 1)[0].strip()
            stanzas.append((patterns, licence, holder))
        return cls(True, stanzas, _detect_text_licence(text), header_licence)

    def licence_for(self, installed_path: str) -> Licence:
        """The licence of an installed file (path relative to the package root, e.g. ``usr/share/...``).

        DEP-5 patterns name source-tree paths, so a pattern may match any trailing part of the
        installed path (``images/land/*`` covers ``usr/share/games/x/images/land/a.jpg``); ``*``
        also matches ``/``; the last matching stanza wins, as DEP-5 specifies.
        """
        if not self.machine_readable:
            return Licence(self.text_licence, "", "text")
        parts = installed_path.strip("/").split("/")
        suffixes = ["/".join(parts[i:]) for i in range(len(parts))]
        best = None
        for patterns, licence, holder in self.stanzas:
            for pattern in patterns:
                if pattern == "*" or any(fnmatch.fnmatchcase(s, pattern) for s in suffixes):
                    best = Licence(licence, holder, f"dep5:{pattern}")
                    break
        if best is None:
            # Packaging may move files (``16.04/a.jpg`` installed as ``backgrounds/a.jpg``): a pattern
            # whose last component is a literal file name still names that file.
            for patterns, licence, holder in self.stanzas:
                for pattern in patterns:
                    name = pattern.rsplit("/", 1)[-1]
                    if not any(c in name for c in "*?[") and name == parts[-1]:
                        best = Licence(licence, holder, f"dep5-name:{pattern}")
                        break
        return best or Licence(self.header_licence or "unknown", "", "dep5-header")


def _dep5_fields(paragraph: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    key = None
    for line in paragraph.splitlines():
        if line[:1] in (" ", "\t") and key:
            fields[key] += "\n" + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            fields[key] = value.strip()
    return fields


def _short_name(value: str) -> str:
    """The licence short name of a DEP-5 ``License:`` field: its first line. DEP-5 wants it there;
    a stanza that leaves that line empty (tuxmath) gets the licence its text names
    (``_detect_text_licence``: "Public Domain" -> public-domain, unreadable text -> unknown, dropped),
    never the text's first sentence."""
    first, _, rest = value.partition("\n")
    return first.strip() or _detect_text_licence(rest)


def _detect_text_licence(text: str) -> str:
    """The licence phrase that comes first in the text (ties: the more specific pattern)."""
    flat = " ".join(text.split())
    found = []
    for rank, (pattern, name) in enumerate(_TEXT_LICENCES):
        match = re.search(pattern, flat, flags=re.IGNORECASE)
        if match:
            found.append((match.start(), rank, name.format(*match.groups())))
    return min(found)[2] if found else "unknown"
