#!/usr/bin/env bash
# Steps of one device session (docs/device-runs.md, 2026-11-29, H200). Run from the copy of this repository
# that travels with the call (e.g. .devcarry/gpu), as: bash scripts/device/h200_session.sh STEP...
#   part0      copy the first half of the TensorRT-RTX libs (xz tar, split in two) to /tmp/rtx
#   install    join the halves (sha256 checked), unpack into /tmp/site, pip-install the carried wheels there
#   rtx        scripts/device/rtx_variants.py -> $OUT/fixtures.tgz (model.onnx files, logs, SOURCE.md)
#   probe      scripts/device/cupti_cost_probe.py (all variants; PROBE_VARIANTS=a,b for some)
#   bench      benchmarks/bench_kernel_trace_overhead.py, raw decoding, all workloads
#   bench_old  the same on graph_sync with cupti-python's record objects (the previous tracer), 2 short pairs
#   wheels     only the carried wheels (cupti-python, nvtx), no TensorRT-RTX
#   capture    scripts/device/torch_capture.py -> $OUT/capture.tgz
#   tests      the capture tests on the GPU machine
# Carried paths (relative to the repository root of the call): .rtx/p0 or .rtx/p1, .whl, and this copy.
set -u
HERE=$(pwd)
MAIN=${MAIN:?set MAIN to the repository root of the call (where .rtx and .whl are)}
OUT=${OUT:-/tmp/out}
LIBS_SHA=69e34054ea89f24a7bc3fccce92a2fd7d539e181875980333b5ded51074441e7
export PYTHONPATH=/tmp/site:$HERE
log() { echo "### $*"; }

for step in "$@"; do
  t0=$(date +%s)
  case $step in
    part0)
      mkdir -p /tmp/rtx && cp "$MAIN"/.rtx/p0/* /tmp/rtx/ && ls -la /tmp/rtx
      nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv
      python3 -c "import torch, onnx, torchvision; print(torch.__version__, onnx.__version__, torchvision.__version__)"
      ;;
    install)
      cat /tmp/rtx/libs.txz.part.00 "$MAIN"/.rtx/p1/libs.txz.part.01 > /tmp/rtx/libs.tar.xz
      echo "$LIBS_SHA  /tmp/rtx/libs.tar.xz" | sha256sum -c
      mkdir -p /tmp/site
      python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$MAIN"/.whl/*.whl 2>&1 | tail -2
      python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open('/tmp/rtx/libs.tar.xz'), sys.stdout.buffer)" \
        | tar x -C /tmp/site
      python3 -c "import tensorrt_rtx as t, cupti, nvtx; print('tensorrt_rtx', t.__version__)"
      ;;
    rtx)
      rm -rf /tmp/fx && mkdir -p /tmp/fx "$OUT"
      python3 scripts/device/rtx_variants.py /tmp/fx 2>&1 | grep -v Warning | tee "$OUT/rtx_variants.log"
      (cd /tmp/fx && tar czf "$OUT/fixtures.tgz" --exclude='*.data' .)
      ;;
    probe)
      mkdir -p "$OUT"
      python3 scripts/device/cupti_cost_probe.py ${PROBE_VARIANTS:+--variants $PROBE_VARIANTS} 2>&1 | tee "$OUT/probe.log"
      ;;
    bench_old)
      mkdir -p "$OUT"
      python3 benchmarks/bench_kernel_trace_overhead.py --decode objects --workloads graph_sync --reps 2 \
        --seconds 0.2 2>&1 | tee "$OUT/bench_old.log"
      ;;
    wheels)
      mkdir -p /tmp/site
      python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$MAIN"/.whl/cupti*.whl "$MAIN"/.whl/nvtx*.whl 2>&1 | tail -2
      nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
      ;;
    bench)
      mkdir -p "$OUT"
      python3 benchmarks/bench_kernel_trace_overhead.py --reps 6 --seconds 0.5 2>&1 | tee "$OUT/bench.log"
      ;;
    capture)
      rm -rf /tmp/cap && mkdir -p /tmp/cap "$OUT"
      python3 scripts/device/torch_capture.py /tmp/cap/h200-torch-capture.trtscope 2>&1 | tee "$OUT/capture.log"
      (cd /tmp/cap && tar czf "$OUT/capture.tgz" h200-torch-capture.trtscope)
      ;;
    tests)
      python3 -m pytest -p no:cacheprovider -q -rs tests/test_capture_*.py 2>&1 | tail -6 | tee "$OUT/tests.log"
      ;;
    *) echo "unknown step $step"; exit 2 ;;
  esac
  log "$step done in $(( $(date +%s) - t0 )) s"
done
