#!/usr/bin/env bash
# Installs what the training pipeline needs on Debian 12 (CPU torch, OpenBLAS so torch is not
# 45x slower, onnx) when missing, then runs its tests. Used by `npm test` and CI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
if ! "$PY" -c 'import torch, onnx' 2>/dev/null || ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  echo "[test-python] installing python3-torch python3-onnx libopenblas0-pthread (Debian packages)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-torch python3-onnx libopenblas0-pthread >/dev/null
fi
# The ONNX checks run the exported graphs with onnxruntime-node through models/train/ort_run.cjs.
exec "$PY" models/train/run_tests.py
