"""Every figure means one thing and agrees everywhere (issue: "One truth").

On every real input (the project's fixtures and ../shared/fixtures): every breakdown shown as parts of a whole
sums to the whole; every table has exactly its declared columns; the console report, ``report --json`` and the
TUI Overview show the same headline figures; every layer, node and kernel of the report is in every export.
Expected wholes are counted by the tests from the raw files where the figure is a count of raw things (layers,
ONNX nodes, kernels), and from the JSON document for cross-view agreement.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import onnx
import pandas as pd
import pytest
from rich.console import Console

import trtscope
from tests.conftest import SHARED_FIXTURES, own_fixture
from tests.test_tui_kit import run_app, settle, shown
from trtscope.analysis.session import Analysis
from trtscope.cli.main import main
from trtscope.exporters import chrome_trace
from trtscope.exporters import tables as tx
from trtscope.exporters.json_report import report_document
from trtscope.model import outputs
from trtscope.views.console.report import render_report

OWN = ["rtx-h100-resnet18", "rtx-h100-transformer", "h100-torch-capture.trtscope", "h200-torch-capture.trtscope",
       "rtx-h200-qat-int8-residual-qdq", "rtx-h200-attention-mask-fp16", "rtx-h200-resnet18-dynamic"]
SHARED = ["trex/a100-resnet18-fp32", "trex/a100-resnet18-fp16", "trex/a100-resnet18-qat", "trex/mobilenet-qat",
          "trex/rtx3090-tf-resnet50-fp16", "trt10-h100-mnist"]


def _inputs() -> list[Any]:
    out = [pytest.param(own_fixture(x), id=x) for x in OWN]
    for x in SHARED:
        out.append(pytest.param(SHARED_FIXTURES / x, id=x, marks=pytest.mark.skipif(
            not (SHARED_FIXTURES / x).exists(), reason=f"real artifacts not available: {SHARED_FIXTURES / x}")))
    return out


_CACHE: dict[Path, Analysis] = {}


def analysis(path: Path) -> Analysis:
    if path not in _CACHE:
        _CACHE[path] = trtscope.load(path)
    return _CACHE[path]


def _raw_layer_count(path: Path) -> int | None:
    """Engine layers counted from the raw files by this test's own method (None: no layer listing)."""
    graph = list(path.glob("*.graph.json")) + list(path.glob("*.exportLayerInfo.json"))
    if graph:
        return len(json.loads(graph[0].read_text(), strict=False)["Layers"])
    log = path / "build-verbose.log"
    if log.exists():
        return sum(1 for x in log.read_text(errors="replace").split("\n") if x.startswith("Name: "))
    return None


@pytest.mark.parametrize("path", _inputs())
def test_every_breakdown_sums_to_its_whole(path: Path) -> None:
    a = analysis(path)
    s, cov = a.summary, a.summary.coverage
    raw_layers = _raw_layer_count(path)
    if raw_layers is not None:
        assert s.layer_count == raw_layers
    assert sum(s.layer_kinds.values()) == s.layer_count == len(a.layers)
    # node statuses partition the nodes, overall and for compute nodes; classes partition them too
    assert cov.status_counts.total == cov.onnx_node_count == len(a.onnx_nodes)
    assert sum(cov.class_counts.values()) == cov.onnx_node_count
    assert cov.compute.total == cov.class_counts["compute"]
    model = path / "model.onnx"
    if model.exists():
        assert cov.onnx_node_count == len(onnx.load(str(model), load_external_data=False).graph.node)
    by_op = a.coverage_by_op
    statuses = ["fused", "unfused", "absorbed", "folded"]
    assert (by_op[statuses].sum(axis=1) == by_op["nodes"]).all()
    assert int(by_op["nodes"].sum()) == cov.onnx_node_count
    for st in statuses:
        assert int(by_op[st].sum()) == getattr(cov.status_counts, st)
    if cov.compute.running:
        assert cov.fusion_coverage == pytest.approx(cov.compute.fused / cov.compute.running)
    # time: op rows (op types + layers without ONNX work) sum to the layer sum, shares to 1
    if s.total_ms is not None:
        assert a.op_hotspots["ms"].sum() == pytest.approx(s.total_ms)
        assert a.op_hotspots["share"].sum() == pytest.approx(1.0)
        assert a.hotspots["cum_share"].iloc[-1] == pytest.approx(1.0)
        u = a.unfused_hotspots.groupby("op_type")["mean_ms"].sum()
        for op, ms_ in a.op_hotspots.dropna(subset=["op_type"]).set_index("op_type")["unfused_ms"].items():
            assert ms_ == pytest.approx(u.get(op, 0.0))
    ref = s.reformat
    assert ref.copying_count + ref.elided_count == ref.count == len(a.reformat_layers)
    if s.kernels is not None:
        assert int(a.kernel_rollup["launches"].sum()) == s.kernels.count
        assert a.kernel_rollup["total_ms"].sum() == pytest.approx(s.kernels.gpu_ms)
        assert s.kernels.on_known_layer <= s.kernels.on_layer <= s.kernels.in_nvtx_range <= s.kernels.count


@pytest.mark.parametrize("path", _inputs())
def test_every_table_has_its_declared_columns(path: Path) -> None:
    a = analysis(path)
    for spec in outputs.TABLES:
        df = getattr(a, spec.name) if spec.name not in ("iterations",) else a.iterations
        if df is None or (df.empty and not len(df.columns)):
            continue
        cols = list(df.columns)
        if spec.name == "kernels":  # a source's extra kernel columns are kept after the contract's
            cols = cols[: len([c for c in cols if c in spec.names])]
        assert set(spec.required) <= set(cols), (spec.name, set(spec.required) - set(cols))
        assert cols == [c for c in spec.names if c in cols], spec.name


def test_data_model_doc_is_generated_from_the_declarations() -> None:
    doc = Path(__file__).resolve().parents[1] / "docs" / "data-model.md"
    assert doc.read_text(encoding="utf-8") == outputs.markdown() + "\n", "run python scripts/gen_data_model.py"


# --- the same figures in every view ---------------------------------------------------------------------------
def _console_text(a: Analysis, width: int = 200) -> str:
    buf = io.StringIO()
    render_report(a, Console(file=buf, width=width, no_color=True, color_system=None), top=10)
    return buf.getvalue()


def _expected_phrases(doc: dict[str, Any]) -> list[str]:
    """Headline figures in the words every view uses, built from the JSON document's numbers."""
    s, cov = doc["summary"], doc["coverage"]
    out = []
    if s["layer_count"]:
        out.append(f"{s['layer_count']:,}  (")
    if s["onnx_node_count"] is not None:
        c = cov["status_counts"]
        out.append(f"{c['fused']:,} fused · {c['unfused']:,} unfused · {c['absorbed']:,} absorbed · "
                   f"{c['folded']:,} folded")
        cc = cov["compute_status_counts"]
        running = cc["fused"] + cc["unfused"]
        out.append(f"{100 * cc['fused'] / running:.1f}% = {cc['fused']:,} fused of {running:,} compute nodes")
    if s["total_ms"] is not None:
        out.append(f"{s['total_ms']:.4f} ms per inference")
    if "kernels" in doc:
        k = doc["kernels"]
        out.append(f"{k['count']:,} launches")
        out.append(f"{k['in_nvtx_range']:,} inside an NVTX range, {k['on_layer']:,} attributed to a layer")
    return out


@pytest.mark.parametrize("path", _inputs())
def test_console_json_and_tui_show_the_same_headline(path: Path) -> None:
    from trtscope.views.tui.app import TrtscopeApp
    from trtscope.views.tui.screens.overview import coverage_frame

    a = analysis(path)
    doc = json.loads(json.dumps(report_document(a)))
    phrases = _expected_phrases(doc)
    assert phrases
    console = " ".join(_console_text(a).split())
    for p in phrases:
        assert " ".join(p.split()) in console, p
    # the TUI's coverage table holds the JSON's by-op rows
    tui_cov = coverage_frame(a)
    json_cov = pd.DataFrame(doc["coverage"]["by_op_type"])
    if len(json_cov):
        for col in ("nodes", "fused", "unfused", "absorbed", "folded"):
            assert tui_cov[col].tolist() == json_cov[col].tolist()
    app = TrtscopeApp(a, source=str(path))

    async def script(pilot: Any) -> None:
        await settle(pilot)
        text = " ".join(shown(app).split())
        for p in phrases:
            assert " ".join(p.split()) in text, p

    run_app(app, script, size=(220, 50))


# --- exports hold every row -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", _inputs())
def test_every_layer_node_and_kernel_is_in_every_export(path: Path, tmp_path: Path) -> None:
    a = analysis(path)
    doc = report_document(a)
    layer_names = [x["name"] for x in doc["layers"]]
    for fmt in ("csv", "parquet", "json"):
        out = tmp_path / f"out-{fmt}" if fmt != "json" else tmp_path / "out.json"
        tx.write_tables(a, out, fmt)
        if fmt == "json":
            tables = json.loads(out.read_text(encoding="utf-8"))["tables"]
            got = {k: pd.DataFrame(v) for k, v in tables.items()}
        elif fmt == "csv":
            got = {p.stem: pd.read_csv(p, keep_default_na=False, na_values=[""], dtype=str) for p in out.glob("*.csv")}
        else:
            got = {p.stem: pd.read_parquet(p) for p in out.glob("*.parquet")}
        if layer_names:
            assert got["layers"]["name"].tolist() == layer_names, fmt
        if len(a.onnx_nodes):
            assert got["onnx_nodes"]["name"].tolist() == a.onnx_nodes["name"].tolist(), fmt
        if len(a.kernels):
            assert len(got["kernels"]) == len(a.kernels), fmt
    trace = chrome_trace.chrome_trace(a)
    slices = [e for e in trace["traceEvents"] if e.get("ph") == "X"]
    if a.has_profile:
        synthetic = [e["name"] for e in slices if e.get("cat") == "layer"]
        timed = a.layers.loc[a.layers["mean_ms"].notna(), "name"].tolist()
        assert synthetic[: len(timed)] == timed  # zero-time layers included
    if len(a.kernels):
        assert sum(1 for e in slices if e.get("cat") == "kernel") == len(a.kernels)


def test_capture_bundle_json_has_its_kernels(capsys: pytest.CaptureFixture[str]) -> None:
    """A bundle without layer information still reports its kernels in the JSON (counted from the raw table)."""
    b = own_fixture("h100-torch-capture.trtscope")
    raw = pd.read_parquet(b / "tables" / "kernels.parquet")
    assert main(["report", str(b), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["layer_count"] == 0
    k = doc["kernels"]
    assert k["count"] == len(raw)
    assert k["in_nvtx_range"] == int(raw["nvtx_range_id"].notna().sum())
    assert k["on_layer"] == int(raw["layer_name"].notna().sum())
    assert k["gpu_ms"] == pytest.approx(float((raw["end_ns"] - raw["start_ns"]).sum()) / 1e6)
    top = k["top"][0]
    assert {"kernel", "layer_name", "nvtx_range", "launches", "total_ms", "onnx_nodes"} <= set(top)
    # and no view claims fusion facts about nodes it does not have
    assert doc["coverage"]["onnx_node_count"] == 0


def test_console_never_claims_fusion_without_nodes() -> None:
    a = analysis(own_fixture("h100-torch-capture.trtscope"))
    text = _console_text(a)
    assert "fused with others" not in text and "every compute node" not in text
    assert re.search(r"Engine layers\s+none", text)
