"""GPU state sampled through NVML (``pynvml`` from nvidia-ml-py) on a background thread.

Each sample is stamped with ``time.monotonic_ns()`` taken just before its first NVML call: the run clock
(CLOCK_MONOTONIC, the bundle manifest's ``clock``), so samples line up with iterations, NVTX ranges and
kernels without conversion. NVML's own history buffers are not used: polling gives one consistent row per
tick, and ``--nvml-hz`` decides the density. Utilization is the driver's figure for its last sample period
(1/6 s to 1 s): polling faster than that repeats values. A field the GPU does not support is read once,
reported as None and not asked for again.

:class:`ProcessNvmlSampler` runs the same sampler in a helper process (``python -m
trtscope.capture.nvml_sampler``): every pynvml call is a ctypes call that releases and re-takes the GIL, and
a Python thread doing that 7 times per tick competes with a host thread that holds the GIL to launch work.
CLOCK_MONOTONIC is system-wide, so the helper's timestamps are on the same run clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from trtscope.errors import MissingDependencyError
from trtscope.model.tables import NVML_SAMPLE_COLUMNS, frame

HOW = "pip install nvidia-ml-py (module pynvml; needs an NVIDIA driver)"


def import_pynvml() -> Any:
    try:
        import pynvml

        return pynvml
    except ImportError as err:
        raise MissingDependencyError("NVML (pynvml)", HOW) from err


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def nvml_init(nvml: Any) -> None:
    """nvmlInit(), turning "no driver" into MissingDependencyError."""
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as err:
        raise MissingDependencyError("NVML", f"nvmlInit failed ({err}); is an NVIDIA driver installed?") from err


def device_facts(nvml: Any, index: int) -> dict[str, Any]:
    """Static facts for the manifest and doctor: name, driver, CUDA driver version, memory, capability."""
    h = nvml.nvmlDeviceGetHandleByIndex(index)
    facts: dict[str, Any] = {"gpu_index": index, "gpu": _text(nvml.nvmlDeviceGetName(h))}
    cuda = nvml.nvmlSystemGetCudaDriverVersion()
    facts["driver_version"] = _text(nvml.nvmlSystemGetDriverVersion())
    facts["cuda_driver_version"] = f"{cuda // 1000}.{(cuda % 1000) // 10}"
    for key, fn in (
        ("memory_total_mib", lambda: nvml.nvmlDeviceGetMemoryInfo(h).total // (1 << 20)),
        ("compute_capability", lambda: "{}.{}".format(*nvml.nvmlDeviceGetCudaComputeCapability(h))),
        ("uuid", lambda: _text(nvml.nvmlDeviceGetUUID(h))),
    ):
        with contextlib.suppress(Exception):  # older drivers / unsupported queries: leave the fact out
            facts[key] = fn()
    return facts


class NvmlSampler:
    """``start()`` a thread sampling GPU ``gpu_index`` at ``hz``; ``stop()`` returns the samples."""

    def __init__(
        self, hz: float, gpu_index: int = 0, *, nvml: Any = None, clock: Callable[[], int] = time.monotonic_ns
    ) -> None:
        if not hz > 0:
            raise ValueError("hz must be > 0")
        self.hz = float(hz)
        self.gpu_index = gpu_index
        self.nvml = nvml if nvml is not None else import_pynvml()
        self._clock = clock
        self._rows: list[tuple[Any, ...]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsupported: set[str] = set()
        self.errors: list[str] = []
        self.facts: dict[str, Any] = {}
        self._readers: list[tuple[str, Callable[[], Any]]] = []

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        n = self.nvml
        nvml_init(n)
        self.facts = device_facts(n, self.gpu_index)
        h = n.nvmlDeviceGetHandleByIndex(self.gpu_index)
        # the newer name first; older nvidia-ml-py only has the "Throttle" spelling
        reasons = getattr(n, "nvmlDeviceGetCurrentClocksEventReasons", None)
        if reasons is None:
            reasons = n.nvmlDeviceGetCurrentClocksThrottleReasons
        self._readers = [
            ("util", lambda: n.nvmlDeviceGetUtilizationRates(h)),
            ("sm_clock_mhz", lambda: n.nvmlDeviceGetClockInfo(h, n.NVML_CLOCK_SM)),
            ("mem_clock_mhz", lambda: n.nvmlDeviceGetClockInfo(h, n.NVML_CLOCK_MEM)),
            ("power_w", lambda: n.nvmlDeviceGetPowerUsage(h) / 1000.0),
            ("temperature_c", lambda: n.nvmlDeviceGetTemperature(h, n.NVML_TEMPERATURE_GPU)),
            ("memory_used_mib", lambda: n.nvmlDeviceGetMemoryInfo(h).used / float(1 << 20)),
            ("throttle_reasons", lambda: int(reasons(h))),
        ]
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="trtscope-nvml", daemon=True)
        self._thread.start()

    def stop(self) -> pd.DataFrame:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            with contextlib.suppress(Exception):  # shutdown problems must not lose the samples
                self.nvml.nvmlShutdown()
        return self.table()

    def table(self) -> pd.DataFrame:
        return frame(list(self._rows), NVML_SAMPLE_COLUMNS)

    @property
    def samples(self) -> int:
        return len(self._rows)

    # -- sampling --------------------------------------------------------------------------------------------
    def _read(self, key: str, fn: Callable[[], Any]) -> Any:
        if key in self._unsupported:
            return None
        try:
            return fn()
        except self.nvml.NVMLError as err:
            if isinstance(err, getattr(self.nvml, "NVMLError_NotSupported", ())):
                self._unsupported.add(key)
            elif len(self.errors) < 20:
                self.errors.append(f"{key}: {err}")
            return None

    def sample_once(self) -> tuple[Any, ...]:
        ts = self._clock()
        vals = {k: self._read(k, fn) for k, fn in self._readers}
        util = vals.pop("util")
        row = (
            ts,
            self.gpu_index,
            None if util is None else int(util.gpu),
            None if util is None else int(util.memory),
            vals["sm_clock_mhz"],
            vals["mem_clock_mhz"],
            vals["power_w"],
            vals["temperature_c"],
            vals["memory_used_mib"],
            vals["throttle_reasons"],
        )
        self._rows.append(row)
        return row

    def _loop(self) -> None:
        period = 1e9 / self.hz
        t0 = time.monotonic_ns()
        k = 0
        while not self._stop.is_set():
            self.sample_once()
            k += 1
            now = time.monotonic_ns()
            if t0 + k * period < now:  # overran: skip the missed ticks instead of bursting
                k = int((now - t0) // period) + 1
            self._stop.wait((t0 + k * period - now) / 1e9)


class ProcessNvmlSampler:
    """:class:`NvmlSampler` in a helper process; same interface (``start``, ``stop``, ``facts``, ``errors``).

    The helper ignores Ctrl-C (the parent stops it from its ``finally``), keeps its samples in memory and
    sends them as one JSON document when the parent closes its stdin.
    """

    def __init__(
        self, hz: float, gpu_index: int = 0, *, python: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        if not hz > 0:
            raise ValueError("hz must be > 0")
        import_pynvml()  # fail early, in the parent, with the usual message
        self.hz = float(hz)
        self.gpu_index = gpu_index
        self._python = python or sys.executable
        self._env = env
        self._proc: subprocess.Popen[str] | None = None
        self._rows: list[list[Any]] = []
        self.facts: dict[str, Any] = {}
        self.errors: list[str] = []

    def start(self) -> None:
        import trtscope

        env = dict(os.environ if self._env is None else self._env)
        root = os.path.dirname(os.path.dirname(os.path.abspath(trtscope.__file__)))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        env.pop("NVTX_INJECTION64_PATH", None)  # the helper makes no CUDA/NVTX calls; keep CUPTI out of it
        self._proc = subprocess.Popen(
            [self._python, "-m", "trtscope.capture.nvml_sampler", str(self.hz), str(self.gpu_index)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self._proc.stdout is not None
        first = self._proc.stdout.readline()
        try:
            doc = json.loads(first)
        except ValueError:
            doc = {"error": f"the NVML helper process failed to start ({first.strip() or 'no output'})"}
        if "error" in doc:
            self._proc.wait()
            self._proc = None
            raise MissingDependencyError("NVML", str(doc["error"]))
        self.facts = doc["facts"]

    def stop(self) -> pd.DataFrame:
        proc, self._proc = self._proc, None
        if proc is not None:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.close()
            out = proc.stdout.read()
            proc.wait()
            try:
                doc = json.loads(out)
                self._rows = [list(r) for r in doc["rows"]]
                self.errors = list(doc.get("errors", []))
            except (ValueError, KeyError):
                self.errors.append(f"the NVML helper process returned no samples (exit {proc.returncode})")
        return frame([tuple(r) for r in self._rows], NVML_SAMPLE_COLUMNS)

    @property
    def samples(self) -> int:
        return len(self._rows)


def _helper_main(argv: list[str]) -> int:
    """``python -m trtscope.capture.nvml_sampler HZ GPU``: the helper process of ProcessNvmlSampler."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        sampler = NvmlSampler(float(argv[0]), int(argv[1]))
        sampler.start()
    except Exception as err:
        print(json.dumps({"error": str(err)}), flush=True)
        return 2
    print(json.dumps({"facts": sampler.facts}, default=str), flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    sampler.stop()
    print(json.dumps({"rows": [list(r) for r in sampler._rows], "errors": sampler.errors}), flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through ProcessNvmlSampler
    sys.exit(_helper_main(sys.argv[1:]))
