"""What this machine has for live capture, what each piece enables, and how to get what is missing.

Every probe is defensive: ``trtscope doctor`` must run on a machine with no GPU, no driver and no TensorRT
and say so plainly. Nothing here starts a capture; CUPTI is only imported, never enabled.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os
import platform
import sys
from dataclasses import asdict, dataclass
from typing import Any

from trtscope._version import __version__
from trtscope.capture import nvtx_injection, trt_backend


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    enables: str
    how: str | None = None  # how to get it, when not ok
    version: str | None = None


def dist_version(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def _nvml() -> tuple[Check, list[dict[str, Any]], str | None]:
    enables = "--nvml-hz: GPU utilization, clocks, power, temperature, memory and throttle reasons"
    how = "pip install nvidia-ml-py, on a machine with an NVIDIA driver"
    version = dist_version("nvidia-ml-py")
    try:
        import pynvml
    except ImportError:
        return Check("NVML (pynvml)", False, "nvidia-ml-py is not installed", enables, how), [], None
    try:
        pynvml.nvmlInit()
    except Exception as err:
        detail = f"nvidia-ml-py {version} installed, but NVML cannot start: {err} (no NVIDIA driver/GPU?)"
        return Check("NVML (pynvml)", False, detail, enables, how, version), [], None
    from trtscope.capture.nvml_sampler import device_facts

    try:
        gpus = [device_facts(pynvml, i) for i in range(pynvml.nvmlDeviceGetCount())]
    finally:
        pynvml.nvmlShutdown()
    cuda = gpus[0]["cuda_driver_version"] if gpus else None
    drv = gpus[0]["driver_version"] if gpus else None
    detail = f"driver {drv}, CUDA {cuda}, {len(gpus)} GPU(s)"
    return Check("NVML (pynvml)", bool(gpus), detail, enables, None if gpus else how, version), gpus, cuda


def _tensorrt() -> list[Check]:
    out = []
    hows = {
        "tensorrt": "pip install tensorrt (TensorRT 10/11; or NVIDIA's tarball)",
        "tensorrt_rtx": "pip install tensorrt-rtx (TensorRT for RTX GPUs)",
    }
    for name in trt_backend.MODULES:
        st = trt_backend.probe_module(name)
        label = "TensorRT" if name == "tensorrt" else "TensorRT-RTX"
        detail = f"{name} {st.version} at {st.location}" if st.real else f"{name}: {st.problem}"
        out.append(
            Check(
                f"{label} ({name})",
                st.real,
                detail,
                "trtscope profile: build/load engines, layer info, timing, IProfiler per-layer times",
                None if st.real else hows[name],
                st.version,
            )
        )
    return out


def _cuda_python() -> Check:
    version = dist_version("cuda-bindings") or dist_version("cuda-python")
    enables = "trtscope profile: device buffers, streams, CUDA events and graphs for TensorRT"
    try:
        from trtscope.capture.cuda_rt import import_cudart

        import_cudart()
        return Check("cuda-python", True, f"cuda.bindings {version}", enables, None, version)
    except Exception:
        return Check(
            "cuda-python",
            False,
            "cuda.bindings is not importable",
            enables,
            "pip install cuda-python",
            version,
        )


def _cupti(cuda_driver: str | None) -> Check:
    version = dist_version("cupti-python")
    enables = "--kernels: every CUDA kernel with grid/block/stream, mapped to NVTX ranges and layers"
    how = "pip install 'cupti-python==<driver CUDA major.minor>.*' (a newer CUPTI records nothing)"
    try:
        importlib.import_module("cupti.cupti")
    except Exception as err:
        detail = "cupti-python is not installed" if version is None else f"cupti import failed: {err}"
        return Check("CUPTI (cupti-python)", False, detail, enables, how, version)
    detail = f"cupti-python {version}"
    ok = True
    if cuda_driver and version:
        mine = tuple(int(x) for x in version.split(".")[:2])
        drv = tuple(int(x) for x in cuda_driver.split(".")[:2])
        if mine > drv:
            ok = False
            detail += f" is newer than the driver's CUDA {cuda_driver}: it will record nothing"
        else:
            detail += f" (driver CUDA {cuda_driver}: compatible)"
    return Check("CUPTI (cupti-python)", ok, detail, enables, None if ok else how, version)


def _nvtx() -> Check:
    version = dist_version("nvtx")
    enables = "NVTX ranges around build/warm-up/iterations/profiling (Nsight Systems; kernel -> range mapping)"
    try:
        importlib.import_module("nvtx")
        return Check("nvtx", True, f"nvtx {version}", enables, None, version)
    except Exception:
        return Check(
            "nvtx",
            False,
            "the nvtx package is not installed (ranges are still recorded host-side)",
            enables,
            "pip install nvtx",
            version,
        )


def _injection() -> Check:
    value = os.environ.get(nvtx_injection.ENV)
    enables = "NVTX ranges (TensorRT's per-layer ones included) reaching CUPTI for --kernels"
    if value:
        ok = nvtx_injection.injection_active()
        detail = f"{nvtx_injection.ENV}={value}" + ("" if ok else " (no such file)")
        return Check(nvtx_injection.ENV, ok, detail, enables, None if ok else "unset it or point it at libcupti")
    return Check(nvtx_injection.ENV, True, "unset: trtscope profile --kernels re-executes itself with it set", enables)


def rtx_runtime_supports(compute_capability: str) -> bool:
    """Whether TensorRT-RTX's runtime accepts a GPU. From its own refusal on an H100 (tensorrt_rtx 1.7.1.116,
    2026-11-21): "Supported compute capabilities: 8.0 8.6 8.9 12.0 12.1 >12.0"."""
    try:
        major, minor = (int(x) for x in compute_capability.split(".")[:2])
    except ValueError:
        return True  # unknown: do not claim a refusal we cannot know
    return (major, minor) in {(8, 0), (8, 6), (8, 9)} or major >= 12


def _rtx_runs_here(check: Check, gpus: list[dict[str, Any]]) -> bool:
    """False (and says so in the check) when TensorRT-RTX is installed but its runtime refuses every GPU."""
    if not check.ok or not gpus:
        return check.ok
    caps = [str(g.get("compute_capability", "")) for g in gpus]
    if any(rtx_runtime_supports(c) for c in caps):
        return True
    check.detail += (
        f"; builds engines, but its runtime refuses compute capability {', '.join(caps)} "
        "(supported: 8.0 8.6 8.9 12.0+): no timing or per-layer profile on this GPU"
    )
    return False


def collect() -> dict[str, Any]:
    """The doctor report as a JSON-ready dict."""
    nvml, gpus, cuda = _nvml()
    trts = _tensorrt()
    cudapy = _cuda_python()
    cupti = _cupti(cuda)
    nvtx = _nvtx()
    rtx_ok = _rtx_runs_here(trts[1], gpus)
    checks = [nvml, *trts, cudapy, cupti, nvtx, _injection()]
    any_trt = trts[0].ok or (trts[1].ok and rtx_ok)
    return {
        "trtscope": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "gpus": gpus,
        "checks": [asdict(c) for c in checks],
        "capabilities": {
            "analysis": True,  # report/tui/export need no GPU
            "profile": any_trt and cudapy.ok and bool(gpus),
            "nvml": nvml.ok,
            "kernels": cupti.ok and bool(gpus),
            "nvtx": nvtx.ok,
        },
    }


def render(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]trtscope {report['trtscope']}[/] on Python {report['python']}, {report['platform']}")
    for g in report["gpus"]:
        console.print(
            f"GPU {g['gpu_index']}: {g['gpu']} (compute {g.get('compute_capability', '?')}, "
            f"{g.get('memory_total_mib', '?')} MiB), driver {g['driver_version']}, "
            f"CUDA {g['cuda_driver_version']}"
        )
    if not report["gpus"]:
        console.print(
            "No NVIDIA GPU visible: analysis commands (report, tui, export, nsys) work; "
            "live capture (profile) needs a GPU."
        )
    table = Table(show_lines=False)
    for col in ("", "component", "status", "enables"):
        table.add_column(col)
    for c in report["checks"]:
        mark = "[green]ok[/]" if c["ok"] else "[red]--[/]"
        status = c["detail"] + ("" if c["ok"] or not c["how"] else f"\n[yellow]get it:[/] {c['how']}")
        table.add_row(mark, c["name"], status, c["enables"])
    console.print(table)
    caps = report["capabilities"]
    console.print(
        "can do: "
        + ", ".join(k for k, v in caps.items() if v)
        + (" | cannot: " + ", ".join(k for k, v in caps.items() if not v) if not all(caps.values()) else "")
    )
