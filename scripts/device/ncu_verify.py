"""Run `trtscope ncu command --json` output on the GPU machine and check what Nsight Compute profiled.

For each command: run it with ``--csv --page raw --metrics gpu__time_duration.sum`` appended to the ncu
options (and ``--print-nvtx-rename kernel`` when asked, so each profiled kernel is shown under its innermost
push/pop NVTX range), then count the profiled kernels and list their names. Prints one JSON document.

Usage (device, repository root): python3 scripts/device/ncu_verify.py COMMANDS.json OUT_DIR
COMMANDS.json: [{"label", "argv", "expect_kernels", "expect_names"?, "expect_ranges"?, "rename": bool}, ...]
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path


def run_one(case: dict, out_dir: Path, ncu: str) -> dict:
    argv = list(case["argv"])
    assert argv[0] == "ncu"
    runner_at = argv.index(case["runner"][0])
    extra = ["--csv", "--page", "raw", "--metrics", "gpu__time_duration.sum", "--print-summary", "none"]
    if case.get("rename"):
        extra += ["--print-nvtx-rename", "kernel"]
    full = [ncu, *argv[1:runner_at], *extra, *argv[runner_at:]]
    proc = subprocess.run(full, capture_output=True, text=True, errors="replace", timeout=90, check=False)
    (out_dir / f"{case['label']}.log").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    rows = []
    text = proc.stdout[proc.stdout.find('"ID"'):] if '"ID"' in proc.stdout else ""
    for r in csv.DictReader(io.StringIO(text)):
        if r.get("ID", "").isdigit():
            rows.append(r)
    names = [r.get("Kernel Name", "") for r in rows]
    got = {"label": case["label"], "command": full, "returncode": proc.returncode, "profiled": len(rows),
           "kernel_names": sorted(set(names)), "per_name": {n: names.count(n) for n in sorted(set(names))}}
    ok = proc.returncode == 0 and len(rows) == case["expect_kernels"]
    if case.get("expect_names") is not None:
        ok = ok and set(names) == set(case["expect_names"])
    got["ok"] = ok
    return got


def main(commands: Path, out_dir: Path) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    ncu = shutil.which("ncu") or next((str(p) for p in sorted(Path("/usr/local").glob("cuda*/bin/ncu"))), "ncu")
    ver = subprocess.run([ncu, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    results = [run_one(c, out_dir, ncu) for c in json.loads(commands.read_text())]
    doc = {"ncu": ncu, "ncu_version": ver, "results": results, "all_ok": all(r["ok"] for r in results)}
    (out_dir / "ncu_verify.json").write_text(json.dumps(doc, indent=2))
    print(json.dumps(doc, indent=2))
    return 0 if doc["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
