"""``trtscope profile``: build (or load) an engine on this GPU, time it, profile it, write a bundle."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from trtscope.cli.common import add_command
from trtscope.errors import InputError, TrtscopeError

EPILOG = """examples:
  trtscope profile model.onnx --shapes input:1x3x224x224 -o resnet.trtscope
  trtscope profile model.engine --iterations 500 --cuda-graph --nvml-hz 50
  trtscope profile model.onnx --fp16 --duration 10 --kernels -o run.trtscope --force
  trtscope report run.trtscope        then read the bundle (or: trtscope tui run.trtscope)

Latencies come from a run with no profiler and no tracer attached; per-layer times from a separate
IProfiler run (asynchronous pattern, CUDA graphs supported) whose cost is recorded in the manifest; --kernels
traces a separate phase and re-runs trtscope once with NVTX_INJECTION64_PATH set so NVTX ranges reach
CUPTI. `trtscope doctor` says what this machine can do.
"""


def register(subparsers: Any, name: str, summary: str) -> None:
    p = add_command(subparsers, name, summary, EPILOG)
    p.add_argument("model", type=Path, help="ONNX model (*.onnx, built here) or a serialized engine (any other name)")
    b = p.add_argument_group("build (ONNX input)")
    b.add_argument(
        "--shapes",
        metavar="SPEC",
        default="",
        help="input shapes, trtexec style: name:1x3x224x224[,name2:...] (min = opt = max; also the "
        "shapes the engine runs with)",
    )
    for prec in ("fp16", "bf16", "int8", "fp8"):
        b.add_argument(
            f"--{prec}",
            action="store_true",
            help=f"allow {prec.upper()} kernels (TensorRT 10.x weak typing; 11.x/RTX: use the model's types)",
        )
    b.add_argument("--strongly-typed", action="store_true", help="build strongly typed (TensorRT 10.x opt-in)")
    b.add_argument("--workspace", type=int, metavar="MIB", help="workspace memory pool limit in MiB")
    b.add_argument("--opt-level", type=int, choices=range(6), metavar="0-5", help="builder optimization level")
    b.add_argument("--save-engine", type=Path, metavar="PATH", help="also write the built engine here")
    r = p.add_argument_group("run")
    r.add_argument("--warmup", type=int, default=10, metavar="N", help="untimed inferences first (default 10)")
    m = r.add_mutually_exclusive_group()
    m.add_argument("--iterations", type=int, metavar="N", help="timed inferences (default 100)")
    m.add_argument("--duration", type=float, metavar="S", help="time inferences for S seconds instead")
    r.add_argument(
        "--profile-iterations",
        type=int,
        default=20,
        metavar="N",
        help="inferences of the separate per-layer (IProfiler) run; 0 skips it (default 20)",
    )
    r.add_argument("--cuda-graph", action="store_true", help="launch inferences as a captured CUDA graph")
    r.add_argument(
        "--trt-module",
        choices=("tensorrt", "tensorrt_rtx"),
        help="which TensorRT to use (default: tensorrt, else tensorrt_rtx)",
    )
    c = p.add_argument_group("capture")
    c.add_argument(
        "--nvml-hz",
        type=float,
        default=20.0,
        metavar="HZ",
        help="NVML sampling rate (utilization, clocks, power...); 0 turns it off (default 20)",
    )
    c.add_argument("--gpu", type=int, default=0, metavar="INDEX", help="NVML index of the GPU to sample (default 0)")
    c.add_argument(
        "--kernels",
        action="store_true",
        help="trace every CUDA kernel with CUPTI (cupti-python) in a separate phase after the timed run",
    )
    c.add_argument(
        "--kernel-iterations",
        type=int,
        default=10,
        metavar="N",
        help="inferences of the CUPTI-traced phase (default 10)",
    )
    c.add_argument("-o", "--output", type=Path, metavar="BUNDLE", help="bundle directory (default MODEL.trtscope)")
    c.add_argument("--force", action="store_true", help="overwrite an existing bundle")
    c.add_argument("-v", "--verbose", action="store_true", help="print TensorRT's warnings as they come")
    p.set_defaults(func=run)


def _validate(args: argparse.Namespace) -> None:
    checks = [
        (args.warmup >= 0, "--warmup must be >= 0"),
        (args.iterations is None or args.iterations > 0, "--iterations must be > 0"),
        (args.duration is None or args.duration > 0, "--duration must be > 0"),
        (args.profile_iterations >= 0, "--profile-iterations must be >= 0"),
        (args.kernel_iterations > 0, "--kernel-iterations must be > 0"),
        (0 <= args.nvml_hz <= 1000, "--nvml-hz must be between 0 and 1000"),
        (args.workspace is None or args.workspace > 0, "--workspace must be > 0"),
    ]
    for ok, msg in checks:
        if not ok:
            raise TrtscopeError(msg)


def _environment() -> dict[str, Any]:
    """Facts that need no GPU library beyond what profile needs anyway."""
    env: dict[str, Any] = {}
    try:
        from trtscope.capture.cuda_rt import CudaRuntime

        cu = CudaRuntime()
        env["cuda_runtime_version"] = _cuda_text(cu.runtime_version())
        env["cuda_driver_version"] = _cuda_text(cu.driver_version())
    except Exception:  # reported by the backend when it matters
        pass
    return env


def _cuda_text(v: int) -> str:
    return f"{v // 1000}.{(v % 1000) // 10}"


def run(args: argparse.Namespace) -> int:
    from trtscope.capture.backend import BuildOptions, LogRecord, ShapeSpec, parse_shapes
    from trtscope.capture.nvtx_injection import original_command, reexec_with_injection

    _validate(args)
    injection_note = reexec_with_injection(sys.argv[1:]) if args.kernels else None
    if not args.model.exists():
        raise InputError(args.model, "no such file")
    shapes = parse_shapes(args.shapes)
    precisions = tuple(p for p in ("fp16", "bf16", "int8", "fp8") if getattr(args, p))
    is_onnx = args.model.suffix.lower() == ".onnx"
    if not is_onnx and (precisions or args.strongly_typed or args.workspace or args.opt_level is not None):
        raise TrtscopeError("build options (--fp16, --workspace, ...) apply to ONNX input only")

    from trtscope.bundle.writer import BundleWriter
    from trtscope.capture.nvtx_ranges import NvtxRanges
    from trtscope.capture.profile_run import CaptureRequest, run_capture
    from trtscope.capture.trt_backend import TensorRTBackend

    def echo(rec: LogRecord) -> None:
        if rec.severity in ("ERROR", "INTERNAL_ERROR") or (args.verbose and rec.severity == "WARNING"):
            print(f"TensorRT [{rec.severity}]: {rec.message}", file=sys.stderr)

    backend = TensorRTBackend(args.trt_module, echo=echo)  # MissingDependencyError before any output exists
    req = CaptureRequest(
        model=args.model,
        build=BuildOptions(
            {k: ShapeSpec.fixed(v) for k, v in shapes.items()},
            precisions,
            args.strongly_typed,
            args.workspace,
            args.opt_level,
        ),
        run_shapes=shapes,
        warmup=args.warmup,
        iterations=None if args.duration else (args.iterations or 100),
        duration_s=args.duration,
        profile_iterations=args.profile_iterations,
        kernel_iterations=args.kernel_iterations,
        cuda_graph=args.cuda_graph,
        nvml_hz=args.nvml_hz,
        kernels=args.kernels,
        save_engine=args.save_engine,
    )
    notes: list[str] = [injection_note] if injection_note else []
    sampler = None
    if args.nvml_hz > 0:
        from trtscope.capture.nvml_sampler import ProcessNvmlSampler
        from trtscope.errors import MissingDependencyError

        try:
            sampler = ProcessNvmlSampler(args.nvml_hz, args.gpu)
        except MissingDependencyError as err:
            notes.append(f"no NVML samples: {err}")
    tracer = None
    if args.kernels:
        from trtscope.capture.cupti_trace import KernelTracer

        tracer = KernelTracer()
    out = args.output or args.model.with_name(args.model.name + ".trtscope")
    for n in notes:
        print(f"trtscope: note: {n}", file=sys.stderr)
    progress = _RichProgress()
    try:
        with BundleWriter(out, kind="capture", command=original_command(), force=args.force) as writer, progress:
            for n in notes:
                writer.note(n)
            run_info = run_capture(
                backend,
                req,
                writer,
                progress=progress,
                ranges=NvtxRanges(),
                sampler=sampler,
                tracer=tracer,
                environment=_environment(),
            )
    except KeyboardInterrupt:
        print(f"trtscope: interrupted; {out} holds what was recorded (marked interrupted)", file=sys.stderr)
        raise
    except TrtscopeError:
        print(
            f"trtscope: the bundle {out} holds what was recorded before the error (marked failed)",
            file=sys.stderr,
        )
        raise
    _summary(out, run_info)
    return 0


def _summary(out: Path, run: dict[str, Any]) -> None:
    lat = run.get("latency_ms") or {}
    gpu = run.get("gpu_compute_ms") or {}
    prof = run.get("profiling") or {}
    print(f"bundle: {out}")
    if lat.get("count"):
        print(
            f"iterations: {lat['count']}  latency median {lat['median']:.4f} ms (p99 {lat['p99']:.4f})  "
            f"GPU compute median {gpu.get('median', float('nan')):.4f} ms  "
            f"throughput {run.get('throughput_per_s') or 0:.1f}/s"
        )
    if prof.get("overhead_pct") is not None:
        print(f"per-layer profiling ran separately; it changed GPU time by {prof['overhead_pct']:+.1f}%")


class _RichProgress:
    """Progress on stderr: one bar per phase (spinner when the total is unknown)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._p = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task: Any = None

    def __enter__(self) -> _RichProgress:
        self._p.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._p.stop()

    def phase(self, name: str, total: int | None = None) -> None:
        if self._task is not None:
            t = self._p.tasks[-1]
            self._p.update(
                self._task,
                total=t.completed if t.total is None else t.total,
                completed=t.total or t.completed,
            )
        self._task = self._p.add_task(name, total=total)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._p.advance(self._task, n)
