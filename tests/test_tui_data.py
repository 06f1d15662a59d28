"""The TUI's view-model (trtscope.views.tui.data): pure pandas, checked against values chosen in the tests."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from tests.test_tui_kit import KERNEL_NS, MEAN_MS, NAMES, capture_analysis
from trtscope.analysis import timeline
from trtscope.model.tables import KERNEL_COLUMNS, NVML_SAMPLE_COLUMNS, frame
from trtscope.views.tui import data


@pytest.fixture(scope="module")
def cap():  # type: ignore[no-untyped-def]
    return capture_analysis()


def test_search_terms_must_all_match_and_fields_match_exactly() -> None:
    hay = data.haystack(pd.Series(["Conv_0 + Relu_1", "MaxPool_2", "conv_3"]), pd.Series(["Cask", "Pool", None]))
    kinds = {"kind": pd.Series(["fused", "single", "single"])}
    assert data.search_mask("", hay) is None
    assert data.search_mask("conv", hay).tolist() == [True, False, True]
    assert data.search_mask("conv relu", hay).tolist() == [True, False, False]
    assert data.search_mask("POOL", hay).tolist() == [False, True, False]  # second column searched too
    assert data.search_mask("kind:single", hay, kinds).tolist() == [False, True, True]
    assert data.search_mask("kind:sing", hay, kinds).tolist() == [False, False, False]  # exact, not prefix
    assert data.search_mask("kind:single conv", hay, kinds).tolist() == [False, False, True]
    assert data.search_mask("nosuch:x", hay, kinds).tolist() == [False, False, False]  # plain text then


def test_layers_frame_marks_single_compute_node_layers_unfused(cap) -> None:  # type: ignore[no-untyped-def]
    f = data.layers_frame(cap)
    assert f["name"].tolist() == NAMES
    # MaxPool_2 and the Gemm_3 layer hold one compute node each; the fused and the reformat layer do not
    assert f["unfused"].tolist() == [False, True, True, False]
    assert all(data.UNFUSED in k for k in f.loc[f["unfused"], "kind_label"])
    assert f["mean_ms"].tolist() == MEAN_MS


def test_fusion_frame_groups_nodes_under_layers_and_folded_nodes_last(cap) -> None:  # type: ignore[no-untyped-def]
    f = data.fusion_frame(cap)
    rows = list(zip(f["row_kind"], f["layer_index"], f["node_name"], strict=True))
    assert rows == [
        ("layer", 0, None), ("node", 0, "Conv_0"), ("node", 0, "Relu_1"),
        ("layer", 1, None), ("node", 1, "MaxPool_2"),
        ("layer", 2, None), ("node", 2, "Gemm_3"),
        ("layer", -1, None), ("node", -1, "Shape_4"),  # Shape_4 is in no layer: folded
    ]
    nodes = f[f["row_kind"].eq("node")].set_index("node_name")
    assert nodes.loc["MaxPool_2", "unfused"] and nodes.loc["Gemm_3", "unfused"]
    assert not nodes.loc["Conv_0", "unfused"] and not nodes.loc["Shape_4", "unfused"]
    assert nodes.loc["MaxPool_2", "status"].startswith(data.UNFUSED)  # a symbol, not only a colour
    assert nodes.loc["Shape_4", "status"] == "folded"
    # anchor attribution: the fused Conv_0 + Relu_1 layer's time is the convolution's
    assert nodes.loc["Conv_0", "ms"] == pytest.approx(MEAN_MS[0]) and nodes.loc["Relu_1", "ms"] == 0
    assert f["tree"].tolist()[:3] == ["", " ├", " └"]  # the glyph is its own column: names shorten alone
    assert f["label"].tolist()[:3] == [NAMES[0], "Conv_0", "Relu_1"]
    assert f["layer_no"].tolist()[:4] == [0, None, None, 1]  # "#" on layer rows only


def test_fusion_orders_sort_groups_and_keep_them_whole(cap) -> None:  # type: ignore[no-untyped-def]
    f = data.fusion_frame(cap)
    order = data.fusion_order(f, True)
    shuffled = f.iloc[order]
    assert shuffled["layer_index"].tolist() == [0, 0, 0, 1, 1, 2, 2, -1, -1]
    f2 = f.copy()
    f2["group_ms"] = f2["layer_index"].map({0: 0.1, 1: 0.9, 2: 0.5, -1: np.nan})
    assert f2.iloc[data.fusion_order(f2, True)]["layer_index"].tolist() == [1, 1, 2, 2, 0, 0, 0, -1, -1]
    assert data.fusion_order(f, None).tolist() == list(range(len(f)))
    # by layer name A->Z: "Conv_0 + Relu_1" < "MaxPool_2" < "Weird..." (case-insensitive), folded last
    assert f.iloc[data.fusion_order(f, "name")]["layer_index"].tolist() == [0, 0, 0, 1, 1, 2, 2, -1, -1]
    assert f.iloc[data.fusion_order(f, "name", True)]["layer_index"].tolist() == [2, 2, 1, 1, 0, 0, 0, -1, -1]
    # by ONNX nodes per layer, most first: layer 0 has two, the others one (stable: engine order among them)
    assert f.iloc[data.fusion_order(f, "nodes")]["layer_index"].tolist()[:3] == [0, 0, 0]


def test_fusion_mask_keeps_layer_rows_of_matching_nodes(cap) -> None:  # type: ignore[no-untyped-def]
    f = data.fusion_frame(cap)
    hay = data.fusion_haystack(f)
    shown = f[data.fusion_mask(f, hay, "relu", False)]
    assert list(zip(shown["row_kind"], shown["node_name"], strict=True)) == [("layer", None), ("node", "Relu_1")]
    by_op = f[data.fusion_mask(f, hay, "op:maxpool", False)]
    assert by_op["node_name"].dropna().tolist() == ["MaxPool_2"]
    # a layer whose name matches while none of its nodes does comes whole
    group = f[data.fusion_mask(f, hay, "weird", False)]
    assert list(zip(group["row_kind"], group["node_name"], strict=True)) == [("layer", None), ("node", "Gemm_3")]
    unfused = f[data.fusion_mask(f, None, "", True)]
    assert unfused["node_name"].dropna().tolist() == ["MaxPool_2", "Gemm_3"]
    assert data.fusion_mask(f, hay, "  ", False) is None


def test_layer_samples_and_distribution(cap) -> None:  # type: ignore[no-untyped-def]
    layer = data.layer_row(cap, 0)
    s = timeline.layer_samples(cap.artifacts.profile, layer)
    assert s is not None
    assert s.tolist() == pytest.approx([0.5 * (1 + 0.1 * i) for i in range(5)])
    d = timeline.distribution(s)
    assert (d["min"], d["p50"], d["max"]) == pytest.approx((0.5, 0.6, 0.7))
    hist = timeline.histogram(s, bins=4)
    assert sum(c for _, _, c in hist) == 5 and hist[0][0] == pytest.approx(0.5) and hist[-1][1] == pytest.approx(0.7)
    assert timeline.histogram(np.array([1.0, 1.0])) == [(1.0, 1.0, 2)]


def test_kernels_of_a_layer_and_nvml_inside_or_nearest(cap) -> None:  # type: ignore[no-untyped-def]
    k0 = data.layer_kernels(cap, 0, NAMES[0])
    assert k0["name"].tolist() == ["kernel_0"]
    assert k0["duration_us"].tolist() == [(KERNEL_NS[0][1] - KERNEL_NS[0][0]) / 1000]
    assert k0["grid"].tolist() == ["4×1×1"] and k0["block"].tolist() == ["128×1×1"]
    inside = timeline.nvml_during(cap.nvml, k0)
    assert inside.how == "inside" and inside.samples["timestamp_ns"].tolist() == [1_200_000]
    # kernel of layer 2 (3.00-3.05 ms): the samples around it (2.1 and 4.0 ms) are more than one median
    # sampling period (0.9 ms) from its middle -> nothing; layer 3 (3.10-3.11 ms) is 0.895 ms from 4.0 ms
    assert timeline.nvml_during(cap.nvml, data.layer_kernels(cap, 2, NAMES[2])).samples.empty
    near = timeline.nvml_during(cap.nvml, data.layer_kernels(cap, 3, NAMES[3]))
    assert near.how == "nearest" and near.samples["timestamp_ns"].tolist() == [4_000_000]
    assert data.layer_kernels(cap, 99, "no such layer").empty


def test_nvml_of_other_gpus_is_left_out() -> None:
    nvml = frame([(t, g, 10 * g, 0, 0, 0, 0, 0, 0, 0) for t in (5, 15) for g in (0, 1)], NVML_SAMPLE_COLUMNS)
    kernels = frame([(0, 20, "k", 1, 0, 0, 1, 1, 1, 1, 1, 1, None, 0, 0, 0, 0, None, None, "L")], KERNEL_COLUMNS)
    win = timeline.nvml_during(nvml, kernels)
    assert win.samples["gpu_index"].tolist() == [1, 1]


def test_kernel_busy_is_the_covered_share_of_each_bucket() -> None:
    k = pd.DataFrame({"start_ns": [0, 20, 25], "end_ns": [10, 30, 30]})
    assert timeline.kernel_busy(k, 0, 40, 4).tolist() == pytest.approx([1.0, 0.0, 1.0, 0.0])
    half = pd.DataFrame({"start_ns": [5], "end_ns": [15]})
    assert timeline.kernel_busy(half, 0, 20, 2).tolist() == pytest.approx([0.5, 0.5])
    assert len(timeline.kernel_busy(k.iloc[0:0], 0, 40, 4)) == 0


def test_nvml_series_buckets_by_time() -> None:
    nvml = frame([(i * 1_000_000, 0, float(i), 0, 0, 0, 0, 0, 0, 0) for i in range(10)], NVML_SAMPLE_COLUMNS)
    series, span = timeline.nvml_series(nvml, 0, "gpu_util_pct", points=5)
    assert span == pytest.approx(0.009)
    assert len(series) == 5 and series[0] < series[-1]
    full, _ = timeline.nvml_series(nvml, 0, "gpu_util_pct", points=100)
    assert full.tolist() == [float(i) for i in range(10)]


def test_csv_keeps_lists_unambiguous_and_names_exact(tmp_path) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame({"name": ["a,b \x1e [x]"], "onnx_nodes": [["n1", "n,2"]], "ms": [0.5]})
    text = data.to_csv(df)
    back = pd.read_csv(io.StringIO(text))
    assert back["name"].tolist() == ["a,b \x1e [x]"]
    assert json.loads(back["onnx_nodes"][0]) == ["n1", "n,2"]
    (tmp_path / "t.csv").write_text("x")
    (tmp_path / "t-2.csv").write_text("x")
    assert data.free_path(tmp_path, "t") == tmp_path / "t-3.csv"
    assert data.free_path(tmp_path, "u") == tmp_path / "u.csv"


def test_export_frame_has_each_column_once_with_its_label() -> None:
    from trtscope.views.tui.cells import bar_cell, pct_cell
    from trtscope.views.tui.widgets import Column, FrameTable

    t = FrameTable([Column("name", "layer"), Column("share", "share", fmt=pct_cell),
                    Column("share", "", fmt=bar_cell)], pd.DataFrame({"name": ["a", "b"], "share": [0.25, 0.75]}))
    t.sort("share", descending=True)
    out = t.export_frame()
    assert out.columns.tolist() == ["layer", "share"] and out["layer"].tolist() == ["b", "a"]
    t.filter(np.array([True, False]))
    assert t.export_frame()["share"].tolist() == [0.25]
    g = FrameTable([Column("label", "x")], pd.DataFrame({"label": ["  ├ n"], "node_name": ["n"]}),
                   export_columns=["node_name"])
    assert g.export_frame().columns.tolist() == ["node_name"]


def test_kernels_between_and_windowed_nvml_series(cap) -> None:  # type: ignore[no-untyped-def]
    # KERNEL_NS: (1.0-1.4 ms), (2.0-2.2), (3.0-3.05), (3.1-3.11): [1.3, 2.1) ms overlaps the first two
    running = data.kernels_between(cap.kernels, 1_300_000, 2_100_000)
    assert running["name"].tolist() == ["kernel_0", "kernel_1"]  # 100 µs each inside; stable order
    assert running["overlap_us"].tolist() == pytest.approx([100.0, 100.0])
    assert data.kernels_between(cap.kernels, 5_000_000, 6_000_000).empty
    # samples at 0.5, 1.2, 2.1, 4.0 ms with utilization 10, 90, 80, 20; four 1-ms buckets over [0, 4) ms:
    # [0,1): 10; [1,2): 90; [2,3): 80; [3,4): none -> carries the last sample before 3 ms (80)
    series, span = timeline.nvml_series(cap.nvml, 0, "gpu_util_pct", 4, window=(0.0, 4_000_000.0))
    assert series.tolist() == [10.0, 90.0, 80.0, 80.0] and span == pytest.approx(0.004)


def test_share_cells_keep_three_significant_digits() -> None:
    from trtscope.views.tui.cells import int_cell, share_cell

    assert [share_cell(v) for v in (0.234, 0.0123, 0.00123, 0.0000512, 0.0)] == \
        ["23.4%", "1.23%", "0.123%", "0.0051%", "0.0%"]
    assert share_cell(1 / 20_000) != share_cell(0.0)  # a 20,000-layer engine's typical layer is not "0.0%"
    assert int_cell(1234567) == "1,234,567"


def test_names_shorten_keeping_what_tells_them_apart() -> None:
    from trtscope.views.tui.names import kernel_label, shorten_name

    conv1, conv2 = "/layer1/layer1.0/conv1/Conv", "/layer1/layer1.0/conv2/Conv"
    for w in (24, 16, 12):
        a, b = shorten_name(conv1, w), shorten_name(conv2, w)
        assert len(a) <= w and a != b and a.endswith("conv1/Conv")
    assert shorten_name(conv1, 40) == conv1
    fused = "/a/b/conv/Conv + /a/b/relu/Relu"
    assert shorten_name(fused, 26) == "…/conv/Conv + …/relu/Relu"
    long = "Reformatting CopyNode for Input Tensor 0 to Conv_5 + Add_6"
    short = shorten_name(long, 30)
    assert len(short) == 30 and short.startswith("Reformatting") and short.endswith("Add_6")
    # an Itanium-mangled PyTorch kernel (as CUPTI reports it): its function, and the telling template argument
    mangled = ("_ZN2at6native29vectorized_elementwise_kernelILi8EZZZNS0_18GeluCUDAKernelImplERNS_18TensorIterator"
               "BaseENS0_8GeluTypeEENKUlvE0_clEvENKUlvE1_clEvEUlN3c104HalfEE_St5arrayIPcLm2EEEEviT0_T1_")
    assert kernel_label(mangled) == "vectorized_elementwise_kernel<…GeluCUDAKernelImpl…>"
    # a demangled signature (nsys exports): no return type, no parameters, arguments one level deep
    demangled = ("void at::native::vectorized_elementwise_kernel<(int)4, at::native::CUDAFunctor_add<float>, "
                 "std::array<char *, (unsigned long)3>>(int, T2, T3)")
    assert kernel_label(demangled) == "vectorized_elementwise_kernel<4, CUDAFunctor_add<…>, array<…>>"
    assert kernel_label("sm90_xmma_gemm_f16f16_f32") == "sm90_xmma_gemm_f16f16_f32"


def test_kernel_totals_regroup_the_rollup_by_name() -> None:
    """The analysis' per-kernel totals against the raw kernel table of the capture bundle, grouped here."""
    from tests.test_tui_kit import CAPTURE_BUNDLE, bundle_analysis

    if not (CAPTURE_BUNDLE / "manifest.json").exists():
        pytest.skip("capture bundle absent")
    raw = pd.read_parquet(CAPTURE_BUNDLE / "tables" / "kernels.parquet")
    raw = raw.assign(ms=(raw["end_ns"] - raw["start_ns"]) / 1e6)
    want = raw.groupby("name")["ms"].agg(["count", "sum"])
    got = bundle_analysis().kernel_totals.set_index("kernel")
    assert sorted(got.index) == sorted(want.index)
    for name, row in want.iterrows():
        assert got.loc[name, "launches"] == row["count"]
        assert got.loc[name, "total_ms"] == pytest.approx(row["sum"])
    assert got["share"].sum() == pytest.approx(1.0)
    layers = raw.dropna(subset=["layer_name"]).groupby("name")["layer_name"].agg(lambda s: set(s) - {""})
    for name, names in layers.items():
        assert set(got.loc[name, "layer_names"]) == names and got.loc[name, "n_layers"] == len(names)


def test_every_export_format_is_offered_by_the_cli_and_the_ui(cap, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import argparse

    from trtscope.cli import export as cli_export
    from trtscope.exporters.formats import EXPORT_FORMATS
    from trtscope.views.tui.screens.export import TABLE, choices

    p = argparse.ArgumentParser()
    cli_export.register(p.add_subparsers(), "export", "x")
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction)).choices["export"]
    fmt = next(a for a in sub._actions if a.dest == "format")
    assert list(fmt.choices) == list(EXPORT_FORMATS)
    offered = [c.key for c in choices(cap, pd.DataFrame({"x": [1]}), "t", tmp_path)]
    assert offered == [TABLE, *EXPORT_FORMATS]
