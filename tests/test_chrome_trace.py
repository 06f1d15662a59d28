"""Chrome Trace Event / Perfetto JSON export: what every viewer needs, and facts from the raw artifacts.

The validator below is written from the format's rules (reference §8), independently of the exporter:
required fields per ``ph``, per-track time order, and slices on one track that nest or are disjoint — in
exact nanoseconds (what Perfetto computes) and in floating point (what catapult and speedscope compute).
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import trtscope
from tests.conftest import OWN_FIXTURES, shared_fixture
from trtscope.analysis.session import analyze
from trtscope.cli.main import main
from trtscope.errors import TrtscopeError
from trtscope.exporters.chrome_trace import (
    SYNTHETIC_TRACK,
    chrome_trace,
    disjoint_lanes,
    nested_lanes,
    write_chrome_trace,
)
from trtscope.model.tables import KERNEL_COLUMNS, NVML_SAMPLE_COLUMNS, NVTX_RANGE_COLUMNS, ensure_columns

TREX = ("trex", "a100-resnet18-fp16")
MNIST_LAYERS = ("trt10-h100-mnist", "mnist.exportLayerInfo.json")
H100_CAPTURE = OWN_FIXTURES / "h100-torch-capture.trtscope"
META_ENTRY = re.compile(r"\[ONNX Layer: (.*?)\]")


# --- an independent validator -------------------------------------------------------------------------------
def _crossings(spans: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Pairs that overlap without nesting (stack walk over spans sorted by start, longer first)."""
    bad = []
    stack: list[tuple[Any, Any]] = []
    for s, e in sorted(spans, key=lambda x: (x[0], -x[1])):
        while stack and stack[-1][1] <= s:
            stack.pop()
        if stack and e > stack[-1][1]:
            bad.append((stack[-1], (s, e)))
        stack.append((s, e))
    return bad


def validate(doc: Any) -> dict[tuple[int, int], str]:
    """Assert the trace is one every viewer can draw; returns (pid, tid) -> thread name."""
    doc = json.loads(json.dumps(doc, allow_nan=False))  # plain, finite JSON
    events = doc["traceEvents"]
    assert isinstance(events, list) and events
    names: dict[tuple[int, int], str] = {}
    processes: set[int] = set()
    timed: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        for f in ("name", "ph", "ts", "pid", "tid"):
            assert f in e, (f, e)
        assert isinstance(e["name"], str) and isinstance(e["pid"], int) and isinstance(e["tid"], int), e
        assert isinstance(e["ts"], (int, float)) and not isinstance(e["ts"], bool), e
        ph = e["ph"]
        if ph == "X":
            assert isinstance(e["dur"], (int, float)) and e["dur"] >= 0, e
            timed[(e["pid"], e["tid"])].append(e)
        elif ph == "i":
            assert e.get("s") == "t", e
            timed[(e["pid"], e["tid"])].append(e)
        elif ph == "C":
            assert e["args"] and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                     for v in e["args"].values()), e
        elif ph == "M":
            if e["name"] in ("process_name", "thread_name"):
                assert isinstance(e["args"]["name"], str) and e["args"]["name"], e
                if e["name"] == "process_name":
                    processes.add(e["pid"])
                else:
                    names[(e["pid"], e["tid"])] = e["args"]["name"]
            else:
                assert e["name"] in ("process_sort_index", "thread_sort_index"), e
                assert isinstance(e["args"]["sort_index"], int), e
        else:
            raise AssertionError(f"unexpected phase {ph!r}")
    for track, evs in timed.items():
        assert track in names and track[0] in processes, track
        ts = [e["ts"] for e in evs]
        assert ts == sorted(ts), f"timestamps out of order on {names[track]}"
        exact = [(round(e["ts"] * 1000), round(e["ts"] * 1000) + round(e.get("dur", 0) * 1000)) for e in evs]
        assert not _crossings(exact), f"crossing slices (ns) on {names[track]}: {_crossings(exact)[:2]}"
        floats = [(e["ts"], e["ts"] + e.get("dur", 0)) for e in evs]
        assert not _crossings(floats), f"crossing slices (float) on {names[track]}: {_crossings(floats)[:2]}"
    return names


def track_events(doc: dict[str, Any], thread: str) -> list[dict[str, Any]]:
    names = {k: v for k, v in validate(doc).items()}
    tracks = [k for k, v in names.items() if v == thread]
    assert len(tracks) == 1, (thread, sorted(names.values()))
    return [e for e in doc["traceEvents"] if e["ph"] in "Xi" and (e["pid"], e["tid"]) == tracks[0]]


def ns(e: dict[str, Any]) -> tuple[int, int]:
    start = round(e["ts"] * 1000)
    return start, start + round(e.get("dur", 0) * 1000)


# --- synthetic timeline from the trex profile -----------------------------------------------------------------
def test_synthetic_timeline_is_the_raw_profile_laid_end_to_end() -> None:
    d = shared_fixture(*TREX)
    profile = [e for e in json.loads((d / "resnet.onnx.engine.profile.json").read_text()) if "name" in e]
    doc = chrome_trace(trtscope.load(d))
    assert doc["otherData"]["timeline"] == "profile_means"
    ev = track_events(doc, SYNTHETIC_TRACK)
    assert [e["name"] for e in ev] == [p["name"] for p in profile]
    t = 0
    total = sum(p["averageMs"] for p in profile)
    for e, p in zip(ev, profile, strict=True):
        start, end = ns(e)
        assert start == t  # one after the other, no gap, no overlap
        assert end - start == round(p["averageMs"] * 1e6)
        assert e["ph"] == "X" and (e["dur"] == 0) == (p["averageMs"] == 0)
        t = end
        args = e["args"]
        assert args["layer"] == p["name"]
        assert args["mean_ms"] == p["averageMs"] and args["median_ms"] == p["medianMs"]
        assert args["share"] == pytest.approx(p["averageMs"] / total)
        assert "synthetic" in args["timeline"]
        pieces = p["name"].split(" + ")
        if p["name"].startswith("Reformatting CopyNode"):
            assert args["onnx_nodes"] == [] and args["kind"] == "reformat"
        elif all(re.fullmatch(r"[A-Za-z]+_\d+", x) for x in pieces):
            assert args["onnx_nodes"] == pieces
            assert args["kind"] == ("fused" if len(pieces) > 1 else "single")
    procs = [e["args"]["name"] for e in doc["traceEvents"] if e["name"] == "process_name"]
    assert procs == ["TensorRT engine: per-layer profile (synthetic timeline)"]


def test_touching_slices_stay_touching_in_floating_point(tmp_path: Path) -> None:
    """ts + dur must land exactly on the next slice's ts, or float-adding viewers stack the slices."""
    rng = np.random.default_rng(7)
    means = [round(float(x), 6) for x in rng.uniform(0.001, 3.0, 600)]
    names = [f"Conv_{i}" for i in range(len(means))]
    (tmp_path / "e.layers.json").write_text(json.dumps({"Layers": [{"Name": n} for n in names], "Bindings": []}))
    prof = [{"count": 1}] + [{"name": n, "timeMs": m, "averageMs": m, "medianMs": m, "percentage": 0}
                             for n, m in zip(names, means, strict=True)]
    (tmp_path / "e.profile.json").write_text(json.dumps(prof))
    doc = chrome_trace(trtscope.load(layers=tmp_path / "e.layers.json", profile=tmp_path / "e.profile.json"))
    ev = track_events(doc, SYNTHETIC_TRACK)  # validate() checks the float ends too
    assert len(ev) == len(means)
    for a, b in itertools.pairwise(ev):
        assert a["ts"] + a["dur"] == b["ts"]
    assert [ns(e)[1] - ns(e)[0] for e in ev] == [round(m * 1e6) for m in means]


def test_cli_writes_plain_and_gzipped_traces(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fx = str(shared_fixture(*TREX))
    out, gz = tmp_path / "t.json", tmp_path / "t.json.gz"
    assert main(["export", fx, "--format", "chrome-trace", "-o", str(out)]) == 0
    assert "synthetic timeline" in capsys.readouterr().out
    assert main(["export", fx, "--format", "chrome-trace", "-o", str(gz)]) == 0
    plain = json.loads(out.read_bytes())
    validate(plain)
    assert json.loads(gzip.decompress(gz.read_bytes())) == plain
    before = out.read_bytes()
    assert main(["export", fx, "--format", "chrome-trace", "-o", str(out)]) == 2
    assert out.read_bytes() == before
    assert main(["export", fx, "--format", "chrome-trace", "-o", str(out), "--force"]) == 0
    assert main(["export", fx, "--format", "chrome-trace", "-o", str(out), "--force", "--table", "layers"]) == 2


def test_nothing_to_draw_is_a_clear_error(tmp_path: Path) -> None:
    a = trtscope.load(layers=shared_fixture(*MNIST_LAYERS))  # layer information only: no times, no capture
    with pytest.raises(TrtscopeError, match="nothing to put on a timeline"):
        write_chrome_trace(a, tmp_path / "t.json")
    assert not (tmp_path / "t.json").exists()


# --- a capture built here, on the real TensorRT 10 layer information --------------------------------------------
T0 = 5_000_000_000_000  # run clock (ns) at the first NVML sample
PID, TID = 4242, 4243


def capture(layer_names: list[str]) -> dict[str, Any]:
    """Kernels, NVTX ranges and NVML samples of 3 iterations over ``layer_names``, with what each should be."""
    kernels, ranges, truth = [], [], []
    rid = 0

    def rng(name: str, domain: str | None, s: int, e: int | None) -> int:
        nonlocal rid
        rid += 1
        ranges.append({"range_id": rid, "name": name, "domain": domain, "start_ns": s, "end_ns": e,
                       "pid": PID, "tid": TID})
        return rid

    for it in range(3):
        base = T0 + 1_000_000 + it * 2_000_000
        rng(f"iteration {it}", "trtscope", base, base + 1_500_000)
        for j, name in enumerate(layer_names):
            hs = base + 10_000 + j * 100_000
            r = rng(name, None, hs, hs + 60_000)  # TensorRT's layer range around the launch
            g = base + 300_000 + j * 50_000  # GPU time, later than the launch
            stream = 9 if j == 4 else 7  # one layer on an auxiliary stream
            n_k = 2 if j == 0 else 1
            for q in range(n_k):
                ks = g + q * 20_000
                kernels.append({"start_ns": ks, "end_ns": ks + 15_000, "name": f"kernel_{j}_{q}", "device_id": 0,
                                "stream_id": stream, "correlation_id": len(kernels) + 1, "grid_x": 8, "grid_y": 1,
                                "grid_z": 1, "block_x": 128, "block_y": 1, "block_z": 1, "graph_node_id": 0,
                                "pid": PID, "tid": TID, "api_start_ns": hs + 1000, "api_end_ns": hs + 2000,
                                "nvtx_range_id": r, "nvtx_range": name, "layer_name": name})
                truth.append(name)
    # a kernel overlapping its predecessor on stream 7 (programmatic dependent launch)
    prev = kernels[-1] if kernels[-1]["stream_id"] == 7 else kernels[-2]
    kernels.append({**prev, "start_ns": prev["start_ns"] + 5_000, "end_ns": prev["end_ns"] + 20_000,
                    "name": "pdl_kernel", "correlation_id": 999})
    truth.append(prev["layer_name"])
    # start/end ranges of trtscope's own that cross (not nest), and one never closed
    crossing = rng("profile", "trtscope", T0 + 1_000_000 + 2 * 2_000_000 + 700_000, T0 + 9_000_000)
    unclosed = rng("left open", "trtscope", T0 + 8_000_000, None)
    samples = [T0 + i * 2_500_000 for i in range(5)]
    nvml = pd.DataFrame({"timestamp_ns": samples, "gpu_index": 0, "gpu_util_pct": [0, 40, 97, 100, 3],
                         "mem_util_pct": 10, "sm_clock_mhz": 1980, "mem_clock_mhz": 2619,
                         "power_w": [70.5, np.nan, 310.25, 305.0, 80.0], "temperature_c": 41,
                         "memory_used_mib": 1322.8125, "throttle_reasons": 0})
    k = ensure_columns(pd.DataFrame(kernels), KERNEL_COLUMNS)
    r = ensure_columns(pd.DataFrame(ranges), NVTX_RANGE_COLUMNS)
    r["end_ns"] = pd.array(r["end_ns"].to_numpy(dtype=object), dtype="Int64")
    stamps = [*k["start_ns"], *k["end_ns"], *r["start_ns"], *r["end_ns"].dropna(), *samples]
    return {"kernels": k, "ranges": r, "nvml": ensure_columns(nvml, NVML_SAMPLE_COLUMNS), "truth": truth,
            "origin": min(int(x) for x in stamps), "end": max(int(x) for x in stamps),
            "crossing": crossing, "unclosed": unclosed, "samples": samples}


@pytest.fixture(scope="module")
def mnist_capture() -> tuple[dict[str, Any], dict[str, Any], dict[str, list[str]]]:
    raw = json.loads(shared_fixture(*MNIST_LAYERS).read_text())["Layers"]
    # ONNX nodes from the raw Metadata (0x1E / 0x1F separate the "[ONNX Layer: ...]" entries)
    nodes = {layer["Name"]: META_ENTRY.findall(layer["Metadata"]) for layer in raw if layer.get("Metadata")}
    art = trtscope.load(layers=shared_fixture(*MNIST_LAYERS)).artifacts
    cap = capture([layer["Name"] for layer in raw])
    art.kernels, art.nvtx_ranges, art.nvml = cap["kernels"], cap["ranges"], cap["nvml"]
    doc = chrome_trace(analyze(art))
    return doc, cap, nodes


def test_kernels_carry_their_layer_and_its_onnx_nodes(mnist_capture: Any) -> None:
    doc, cap, nodes = mnist_capture
    names = validate(doc)
    assert doc["otherData"]["timeline"] == "kernels"
    assert doc["otherData"]["time_origin_ns"] == cap["origin"]
    kev = [e for e in doc["traceEvents"] if e.get("cat") == "kernel"]
    assert len(kev) == len(cap["kernels"])
    by_corr = {e["args"]["correlation_id"]: e for e in kev}
    for row, layer in zip(cap["kernels"].itertuples(), cap["truth"], strict=True):
        e = by_corr[row.correlation_id]
        assert e["name"] == row.name
        assert ns(e) == (row.start_ns - cap["origin"], row.end_ns - cap["origin"])
        assert e["args"]["layer"] == layer
        if layer in nodes:
            assert e["args"]["onnx_nodes"] == nodes[layer]
        assert e["args"]["grid"] == "8x1x1" and e["args"]["block"] == "128x1x1"
        assert names[(e["pid"], e["tid"])].startswith(f"stream {row.stream_id} · kernels")
    # streams on their own tracks, the overlapping kernel on an extra one
    tracks = {names[(e["pid"], e["tid"])] for e in kev}
    assert tracks == {"stream 7 · kernels", "stream 7 · kernels (overlap 1)", "stream 9 · kernels"}
    assert names[(by_corr[999]["pid"], by_corr[999]["tid"])] == "stream 7 · kernels (overlap 1)"


def test_layer_slices_span_their_kernels(mnist_capture: Any) -> None:
    doc, cap, nodes = mnist_capture
    first_layer = cap["truth"][0]
    slices = [e for e in track_events(doc, "stream 7 · layers (from kernels)") if e["args"]["layer"] == first_layer]
    k = cap["kernels"]
    ks = k[(k["layer_name"] == first_layer) & (k["name"] != "pdl_kernel")].sort_values("start_ns")
    assert len(slices) == 3  # one per iteration
    for i, e in enumerate(slices):
        pair = ks.iloc[2 * i : 2 * i + 2]
        assert ns(e) == (pair["start_ns"].min() - cap["origin"], pair["end_ns"].max() - cap["origin"])
        assert e["args"]["kernels"] == 2 and e["args"]["onnx_nodes"] == nodes[first_layer]
        assert {"kind", "fusion", "layer_index"} <= set(e["args"])


def test_nvml_samples_are_counters_on_the_run_clock(mnist_capture: Any) -> None:
    doc, cap, _ = mnist_capture
    counters = defaultdict(list)
    for e in doc["traceEvents"]:
        if e["ph"] == "C":
            counters[e["name"]].append(e)
    nv = cap["nvml"]
    expect = {"GPU utilization": "gpu_util_pct", "SM clock": "sm_clock_mhz", "power": "power_w",
              "memory used": "memory_used_mib"}
    for name, col in expect.items():
        ev = counters[name]
        values = nv[col].dropna()
        assert len(ev) == len(values), name
        assert [round(e["ts"] * 1000) for e in ev] == [cap["samples"][i] - cap["origin"] for i in values.index]
        assert [next(iter(e["args"].values())) for e in ev] == values.tolist()
    assert len(counters["power"]) == 4  # the NaN sample is left out, not drawn as 0


def test_nvtx_ranges_on_host_thread_tracks(mnist_capture: Any) -> None:
    doc, cap, nodes = mnist_capture
    trt = track_events(doc, f"thread {TID} · TensorRT layer ranges (NVTX, host enqueue)")
    r = cap["ranges"]
    layer_ranges = r[r["domain"].isna()]
    assert [e["name"] for e in trt] == layer_ranges.sort_values("start_ns")["name"].tolist()
    for e in trt:
        assert e["args"]["layer"] == e["name"]
        if e["name"] in nodes:
            assert e["args"]["onnx_nodes"] == nodes[e["name"]]
    own = track_events(doc, f"thread {TID} · trtscope ranges")
    lane = track_events(doc, f"thread {TID} · trtscope ranges (overlap 1)")
    assert {e["args"]["range_id"] for e in own + lane} == set(r.loc[r["domain"] == "trtscope", "range_id"])
    assert cap["crossing"] in {e["args"]["range_id"] for e in lane}  # it crosses "iteration 2"
    left_open = next(e for e in own + lane if e["args"]["range_id"] == cap["unclosed"])
    assert left_open["args"]["unclosed"] is True
    assert ns(left_open)[1] == cap["end"] - cap["origin"]
    host = [e["args"]["name"] for e in doc["traceEvents"] if e["name"] == "process_name"]
    assert f"host process {PID}" in host


# --- lanes ------------------------------------------------------------------------------------------------------
def _depth(spans: list[tuple[int, int]]) -> int:
    """Most spans open at once (touching ends do not overlap)."""
    points = sorted([(s, 1) for s, e in spans if e > s] + [(e, -1) for s, e in spans if e > s])
    depth = best = 0
    for _, d in points:
        depth += d
        best = max(best, depth)
    return max(best, 1 if spans else 0)


@pytest.mark.parametrize("seed", range(5))
def test_lanes_separate_overlaps_and_nothing_else(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    group = rng.integers(0, 4, n)
    start = rng.integers(0, 10_000, n).astype(np.int64)
    end = start + rng.integers(0, 600, n)
    lanes = disjoint_lanes(group, start, end)
    for g in range(4):
        sel = group == g
        for lane in np.unique(lanes[sel]):
            m = sel & (lanes == lane)
            spans = sorted(zip(start[m].tolist(), end[m].tolist(), strict=True))
            assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), (g, lane)
        # first-fit over starts is optimal on intervals: as many lanes as the deepest overlap
        assert lanes[sel].max() + 1 == _depth(list(zip(start[sel].tolist(), end[sel].tolist(), strict=True)))
    nested = nested_lanes(group, start, end)
    for g in range(4):
        for lane in np.unique(nested[group == g]):
            m = (group == g) & (nested == lane)
            assert not _crossings(zip(start[m].tolist(), end[m].tolist(), strict=True))
    flat = np.arange(0, 1000, 10, dtype=np.int64)
    assert not disjoint_lanes(np.zeros(100, np.int64), flat, flat + 10).any()
    outer = np.array([0, 0, 10, 20], np.int64), np.array([100, 50, 20, 30], np.int64)
    assert not nested_lanes(np.zeros(4, np.int64), *outer).any()  # nested ranges stay on one track


# --- the real capture made on an H100 ---------------------------------------------------------------------------
def test_h100_capture_bundle_exports_a_valid_trace(tmp_path: Path) -> None:
    if not (H100_CAPTURE / "manifest.json").exists():
        pytest.skip(f"{H100_CAPTURE} is not in this checkout")
    tables = {t: pd.read_parquet(H100_CAPTURE / "tables" / f"{t}.parquet") for t in ("kernels", "nvtx_ranges", "nvml")}
    out = tmp_path / "h100.json"
    assert main(["export", str(H100_CAPTURE), "--format", "chrome-trace", "-o", str(out)]) == 0
    doc = json.loads(out.read_bytes())
    names = validate(doc)
    k = tables["kernels"]
    kev = [e for e in doc["traceEvents"] if e.get("cat") == "kernel"]
    assert len(kev) == int(k["start_ns"].notna().sum())
    layer_of = dict(zip(k["correlation_id"], k["layer_name"], strict=True))
    for e in kev:
        want = layer_of[e["args"]["correlation_id"]]
        assert e["args"].get("layer") == (want if isinstance(want, str) else None)
        assert names[(e["pid"], e["tid"])].startswith(f"stream {e['args']['stream']} · kernels")
    origin = min(int(k["start_ns"].min()), int(tables["nvtx_ranges"]["start_ns"].min()),
                 int(tables["nvml"]["timestamp_ns"].min()))
    assert doc["otherData"]["time_origin_ns"] == origin
    util = [e for e in doc["traceEvents"] if e["ph"] == "C" and e["name"] == "GPU utilization"]
    assert len(util) == int(tables["nvml"]["gpu_util_pct"].notna().sum())
    nvtx = [e for e in doc["traceEvents"] if e.get("cat") in ("trtscope", "tensorrt_layer", "nvtx")]
    assert len(nvtx) == len(tables["nvtx_ranges"])


# --- scale ------------------------------------------------------------------------------------------------------
def test_large_capture_renders_in_seconds() -> None:
    """20,000 layers, 100,000 kernels and 100,000 layer ranges (an early version took minutes at 20,000)."""
    n_layers, n = 20_000, 100_000
    names = [f"Conv_{2 * i} + Relu_{2 * i + 1}" for i in range(n_layers)]
    layer_json = {"Layers": [{"Name": x, "LayerType": "CaskConvolution"} for x in names], "Bindings": []}
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "big.layers.json"
        p.write_text(json.dumps(layer_json))
        art = trtscope.load(layers=p).artifacts
    start = T0 + np.arange(n, dtype=np.int64) * 2000
    lay = [names[i % n_layers] for i in range(n)]
    art.kernels = ensure_columns(pd.DataFrame({
        "start_ns": start, "end_ns": start + 1500, "name": "sm90_xmma_gemm", "device_id": 0,
        "stream_id": 7 + np.arange(n) % 2, "correlation_id": np.arange(n), "pid": PID, "tid": TID,
        "nvtx_range_id": np.arange(n), "nvtx_range": lay, "layer_name": lay}), KERNEL_COLUMNS)
    art.nvtx_ranges = ensure_columns(pd.DataFrame({
        "range_id": np.arange(n), "name": lay, "domain": None, "start_ns": start - 10_500,
        "end_ns": start - 9_000, "pid": PID, "tid": TID}), NVTX_RANGE_COLUMNS)
    a = analyze(art)
    t = time.perf_counter()
    doc = chrome_trace(a)
    assert time.perf_counter() - t < 60
    c = doc["otherData"]
    assert (c["kernels_count"], c["nvtx_ranges_count"], c["layer_slices_count"]) == (n, n, n)


def test_nvml_sample_count_is_the_same_figure_as_the_nvtxt_export(tmp_path: Path) -> None:
    """Both exports count NVML *samples* (rows with a time), not counter points: the H100 capture's NVML table
    has that many rows with a timestamp (read from its Parquet file), whatever number of fields each holds."""
    from tests.conftest import own_fixture
    from trtscope.exporters.chrome_trace import render_trace
    from trtscope.exporters.nvtxt import render_nvtxt

    b = own_fixture("h100-torch-capture.trtscope")
    rows = int(pd.read_parquet(b / "tables" / "nvml.parquet")["timestamp_ns"].notna().sum())
    a = trtscope.load(b)
    assert render_trace(a).counts["nvml_samples"] == rows == render_nvtxt(a).counts["nvml_samples"]
