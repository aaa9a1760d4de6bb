#!/usr/bin/env bash
# System packages for the full test suite (root, Debian): Fashion-MNIST for the
# real-data tests, Chromium and its driver for the report's browser test
# (tests/test_report_browser.py), and a single-node SLURM with its Snakemake executor plugin.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  apt-get update -qq
  apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
echo "dataset-fashion-mnist: $(ls /usr/share/datasets/fashion-mnist | tr '\n' ' ')"
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi
echo "chromium: $(chromium --version 2>/dev/null); $(chromedriver --version 2>/dev/null)"
if [ -f .ci/install-slurm.sh ]; then
  bash .ci/install-slurm.sh
fi
