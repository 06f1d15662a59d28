#!/usr/bin/env bash
# Type-check trtscope's TensorRT glue against tensorrt-stubs (pip install tensorrt-stubs).
#
# The project's mypy run treats tensorrt as Any (the stubs package ships `tensorrt/__init__.pyi` without a
# py.typed marker, so mypy skips it). This script copies the stubs to a temp dir, repairs the few lines that
# are not valid Python (parameters named `in`, a required parameter after defaulted ones), and runs mypy on
# trtscope/capture/trt_backend.py with the stubs on MYPYPATH, so every `trt.X` name and signature is checked.
# Usage (repository root, venv active): bash scripts/device/check_trt_stubs.sh
set -euo pipefail
site=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
[ -f "$site/tensorrt/__init__.pyi" ] || { echo "tensorrt-stubs is not installed in this environment" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$site/tensorrt" "$site/tensorrt_bindings" "$tmp/"
python - "$tmp" <<'PY'
import re, sys
from pathlib import Path
root = Path(sys.argv[1])
p = root / "tensorrt_bindings" / "tensorrt.pyi"
s = p.read_text()
s = re.sub(r"\bin: list\[", "in_: list[", s)  # `in` is a keyword
s = s.replace("power: Weights = None, channel_axis: int)", "power: Weights = None, channel_axis: int = ...)")
p.write_text(s)
init = root / "tensorrt" / "__init__.pyi"
init.write_text(init.read_text().replace("import tensorrt_libs as tensorrt_libs\n", ""))
PY
# the stubs themselves do not pass mypy; report only what concerns trtscope
out=$(MYPYPATH="$tmp" mypy --follow-imports=silent --no-warn-unused-ignores trtscope/capture/trt_backend.py 2>&1 || true)
mine=$(printf '%s\n' "$out" | grep '^trtscope/' || true)
if [ -n "$mine" ]; then printf '%s\n' "$mine"; exit 1; fi
echo "trt_backend.py: no type errors against tensorrt-stubs ($(pip show tensorrt-stubs 2>/dev/null | sed -n 's/^Version: //p'))"
