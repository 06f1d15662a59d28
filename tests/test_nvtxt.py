"""NVTXT export: every layer, node and kernel in the file, times from the raw artifacts, time bases, quoting.

The file is read back by this module's own line parser (not trtscope's); expected values come from the raw
artifacts (the profile JSON, the bundle's Parquet tables and manifest, the nsys SQLite) or from how a test
input was built. Runs of the real ImportNvtxt are in test_nvtxt_tool.py.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import trtscope
from tests.conftest import own_fixture, shared_fixture
from trtscope.cli.main import main
from trtscope.errors import TrtscopeError
from trtscope.exporters.nvtxt import MAX_MESSAGE_BYTES, quote, render_nvtxt, write_nvtxt

TORCH = "h100-torch-capture.trtscope"


@dataclass
class Event:
    kind: str  # "range" | "marker"
    start: int
    end: int
    tid: int
    pid: int
    category: int
    color: int
    literal: str  # the message as written, quotes included

    @property
    def text(self) -> str:
        """The message between its delimiters (escapes are left as written)."""
        return self.literal[1:-1]


def parse_events(path: Path) -> tuple[list[str], list[Event]]:
    """(header comment lines, events) of an NVTXT file, with ProcessId assignments applied."""
    header, events, pid = [], [], -1
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            header.append(line)
        elif line.startswith("ProcessId = "):
            pid = int(line.split("=")[1])
        elif line.startswith("RangeStartEnd, "):
            f = line.split(", ", 6)
            events.append(Event("range", int(f[1]), int(f[2]), int(f[3]), pid, int(f[4]), int(f[5], 16), f[6]))
        elif line.startswith("Marker, "):
            f = line.split(", ", 5)
            events.append(Event("marker", int(f[1]), int(f[1]), int(f[2]), pid, int(f[3]), int(f[4], 16), f[5]))
    return header, events


def export(src: Path | str, out: Path, **kw: str) -> tuple[list[str], list[Event]]:
    write_nvtxt(trtscope.load(src), out, force=True, **kw)
    return parse_events(out)


# --- quoting ------------------------------------------------------------------------------------------------
REAL_NAME_CHARS = [
    "conv1 + relu1",
    "{ForeignNode[/model/layer1/Conv.../model/layer1/Relu]}",
    "Reformatting CopyNode for Input Tensor 0 to {ForeignNode[node_conv2d_1...node_relu_1]}",
    "PWN(PWN(/act/Sigmoid), PWN(/act/Mul))",
    'node "quoted", with comma',
    "it's a node",
    "meta[ONNX Layer: /a/Conv]\x1e[ONNX Layer: /a/Relu]\x1f[ONNX Layer: /b]",
    "tab\there, nul\x00byte, é ✓ 😀",
]


@pytest.mark.parametrize("name", REAL_NAME_CHARS)
def test_names_without_both_quote_characters_are_written_exactly(name: str) -> None:
    lit = quote(name)
    assert "\n" not in lit and "\r" not in lit
    assert lit[0] == lit[-1] and lit[0] in "\"'"
    assert lit[1:-1] == name  # no escaping needed: the text between the delimiters is the name, byte for byte
    assert lit[0] not in name


def test_names_with_both_quotes_line_breaks_or_a_trailing_backslash_follow_the_format() -> None:
    assert quote("say \"hi\" it's") == '"say \\"hi\\" it\'s"'  # ImportNvtxt keeps the backslash before "
    assert quote("two\nlines\r\nhere\r") == '"two␤lines␤here␍"'
    assert quote("ends in \\") == '"ends in \\ "'  # a backslash before the closing quote would swallow it
    assert quote("") == '""'


# --- synthetic timelines (profile means) --------------------------------------------------------------------
def test_profile_means_laid_end_to_end_every_layer_in_the_file(tmp_path: Path) -> None:
    src = shared_fixture("trex", "a100-resnet18-fp16")
    raw = json.loads((src / "resnet.onnx.engine.profile.json").read_text())
    rows = [r for r in raw if isinstance(r, dict) and "name" in r]
    header, ev = export(src, tmp_path / "p.nvtxt")
    assert any("Synthetic timeline" in h for h in header) and any("NOT a measured" in h for h in header)
    assert "TimeBase = Manual" in (tmp_path / "p.nvtxt").read_text()
    layers = [e for e in ev if e.category != 13]
    want, t = [], 0
    for r in rows:
        dur = round(r["averageMs"] * 1e6)
        want.append((r["name"], t, t + dur, "marker" if dur == 0 else "range"))  # zero-length ranges: dropped
        t += dur
    assert sorted((e.text.split(" | ")[0], e.start, e.end, e.kind) for e in layers) == sorted(want)
    stated = next(h for h in header if " events)" in h)
    assert f"({len(ev)} events)" in stated


def test_every_onnx_node_of_the_report_is_in_a_message(tmp_path: Path) -> None:
    src = shared_fixture("trt10-h100-mnist", "trtexec-dumpProfile.log")
    a = trtscope.load(profile=src)
    _, ev = export(src, tmp_path / "m.nvtxt")
    text = "\n".join(e.text for e in ev)
    for node in a.onnx_nodes["name"]:
        assert str(node) in text
    assert {e.text.split(" | ")[0] for e in ev} >= set(a.layers["name"])


def test_long_node_lists_continue_in_more_events_and_stay_under_the_limit(tmp_path: Path) -> None:
    a = trtscope.load(shared_fixture("trex", "a100-resnet18-fp16"))
    nodes = [f"/model/block{i}/attention/" + "x" * 80 + f"/MatMul_{i}" for i in range(3000)]
    a.layers.at[1, "onnx_nodes"] = nodes
    write_nvtxt(a, tmp_path / "l.nvtxt")
    _, ev = parse_events(tmp_path / "l.nvtxt")
    assert max(len(e.literal.encode()) for e in ev) <= MAX_MESSAGE_BYTES + 2
    text = "\n".join(e.text for e in ev)
    assert all(n in text for n in nodes)
    cont = [e for e in ev if "ONNX nodes " in e.text and " of 3000: " in e.text]
    assert len(cont) >= 2 and {(e.start, e.end) for e in cont} == {(ev[1].start, ev[1].end)}


def test_no_times_and_no_kernels_is_a_clear_error(tmp_path: Path) -> None:
    a = trtscope.load(shared_fixture("trt10-h100-mnist", "mnist.exportLayerInfo.json"))
    with pytest.raises(TrtscopeError, match="nothing to put on a timeline"):
        render_nvtxt(a)


# --- captures -----------------------------------------------------------------------------------------------
def test_capture_without_clock_pairing_is_manual_from_the_first_event(tmp_path: Path) -> None:
    b = own_fixture(TORCH)
    k = pd.read_parquet(b / "tables" / "kernels.parquet")
    r = pd.read_parquet(b / "tables" / "nvtx_ranges.parquet")
    nvml = pd.read_parquet(b / "tables" / "nvml.parquet")
    header, ev = export(b, tmp_path / "c.nvtxt")
    assert "TimeBase = Manual" in (tmp_path / "c.nvtxt").read_text()
    assert any("no CLOCK_MONOTONIC/CLOCK_MONOTONIC_RAW pairing" in h for h in header)
    t0 = min(int(k["start_ns"].min()), int(r["start_ns"].min()), int(nvml["timestamp_ns"].min()))
    kern = [e for e in ev if e.category == 10]
    assert len(kern) == len(k)
    assert sorted((e.start, e.end) for e in kern) == sorted(
        zip((k["start_ns"] - t0).tolist(), (k["end_ns"] - t0).tolist(), strict=True))
    execs = [e for e in ev if e.category == 7]
    # one kernel per layer range in this workload: one execution per kernel that ran in a layer's range
    assert len(execs) == int(k["layer_name"].notna().sum())
    assert {e.text.split(" | ")[0] for e in execs} == set(k["layer_name"].dropna())
    assert len([e for e in ev if e.category == 11]) == len(r)
    assert len([e for e in ev if e.category == 12]) == len(nvml)
    assert min(e.start for e in ev) == 0


def _paired_bundle(tmp_path: Path) -> tuple[Path, dict[str, dict[str, int]]]:
    b = tmp_path / "paired.trtscope"
    shutil.copytree(own_fixture(TORCH), b)
    m = json.loads((b / "manifest.json").read_text())
    k = pd.read_parquet(b / "tables" / "kernels.parquet")
    m0 = int(k["start_ns"].min()) - 1_000_000
    pairs = {"start": {"monotonic_ns": m0, "monotonic_raw_ns": m0 + 7_000_000_123, "half_width_ns": 40},
             "stop": {"monotonic_ns": m0 + 4_000_000_000, "monotonic_raw_ns": m0 + 7_000_000_123 + 4_000_004_000,
                      "half_width_ns": 40}}
    m.setdefault("clock_alignment", {})["monotonic_raw"] = {"clock": "CLOCK_MONOTONIC_RAW", **pairs,
                                                            "drift_ppm": 1.0, "uncertainty_ns": 40}
    (b / "manifest.json").write_text(json.dumps(m))
    return b, pairs


def test_capture_with_clock_pairing_is_clock_monotonic_raw(tmp_path: Path) -> None:
    b, p = _paired_bundle(tmp_path)
    _, ev = export(b, tmp_path / "raw.nvtxt")
    assert "TimeBase = ClockMonotonicRaw" in (tmp_path / "raw.nvtxt").read_text()
    k = pd.read_parquet(b / "tables" / "kernels.parquet")
    m0, r0 = p["start"]["monotonic_ns"], p["start"]["monotonic_raw_ns"]
    dm = p["stop"]["monotonic_ns"] - m0
    dr = p["stop"]["monotonic_raw_ns"] - r0

    def raw(t: int) -> int:  # linear through the two pairs: 1 ppm here (4000 ns over 4 s)
        return r0 + (t - m0) + round((t - m0) * (dr - dm) / dm)

    kern = sorted((e.start, e.end) for e in ev if e.category == 10)
    want = sorted((raw(int(s)), raw(int(e))) for s, e in zip(k["start_ns"], k["end_ns"], strict=True))
    assert kern == want
    # a stand-alone file from the same bundle, and the time bases that do not apply
    export(b, tmp_path / "man.nvtxt", time_base="manual")
    assert "TimeBase = Manual" in (tmp_path / "man.nvtxt").read_text()
    with pytest.raises(TrtscopeError, match="relative"):
        render_nvtxt(trtscope.load(b), "relative")


def test_capture_without_kernels_or_layer_times_gives_its_ranges_and_samples(tmp_path: Path) -> None:
    """A capture with NVTX ranges and NVML samples but no kernels and no per-layer times (``trtscope profile``
    without --kernels of a run that timed no layers) still has a measured timeline: its ranges (one left open,
    drawn to the last event) and samples, as the Chrome trace shows them. Only a capture with none of it is
    refused."""
    b, p = _paired_bundle(tmp_path)
    (b / "tables" / "kernels.parquet").unlink()
    (b / "tables" / "api_calls.parquet").unlink()
    m = json.loads((b / "manifest.json").read_text())
    for key in ("kernels", "api_calls"):
        m["tables"].pop(key)
    r = pd.read_parquet(b / "tables" / "nvtx_ranges.parquet")
    r.loc[r.index[-1], "end_ns"] = None  # left open
    r.to_parquet(b / "tables" / "nvtx_ranges.parquet")
    (b / "manifest.json").write_text(json.dumps(m))
    nvml = pd.read_parquet(b / "tables" / "nvml.parquet")
    a = trtscope.load(b)
    assert len(a.kernels) == 0 and a.layers["mean_ms"].notna().sum() == 0
    _, ev = export(b, tmp_path / "r.nvtxt")
    assert "TimeBase = ClockMonotonicRaw" in (tmp_path / "r.nvtxt").read_text()
    m0, r0 = p["start"]["monotonic_ns"], p["start"]["monotonic_raw_ns"]
    dm, dr = p["stop"]["monotonic_ns"] - m0, p["stop"]["monotonic_raw_ns"] - r0

    def raw(t: int) -> int:
        return r0 + (t - m0) + round((t - m0) * (dr - dm) / dm)

    last = max(int(r["start_ns"].max()), int(r["end_ns"].max()), int(nvml["timestamp_ns"].max()))
    ends = [int(e) if pd.notna(e) else last for e in r["end_ns"]]
    assert sorted((e.start, e.end) for e in ev if e.category == 11) == sorted(
        (raw(int(s)), raw(max(e, int(s)))) for s, e in zip(r["start_ns"], ends, strict=True))
    assert sorted(e.start for e in ev if e.category == 12) == sorted(raw(int(t)) for t in nvml["timestamp_ns"])
    assert not [e for e in ev if e.category in (7, 10)]
    for name in ("nvtx_ranges", "nvml"):
        (b / "tables" / f"{name}.parquet").unlink()
        m["tables"].pop(name)
    (b / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(TrtscopeError, match="nothing to put on a timeline"):
        render_nvtxt(trtscope.load(b))


def test_capture_without_kernels_or_times_still_lists_every_layer(tmp_path: Path) -> None:
    """A capture holding the engine's layer information but no kernels and no layer times (e.g. a CUDA-graph run
    without --kernels: TensorRT's profiler cannot time graph launches) exports its NVTX ranges on its clock and
    every layer as a marker at the first event's time, as a kernel capture does for layers that ran no kernel."""
    b, _ = _paired_bundle(tmp_path)
    m = json.loads((b / "manifest.json").read_text())
    for key in ("kernels", "api_calls"):
        (b / "tables" / f"{key}.parquet").unlink()
        m["tables"].pop(key)
    (b / "raw").mkdir(exist_ok=True)
    layers_json = shared_fixture("trex", "a100-resnet18-fp16", "resnet.onnx.engine.graph.json")
    shutil.copy(layers_json, b / "raw" / "engine.layers.json")
    m["artifacts"]["layers"] = "raw/engine.layers.json"
    (b / "manifest.json").write_text(json.dumps(m))
    names = [x["Name"] for x in json.loads(layers_json.read_text())["Layers"]]
    a = trtscope.load(b)
    assert len(a.kernels) == 0 and a.layers["mean_ms"].notna().sum() == 0 and a.layers["name"].tolist() == names
    header, ev = export(b, tmp_path / "l.nvtxt")
    notes = [e for e in ev if e.category == 13 and e.text.endswith("no kernel in this capture")]
    assert sorted(e.text.split(" | ")[0] for e in notes) == sorted(names)
    first = min(e.start for e in ev if e.category in (11, 12))
    assert {e.start for e in notes} == {first}
    assert f"layers_without_kernels {len(names)}" in " ".join(header)


def test_monotonic_raw_is_refused_without_a_pairing() -> None:
    with pytest.raises(TrtscopeError, match="no CLOCK_MONOTONIC/CLOCK_MONOTONIC_RAW pairing"):
        render_nvtxt(trtscope.load(own_fixture(TORCH)), "monotonic-raw")


def test_nsys_export_keeps_the_session_times_relative(tmp_path: Path) -> None:
    src = shared_fixture("nsys", "fuser-h100x8-matmul-nsys2024.6.2", "report1.sqlite")
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as db:
        starts = sorted(x for (x,) in db.execute("SELECT start FROM CUPTI_ACTIVITY_KIND_KERNEL"))
    _, ev = export(src, tmp_path / "n.nvtxt")
    assert "TimeBase = Relative" in (tmp_path / "n.nvtxt").read_text()
    assert sorted(e.start for e in ev if e.category == 10) == starts


# --- command line -------------------------------------------------------------------------------------------
def test_cli_export_nvtxt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.nvtxt"
    src = str(shared_fixture("trex", "a100-resnet18-qat"))
    assert main(["export", src, "--format", "nvtxt", "-o", str(out)]) == 0
    _, ev = parse_events(out)
    assert f"{len([e for e in ev if e.kind == 'range'])} ranges" in capsys.readouterr().out
    assert main(["export", src, "--format", "nvtxt", "-o", str(out)]) == 2  # exists, no --force
    assert main(["export", src, "--format", "nvtxt", "-o", str(out), "--table", "layers"]) == 2


def test_cli_merge_prints_the_exact_command_without_the_tool(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRTSCOPE_IMPORTNVTXT", str(tmp_path / "absent"))
    nv = tmp_path / "in put.nvtxt"
    nv.write_text("# nothing\n")
    rep = tmp_path / "r.nsys-rep"
    rep.write_bytes(b"x")
    out = tmp_path / "o.nsys-rep"
    assert main(["nsys", "merge", str(rep), str(nv), "-o", str(out), "--at", "5"]) == 2
    printed = capsys.readouterr()
    assert printed.out.strip() == (f"ImportNvtxt --cmd merge -i {rep} -n '{nv}' -o {out} --mode lin --ns_a 5 "
                                   "--freq 1000000000")
    assert "ImportNvtxt" in printed.err and not out.exists()
    assert main(["nsys", "merge", str(rep), str(nv), "-o", str(out), "--print"]) == 0
    # the merged report never replaces the report it is merged into, --force or not (nothing the user gave is lost)
    capsys.readouterr()
    for extra in ([], ["--force"]):
        assert main(["nsys", "merge", str(rep), str(nv), "-o", str(rep), *extra]) == 2
        err = capsys.readouterr().err
        assert "is the report being merged into" in err and err.count("\n") == 1
    assert rep.read_bytes() == b"x"


def test_nvml_sample_without_any_value_keeps_every_message_on_its_sample(tmp_path: Path) -> None:
    """A sample whose every value is NaN (an NVML query that failed) is a marker with no values, and each other
    sample's marker holds its own values (a row-dropping join once shifted them and then failed)."""
    from trtscope.bundle.writer import BundleWriter

    nan = float("nan")
    samples = pd.DataFrame({"timestamp_ns": [1_000, 2_000, 3_000, 4_000], "gpu_index": [0, 0, 1, 0],
                            "gpu_util_pct": [10.0, nan, 30.0, 40.0], "power_w": [nan, nan, 300.0, nan]})
    b = tmp_path / "nvml.trtscope"
    with BundleWriter(b, kind="capture", command=["test"]) as w:
        w.write_table("nvml", samples)
    _, ev = export(b, tmp_path / "n.nvtxt", time_base="manual")
    got = sorted((e.start, e.text) for e in ev if e.category == 12)
    assert got == [(0, "NVML GPU 0: GPU 10 %"), (1_000, "NVML GPU 0: "), (2_000, "NVML GPU 1: GPU 30 % · power 300 W"),
                   (3_000, "NVML GPU 0: GPU 40 %")]
