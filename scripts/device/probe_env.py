"""Print what the GPU machine offers for live capture, and self-test trtscope's CUDA runtime wrapper.

Usage (device, repository root): PYTHONPATH=. python3 scripts/device/probe_env.py
Prints versions (torch, cuda-python, cupti-python, nvtx, NVML driver/CUDA versions), which libcupti the
cupti module loads (the path NVTX_INJECTION64_PATH must name), and runs CudaRuntime through malloc, memset,
events and a captured CUDA graph.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import sys


def version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "absent"


def main() -> int:
    print("python", sys.version.split()[0])
    for d in (
        "torch",
        "cuda-bindings",
        "cuda-python",
        "cupti-python",
        "nvtx",
        "nvidia-ml-py",
        "onnx",
        "tensorrt_rtx_cu13",
        "nvidia-cuda-cupti",
        "pandas",
        "pyarrow",
        "numpy",
    ):
        print(f"dist {d}: {version(d)}")
    import pynvml

    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    print(
        "nvml driver",
        pynvml.nvmlSystemGetDriverVersion(),
        "cuda",
        pynvml.nvmlSystemGetCudaDriverVersion(),
        "gpu",
        pynvml.nvmlDeviceGetName(h),
    )
    from trtscope.capture import nvtx_injection

    print("libcupti found by searching:", nvtx_injection.find_libcupti(load=False))
    print("libcupti found by loading:", nvtx_injection.find_libcupti(load=True))
    from cupti import cupti

    print("cupti.get_timestamp", cupti.get_timestamp())
    with open("/proc/self/maps") as fh:
        libs = sorted({line.split()[-1] for line in fh if "libcupti" in line})
    print("libcupti mapped after import:", libs)
    print("NVTX_INJECTION64_PATH =", os.environ.get("NVTX_INJECTION64_PATH"))

    from trtscope.capture.cuda_rt import CudaRuntime

    cu = CudaRuntime()
    print("cuda driver", cu.driver_version(), "runtime", cu.runtime_version())
    s = cu.stream_create()
    ptr = cu.malloc(1 << 20)
    cu.memset(ptr, 0, 1 << 20)
    e0, e1 = cu.event_create(), cu.event_create()
    cu.capture_begin(s)
    cu.rt.cudaMemsetAsync(ptr, 1, 1 << 20, s)
    graph = cu.capture_end(s)
    cu.event_record(e0, s)
    for _ in range(10):
        cu.graph_launch(graph[1], s)
    cu.event_record(e1, s)
    cu.stream_sync(s)
    print(f"cuda_rt self-test: 10 graph launches {cu.event_elapsed_ms(e0, e1):.4f} ms, stream handle {int(s):#x}")
    cu.graph_destroy(*graph)
    cu.free(ptr)
    cu.stream_destroy(s)
    print("cuda_rt self-test OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
