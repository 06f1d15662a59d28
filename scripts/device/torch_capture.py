"""Verify trtscope's capture stack on a real GPU: NVML sampler, NVTX ranges, CUPTI kernel trace, mapping.

A PyTorch workload shaped like a TensorRT engine's enqueue: every iteration (a trtscope start/end range
``iteration i``) runs six "layers", each inside its own push/pop NVTX range (domain ``workload``) around
the kernels it launches, as TensorRT does per layer. Then one iteration is captured into a CUDA graph and
replayed (its kernels cannot be attributed to layer ranges: ranges are recorded at capture, not replay),
then an untraced busy phase and an idle pause give NVML something to see. Everything is written as a real
trtscope bundle (kind ``torch-capture``: not TensorRT output).

Usage (device, repository root): PYTHONPATH=. python3 scripts/device/torch_capture.py OUT.trtscope
Re-executes itself once with NVTX_INJECTION64_PATH set (trtscope's own mechanism), then prints a summary.
The manifest also records ``clock_alignment.monotonic_raw`` (CLOCK_MONOTONIC -> CLOCK_MONOTONIC_RAW, for
Nsight) and how the kernel trace was decoded (``run.kernel_trace``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ITERATIONS = 40
GRAPH_REPLAYS = 5
NVML_HZ = 50.0
BUSY_S = 2.0
LAYERS = ("fc1", "relu", "fc2", "gelu", "norm", "residual")


def workload(torch: Any) -> tuple[Any, Any]:
    """(step function, input): six ops on a (256, 1024) fp16 activation, one named "layer" each."""
    g = torch.Generator(device="cuda").manual_seed(0)
    w1 = torch.randn(1024, 1024, device="cuda", dtype=torch.float16, generator=g) / 32
    w2 = torch.randn(1024, 1024, device="cuda", dtype=torch.float16, generator=g) / 32
    x = torch.randn(256, 1024, device="cuda", dtype=torch.float16, generator=g)
    ops = {
        "fc1": lambda h, x0: h @ w1,
        "relu": lambda h, x0: torch.relu(h),
        "fc2": lambda h, x0: h @ w2,
        "gelu": lambda h, x0: torch.nn.functional.gelu(h),
        "norm": lambda h, x0: torch.nn.functional.layer_norm(h, (1024,)),
        "residual": lambda h, x0: h + x0,
    }
    return ops, x


def main(out: Path) -> int:
    from trtscope.capture.nvtx_injection import injection_active, reexec_with_injection

    note = reexec_with_injection(sys.argv[1:], command=[sys.executable, str(Path(__file__).resolve())])
    if note:
        print("injection:", note)
    import nvtx
    import torch

    from trtscope.bundle.writer import BundleWriter
    from trtscope.capture.clocks import RawClockRecorder
    from trtscope.capture.cupti_trace import KernelTracer
    from trtscope.capture.nvml_sampler import ProcessNvmlSampler
    from trtscope.capture.nvtx_ranges import NvtxRanges

    ops, x = workload(torch)

    def step(h: Any, named: bool) -> Any:
        for name in LAYERS:
            if named:
                nvtx.push_range(message=name, domain="workload")
            h = ops[name](h, x)
            if named:
                nvtx.pop_range(domain="workload")
        return h

    for _ in range(5):  # untraced warm-up: cuBLAS handles, caching allocator, lazy module loading
        step(x, named=False)
    static_in = x.clone()
    side = torch.cuda.Stream()  # PyTorch's recipe: warm up on a side stream before graph capture
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            step(static_in, named=False)
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    sampler, ranges, tracer = ProcessNvmlSampler(NVML_HZ), NvtxRanges(), KernelTracer()
    raw_clock = RawClockRecorder()
    with BundleWriter(out, kind="torch-capture", force=True) as w:
        raw_clock.start()
        w.note(
            "NOT a TensorRT capture: a PyTorch workload with one push/pop NVTX range (domain 'workload') per "
            "'layer' around its kernels, made to verify trtscope's NVML/NVTX/CUPTI capture on a real GPU"
        )
        w.note(
            f"made by scripts/device/torch_capture.py (trtscope repository) on {torch.cuda.get_device_name(0)}, "
            f"{time.strftime('%Y-%m-%d', time.gmtime())}; kernel trace decoded '{tracer.decode}'"
        )
        sampler.start()
        w.update(
            environment={
                **sampler.facts,
                "torch": torch.__version__,
                "cuda_runtime_version": torch.version.cuda,
                "nvtx_injection": injection_active(),
            }
        )
        t_start = time.monotonic_ns()
        tracer.start()
        with ranges.range("traced workload"):
            for i in range(ITERATIONS):
                with ranges.range(f"iteration {i}"):
                    step(x, named=True)
            torch.cuda.synchronize()
            try:
                with ranges.range("graph capture"), torch.cuda.graph(graph):
                    step(static_in, named=True)
                with ranges.range("graph replays"):
                    for _ in range(GRAPH_REPLAYS):
                        graph.replay()
                    torch.cuda.synchronize()
            except Exception as err:  # keep the rest of the capture
                w.note(f"CUDA graph part failed: {type(err).__name__}: {err}")
                print("graph part failed:", err)
        tracer.stop()
        with ranges.range("busy (untraced)"):
            a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
            t0 = time.monotonic()
            while time.monotonic() - t0 < BUSY_S:
                for _ in range(20):
                    a @ a
                torch.cuda.synchronize()
        time.sleep(0.5)
        nvml = sampler.stop()
        t = tracer.tables(layer_names=LAYERS, own_ranges=ranges.table())
        w.write_table("kernels", t.kernels)
        w.write_table("api_calls", t.api_calls)
        w.write_table("nvtx_ranges", t.nvtx_ranges)
        w.write_table("nvml", nvml)
        w.update(
            clock_alignment={"cupti": t.alignment, "monotonic_raw": raw_clock.stop()},
            run={
                "workload": f"{ITERATIONS} iterations x {len(LAYERS)} layers {list(LAYERS)}, "
                "fp16 (256,1024)x(1024,1024); "
                f"then 1 iteration captured as a CUDA graph and replayed {GRAPH_REPLAYS}x; then "
                f"{BUSY_S} s of untraced 8192^3 bf16 matmuls and 0.5 s idle",
                "iterations": ITERATIONS,
                "layers": list(LAYERS),
                "graph_replays": GRAPH_REPLAYS,
                "nvml_hz": NVML_HZ,
                "traced_from_ns": t_start,
                "nvml_errors": sampler.errors,
                "nvml_sampler": "helper process (ProcessNvmlSampler)",
                "api_calls_recorded": tracer.api_calls,
                "kernel_trace": {"decode": tracer.decode, **tracer.stats},
            },
        )
        for n in t.notes:
            w.note(n)
    summarize(out, t, nvml, sampler)
    return 0


def t_stats(out: Path) -> dict[str, Any]:
    import json

    m = json.loads((out / "manifest.json").read_text())
    return {"kernel_trace": m["run"]["kernel_trace"], "monotonic_raw": m["clock_alignment"]["monotonic_raw"]}


def summarize(out: Path, t: Any, nvml: Any, sampler: Any) -> None:
    k = t.kernels
    print(f"bundle: {out}")
    print(
        f"kernels: {len(k)}  with launch record: {int(k['api_start_ns'].notna().sum())}  "
        f"in an NVTX range: {int(k['nvtx_range_id'].notna().sum())}  "
        f"on a layer: {int(k['layer_name'].notna().sum())}"
    )
    print("kernels per layer:", k["layer_name"].value_counts(dropna=False).to_dict())
    print("range_basis:", k["range_basis"].value_counts(dropna=False).to_dict())
    print("kernel names:", k["name"].str.slice(0, 60).value_counts().head(8).to_dict())
    r = t.nvtx_ranges
    print(f"nvtx ranges: {len(r)} by domain {r['domain'].value_counts(dropna=False).to_dict()}")
    print(f"api calls: {len(t.api_calls)} ({t.api_calls['kind'].value_counts().to_dict()})")
    print("clock alignment:", t.alignment)
    print("kernel trace:", t_stats(out))
    if len(nvml):
        span = (nvml["timestamp_ns"].iloc[-1] - nvml["timestamp_ns"].iloc[0]) / 1e9
        print(
            f"nvml: {len(nvml)} samples over {span:.2f} s = {(len(nvml) - 1) / span:.1f} Hz; "
            f"gpu util max {nvml['gpu_util_pct'].max()}%, power max {nvml['power_w'].max():.0f} W, "
            f"sm clock max {nvml['sm_clock_mhz'].max()} MHz, errors {sampler.errors}"
        )
    print("notes:", t.notes)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "h100-torch-capture.trtscope")))
