"""The capture-verification workload (scripts/device/torch_capture.py) without any capture, for Nsight Compute.

Five untraced warm-up steps (no NVTX range around their kernels), then ITERATIONS steps in which each of the six
"layers" runs inside its own push/pop NVTX range (domain ``workload``), exactly as in the capture that made
fixtures/h100-torch-capture.trtscope. `trtscope ncu command` on that bundle targets one layer's kernels here.

Usage (device, repository root): python3 scripts/device/ncu_workload.py [ITERATIONS]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from torch_capture import LAYERS, workload


def main(iterations: int) -> int:
    import nvtx
    import torch

    ops, x = workload(torch)
    h = x
    for _ in range(5):  # warm-up: the same kernels, outside any NVTX range
        for name in LAYERS:
            h = ops[name](h, x)
    torch.cuda.synchronize()
    for _ in range(iterations):
        h = x
        for name in LAYERS:
            nvtx.push_range(message=name, domain="workload")
            h = ops[name](h, x)
            nvtx.pop_range(domain="workload")
    torch.cuda.synchronize()
    print(f"ncu_workload: {iterations} iterations x {len(LAYERS)} layers done")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 40))
