"""Build Nsight Systems SQLite exports to the documented schema, with a known kernel -> range -> layer truth.

The run looks like TensorRT under trtscope: per-iteration ranges in the ``trtscope`` domain (start/end) hold
one push/pop range per engine layer (domain ``TensorRT``, registered strings via ``textId``), kernels are
launched inside them and run on the GPU later; a cuBLAS range nests inside one layer; a second host thread
has its own long range that overlaps everything in time (and must never be chosen for the main thread's
launches); a few launches fall between layers or before any range. Then a CUDA graph is captured node by node
inside the layer ranges, instantiated (nodes cloned, ``originalGraphNodeId``) and replayed with
``cudaGraphLaunch`` outside any layer range. Every kernel's expected innermost range text, layer and basis is
recorded while building, so tests compare against the construction, not against the importer.

Schema variants: ``"2024"`` (META_DATA_EXPORT, ENUM tables, CUDA_GRAPH_NODE_EVENTS, greenContextId) and
``"2022"`` (EXPORT_META_DATA, no ENUM tables, runtime ``name`` column, provenance in CUDA_GRAPH_EVENTS).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

PID = 4321
MAIN_TID = 4321
OTHER_TID = 4400
OTHER_PID = 5000  # a second process (MPI rank) whose correlation ids collide with the first one's
VM = 1 << 48  # nsys sets bits above pid/tid in globalTid; readers must mask them off
GPU_NAME = "NVIDIA H100 80GB HBM3"
COMMAND = ["trtexec", "--onnx=model.onnx", "--fp16"]
SECRET_ENV = "API_TOKEN=do-not-copy-me"

#: Engine layer names with the traps of real engines: " + " fusions, a Reformat named after its consumer
#: (it contains that consumer's name), a name that is a prefix of another, a bare number, a control byte.
LAYERS = [
    "Reformatting CopyNode for Input Tensor 0 to conv1 + relu1",
    "conv1 + relu1",
    "conv2",
    "conv2_bn",
    "PWN(PWN(relu_1), add_1)",
    "{ForeignNode[/fc/MatMul.../fc/Add]}",
    "3",
    "layer\x1ewith control byte",
]
CUBLAS_LAYER = "{ForeignNode[/fc/MatMul.../fc/Add]}"  # gets a nested cuBLAS range around its launch


def gtid(tid: int, pid: int = PID) -> int:
    return VM | (pid << 24) | tid


@dataclass
class Expected:
    """What the importer must find for one kernel (identified by its unique GPU start time)."""

    start_ns: int
    range_text: str | None
    layer: str | None
    basis: str  # launch | graph_capture | graph_unresolved
    tid: int | None


@dataclass
class SynthRun:
    path: Path
    layers: list[str]
    kernels: list[Expected] = field(default_factory=list)
    graph_launches: list[tuple[int, int, str]] = field(default_factory=list)  # graph-level rows: start, end, range
    n_ranges: int = 0  # push/pop + start/end ranges written
    n_runtime_rows: int = 0
    graph_replays: int = 0
    command: str = ""

    def by_start(self) -> dict[int, Expected]:
        return {k.start_ns: k for k in self.kernels}


class _Recorder:
    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.strings: dict[str, int] = {}
        self.kernels: list[tuple[object, ...]] = []
        self.runtime: list[tuple[object, ...]] = []
        self.nvtx: list[tuple[object, ...]] = []
        self.nodes: list[tuple[object, ...]] = []
        self.graph_trace: list[tuple[int, int, int]] = []
        self.corr = 1000
        self.gpu_t = 0

    def sid(self, value: str) -> int:
        return self.strings.setdefault(value, len(self.strings) + 1)

    def t(self, x: int) -> int:
        return x + self.offset


def build(
    path: str | Path,
    *,
    schema: str = "2024",
    iterations: int = 4,
    graph_replays: int = 2,
    detailed: bool = False,
    offset_ns: int = 1_000_000_000,
    duplicate_launch_rows: bool = False,
    graph_trace: str = "node",
    omit: tuple[str, ...] = (),
) -> SynthRun:
    """Write the export to ``path`` and return what every kernel must map to.

    ``detailed`` writes DETAILED-style range text (a JSON object, "name + details", or "... name ...") instead
    of bare layer names; ``offset_ns`` shifts every timestamp (negative: a capture started late);
    ``duplicate_launch_rows`` lists every launch twice under one correlation id (nsys 2022.2);
    ``graph_trace``: ``"node"`` (replayed kernels carry node ids), ``"graph"`` (replays exist only as
    CUPTI_ACTIVITY_KIND_GRAPH_TRACE rows, as with --cuda-graph-trace=graph) or ``"both"`` (both recorded for
    the same launches: must not be counted twice);
    ``omit`` leaves tables out (e.g. ``("NVTX_EVENTS",)``).
    """
    path = Path(path)
    rec = _Recorder(offset_ns)
    run = SynthRun(path=path, layers=list(LAYERS), graph_replays=graph_replays)
    domains = {"TensorRT": 1, "trtscope": 2, "cuBLAS": 3}
    for name, did in domains.items():
        rec.nvtx.append((rec.t(10 + did), None, 75, None, name, gtid(MAIN_TID), None, did))
    rec.nvtx.append((rec.t(5), None, 39, None, "main thread", gtid(MAIN_TID), None, 0))  # NvtxThread: not a range
    rec.nvtx.append((rec.t(6), None, 34, None, "a mark", gtid(MAIN_TID), None, 0))  # NvtxMark: not a range

    def range_text(i: int) -> str:
        layer = LAYERS[i]
        if not detailed:
            return layer
        fmt = i % 3
        if fmt == 0:
            return json.dumps({"Name": layer, "LayerType": "CaskConvolution", "TacticValue": "0x1c"})
        if fmt == 1:
            return f"{layer} [tactic: sm80_xmma_fprop, format: Half(Chw16)]"
        return f"layer={layer}; type=PointWise; inputs=2"

    def launch(
        t0: int, tid: int, kernel_name: str, *, driver: bool = False, pid: int = PID, corr: int | None = None
    ) -> tuple[int, int, int]:
        """A launch API call at host time t0 (..t0+40) and its kernel on the GPU; returns (corr, start, end)."""
        if corr is None:
            rec.corr += 1
            corr = rec.corr
        api = "cuLaunchKernel" if driver else "cudaLaunchKernel_v7000"
        rec.runtime.append((rec.t(t0), rec.t(t0 + 40), 1 if driver else 0, gtid(tid, pid), corr, rec.sid(api)))
        if duplicate_launch_rows:
            rec.runtime.append(
                (rec.t(t0 - 3), rec.t(t0 + 44), 67, gtid(tid, pid), corr, rec.sid("cudaLaunchKernel"))
            )
        rec.gpu_t = max(rec.gpu_t, t0 + 500) + 10
        start, end = rec.gpu_t, rec.gpu_t + 300
        rec.gpu_t = end
        rec.kernels.append((rec.t(start), rec.t(end), corr, rec.sid(kernel_name), None, pid))
        return corr, start, end

    def expect(start: int, text: str | None, layer: str | None, basis: str = "launch", tid: int = MAIN_TID) -> None:
        run.kernels.append(Expected(rec.t(start), text, layer, basis, tid))

    def push(
        start: int, end: int, text: str, domain: str | None, tid: int = MAIN_TID, *, start_end: bool = False,
        pid: int = PID,
    ) -> None:
        did = domains[domain] if domain else 0
        etype = 60 if start_end else 59
        rec.nvtx.append((rec.t(start), rec.t(end), etype, None, text, gtid(tid, pid), gtid(tid, pid), did))
        run.n_ranges += 1

    t = 100_000
    # the other thread: one range over the whole run, with one launch of its own
    push(0, 10**9, "background worker", None, tid=OTHER_TID)
    _, s, _ = launch(50_000, OTHER_TID, "other_thread_kernel")
    expect(s, "background worker", None, tid=OTHER_TID)
    # before any range on the main thread
    _, s, _ = launch(60_000, MAIN_TID, "warmup_kernel")
    expect(s, None, None)

    def enqueue(t: int, it_label: str, capture: list[tuple[int, int, int]] | None) -> int:
        """One inference: a trtscope iteration range with one TensorRT range per layer. Returns the end."""
        it_start = t
        t += 1_000
        for i, layer in enumerate(LAYERS):
            ls = t
            t += 200
            text = range_text(i)
            kernels_here = 2 if i % 2 == 0 else 1
            for j in range(kernels_here):
                if layer == CUBLAS_LAYER and j == 0:
                    push(t, t + 150, "cublasLtMatmul", "cuBLAS")
                    inner, tt = "cublasLtMatmul", t + 50
                    t += 150
                else:
                    inner, tt = text, t
                    t += 100
                if capture is None:
                    _, s, _ = launch(tt, MAIN_TID, f"sm80_kernel_{i}_{j}", driver=(i == 2 and j == 0))
                    expect(s, inner, layer)
                else:  # stream capture: the launch call records a graph node instead of running a kernel
                    rec.corr += 1
                    api = rec.sid("cudaLaunchKernel_v7000")
                    rec.runtime.append((rec.t(tt), rec.t(tt + 40), 0, gtid(MAIN_TID), rec.corr, api))
                    node = 100 + len(capture)
                    rec.nodes.append((rec.t(tt + 10), rec.t(tt + 30), gtid(MAIN_TID), node, None, api))
                    capture.append((node, i, 1 if inner == "cublasLtMatmul" else 0))
            t += 100
            push(ls, t, text, "TensorRT")
            t += 50
            if i == 3 and capture is None:  # between two layers, still inside the iteration
                _, s, _ = launch(t, MAIN_TID, "trtscope_flush_kernel")
                expect(s, it_label, None)
                t += 100
        t += 1_000
        push(it_start, t, it_label, "trtscope", start_end=True)
        return t + 5_000

    for k in range(iterations):
        t = enqueue(t, f"iteration {k}", None)

    # a second process reusing correlation ids of the first: ids are per process, so joins need the pid
    push(t, t + 2_000, "rank 1 step", None, tid=OTHER_PID, pid=OTHER_PID)
    for j, corr in enumerate((1002, 1003, 1004)):
        _, s, _ = launch(t + 100 + 300 * j, OTHER_PID, f"rank1_kernel_{j}", pid=OTHER_PID, corr=corr)
        run.kernels.append(Expected(rec.t(s), "rank 1 step", None, "launch", OTHER_PID))
    t += 10_000

    nodes: list[tuple[int, int, int]] = []
    if graph_replays:
        t = enqueue(t, "capture", nodes)
        # instantiation clones every node; the clone's creation is outside any layer range
        inst = rec.sid("cudaGraphInstantiate")
        for node, _, _ in nodes:
            rec.nodes.append((rec.t(t), rec.t(t + 5), gtid(MAIN_TID), node + 100, node, inst))
        t += 10_000
        for r in range(graph_replays):
            label = f"iteration graph {r}"
            rs = t
            t += 500
            rec.corr += 1
            glaunch = rec.sid("cudaGraphLaunch_v10000")
            rec.runtime.append((rec.t(t), rec.t(t + 60), 0, gtid(MAIN_TID), rec.corr, glaunch))
            rec.gpu_t = max(rec.gpu_t, t + 500)
            g0 = rec.gpu_t
            if graph_trace in ("node", "both"):
                for node, i, inner_cublas in nodes:
                    rec.gpu_t += 10
                    rec.kernels.append((rec.t(rec.gpu_t), rec.t(rec.gpu_t + 200), rec.corr,
                                        rec.sid(f"sm80_graph_kernel_{i}"), node + 100, PID))
                    text = "cublasLtMatmul" if inner_cublas else range_text(i)
                    expect(rec.gpu_t, text, LAYERS[i], basis="graph_capture")
                    rec.gpu_t += 200
                # one graph kernel whose node left no creation event: unattributed, never guessed
                rec.gpu_t += 10
                rec.kernels.append((rec.t(rec.gpu_t), rec.t(rec.gpu_t + 100), rec.corr,
                                    rec.sid("orphan_graph_kernel"), 999_999, PID))
                expect(rec.gpu_t, None, None, basis="graph_unresolved")
                rec.gpu_t += 100
            else:
                rec.gpu_t += 210 * len(nodes) + 110
            if graph_trace in ("graph", "both"):
                rec.graph_trace.append((rec.t(g0), rec.t(rec.gpu_t), rec.corr))
                if graph_trace == "graph":
                    run.graph_launches.append((rec.t(g0), rec.t(rec.gpu_t), label))
            t += 1_000
            push(rs, t, label, "trtscope", start_end=True)
            t += 5_000
    run.n_runtime_rows = len(rec.runtime)
    run.command = " ".join(COMMAND)
    _write(path, rec, schema=schema, omit=omit)
    return run


# --- writing -----------------------------------------------------------------------------------------------
_KERNEL_COLS_2024 = (
    "start INTEGER NOT NULL, end INTEGER NOT NULL, deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, "
    "greenContextId INTEGER, streamId INTEGER NOT NULL, correlationId INTEGER, globalPid INTEGER, "
    "demangledName INTEGER NOT NULL, shortName INTEGER NOT NULL, mangledName INTEGER, launchType INTEGER, "
    "cacheConfig INTEGER, registersPerThread INTEGER NOT NULL, gridX INTEGER NOT NULL, gridY INTEGER NOT NULL, "
    "gridZ INTEGER NOT NULL, blockX INTEGER NOT NULL, blockY INTEGER NOT NULL, blockZ INTEGER NOT NULL, "
    "staticSharedMemory INTEGER NOT NULL, dynamicSharedMemory INTEGER NOT NULL, localMemoryPerThread INTEGER "
    "NOT NULL, localMemoryTotal INTEGER NOT NULL, gridId INTEGER NOT NULL, sharedMemoryExecuted INTEGER, "
    "graphNodeId INTEGER, sharedMemoryLimitConfig INTEGER"
)
_NVTX_COLS = (
    "start INTEGER NOT NULL, end INTEGER, eventType INTEGER NOT NULL, rangeId INTEGER, category INTEGER, "
    "color INTEGER, text TEXT, globalTid INTEGER, endGlobalTid INTEGER, textId INTEGER, domainId INTEGER, "
    "uint64Value INTEGER, int64Value INTEGER, doubleValue REAL, uint32Value INTEGER, int32Value INTEGER, "
    "floatValue REAL, jsonTextId INTEGER, jsonText TEXT"
)


def _write(path: Path, rec: _Recorder, *, schema: str, omit: tuple[str, ...]) -> None:
    if path.exists():
        path.unlink()
    new = schema == "2024"
    conn = sqlite3.connect(path)
    try:
        c = conn.cursor()

        def table(name: str, cols: str) -> bool:
            if name in omit:
                return False
            c.execute(f"CREATE TABLE {name} ({cols})")
            return True

        meta = "META_DATA_EXPORT" if new else "EXPORT_META_DATA"
        if table(meta, "name TEXT NOT NULL, value TEXT"):
            version, sv = ("2024.6.2.225", "3.16.1") if new else ("2022.2.1.31", "2.9.1")
            c.executemany(
                f"INSERT INTO {meta} VALUES (?, ?)",
                [("EXPORT_PRODUCT_NAME", "NVIDIA Nsight Systems"), ("EXPORT_PRODUCT_VERSION", version),
                 ("EXPORT_SCHEMA_VERSION", sv), ("EXPORT_TIME_UTC", "2026-01-01T00:00:00")],
            )
        if table("META_DATA_CAPTURE", "name TEXT NOT NULL, value TEXT"):
            rows = [("PROCESS_0:COMMAND", COMMAND[0])]
            rows += [(f"PROCESS_0:ARGUMENT_{i}", a) for i, a in enumerate(COMMAND[1:])]
            rows += [("PROCESS_0:ENVIRONMENT_VARIABLE", SECRET_ENV)]
            rows += [("PROCESS_0:CUDA_GRAPH_TRACE_OPTIONS:MODE", "Node")]
            c.executemany("INSERT INTO META_DATA_CAPTURE VALUES (?, ?)", rows)
        gpu_cols = "vmId INTEGER NOT NULL, id INTEGER NOT NULL, name TEXT, busLocation TEXT, cuDevice INTEGER"
        if table("TARGET_INFO_GPU", gpu_cols):
            c.executemany("INSERT INTO TARGET_INFO_GPU VALUES (?, ?, ?, ?, ?)",
                          [(VM, 1, "NVIDIA A100-SXM4-80GB", "0000:1b:00.0", 1), (VM, 0, GPU_NAME, "0000:43:00.0", 0)])
        if table("TARGET_INFO_SESSION_START_TIME", "utcEpochNs INTEGER, utcTime TEXT, localTime TEXT"):
            c.execute("INSERT INTO TARGET_INFO_SESSION_START_TIME VALUES (?, ?, ?)",
                      (1767225600000000000, "2026-01-01T00:00:00", "2026-01-01T00:00:00"))
        if new and table("ENUM_NSYS_EVENT_TYPE", "id INTEGER NOT NULL PRIMARY KEY, name TEXT, label TEXT"):
            c.executemany("INSERT INTO ENUM_NSYS_EVENT_TYPE VALUES (?, ?, ?)",
                          [(i, n, n) for i, n in ((34, "NvtxMark"), (39, "NvtxThread"), (59, "NvtxPushPopRange"),
                                                   (60, "NvtxStartEndRange"), (75, "NvtxDomainCreate"))])
        if table("SOME_FUTURE_TABLE", "x INTEGER"):  # unknown tables are ignored
            c.execute("INSERT INTO SOME_FUTURE_TABLE VALUES (1)")

        kernel_cols = _KERNEL_COLS_2024 if new else _KERNEL_COLS_2024.replace("greenContextId INTEGER, ", "")
        if table("CUPTI_ACTIVITY_KIND_KERNEL", kernel_cols):
            rows = []
            for i, (s, e, corr, name_id, node, pid) in enumerate(rec.kernels):
                vals = [s, e, 0, 1] + ([0] if new else []) + [7, corr, VM | (pid << 24), name_id, name_id, name_id,
                        1, 0, 32, 128, 2, 1, 256, 1, 1, 0, 1024, 0, 0, i + 1, 0, node, 0]
                rows.append(tuple(vals))
            c.executemany(f"INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES ({', '.join('?' * len(rows[0]))})", rows)

        rt_cols = ("start INTEGER NOT NULL, end INTEGER NOT NULL, eventClass INTEGER NOT NULL, globalTid INTEGER, "
                   "correlationId INTEGER, nameId INTEGER NOT NULL, returnValue INTEGER NOT NULL, callchainId INTEGER")
        if table("CUPTI_ACTIVITY_KIND_RUNTIME", rt_cols + ("" if new else ", name TEXT")):
            extra = () if new else (None,)
            c.executemany(
                f"INSERT INTO CUPTI_ACTIVITY_KIND_RUNTIME VALUES ({', '.join('?' * (8 + len(extra)))})",
                [(*r, 0, None, *extra) for r in rec.runtime],
            )

        if table("NVTX_EVENTS", _NVTX_COLS):
            rows = []
            for s, e, etype, rid, text, g, eg, did in rec.nvtx:
                text_id = None
                if did == 1 and etype != 75:  # TensorRT ranges use registered strings: text only via StringIds
                    text_id, text = rec.sid(text), None
                rows.append((s, e, etype, rid, None, None, text, g, eg, text_id, did) + (None,) * 8)
            c.executemany(f"INSERT INTO NVTX_EVENTS VALUES ({', '.join('?' * 19)})", rows)

        if rec.graph_trace and table(
            "CUPTI_ACTIVITY_KIND_GRAPH_TRACE",
            "start INTEGER NOT NULL, end INTEGER NOT NULL, deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, "
            "greenContextId INTEGER, streamId INTEGER NOT NULL, correlationId INTEGER, globalPid INTEGER, "
            "graphId INTEGER NOT NULL, graphExecId INTEGER NOT NULL",
        ):
            c.executemany("INSERT INTO CUPTI_ACTIVITY_KIND_GRAPH_TRACE VALUES (?, ?, 0, 1, 0, 7, ?, ?, 4, 5)",
                          [(s, e, corr, VM | (PID << 24)) for s, e, corr in rec.graph_trace])

        node_table = "CUDA_GRAPH_NODE_EVENTS" if new else "CUDA_GRAPH_EVENTS"
        node_cols = ("start INTEGER NOT NULL, end INTEGER NOT NULL, eventClass INTEGER NOT NULL, globalTid INTEGER, "
                     "nameId INTEGER NOT NULL, graphNodeId INTEGER NOT NULL, originalGraphNodeId INTEGER")
        if table(node_table, node_cols):
            c.executemany(f"INSERT INTO {node_table} VALUES (?, ?, 77, ?, ?, ?, ?)",
                          [(s, e, g, name, node, orig) for s, e, g, node, orig, name in rec.nodes])

        if table("StringIds", "id INTEGER NOT NULL PRIMARY KEY, value TEXT NOT NULL"):
            c.executemany("INSERT INTO StringIds VALUES (?, ?)", [(i, v) for v, i in rec.strings.items()])
        conn.commit()
    finally:
        conn.close()
