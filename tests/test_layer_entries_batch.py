"""The column-wise validity check of layer entries agrees with the per-entry one it replaces on the hot path.

``layer_entries._all_ok`` decides whether a whole file's entries can skip per-entry normalisation; if it ever
said "all fine" where ``_entry_ok`` finds a bad field, a malformed value would reach the tables. Entries here
are built field by field from values of every JSON type (and out-of-range integers), so the expected answer
is the per-entry rule applied by this test to each entry.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from trtscope.parsers import layer_entries as le

SCALARS = st.one_of(
    st.none(), st.booleans(), st.text(max_size=5), st.floats(allow_nan=True),
    st.sampled_from([0, 1, -1, 7, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**40]),
)
DIMS = st.one_of(SCALARS, st.lists(SCALARS, max_size=4), st.lists(st.integers(-(2**64), 2**64), max_size=4))
TENSOR = st.one_of(
    SCALARS,
    st.fixed_dictionaries({}, optional={k: SCALARS for k in le._TENSOR_TEXT} | {k: DIMS for k in le._DIM_KEYS}),
)
ENTRY = st.fixed_dictionaries(
    {"Name": st.text(max_size=5)},
    optional={
        **{k: SCALARS for k in (*le._TEXT_KEYS, "Metadata", "StreamId")},
        **{k: st.one_of(SCALARS, st.lists(TENSOR, max_size=3)) for k in le._TENSOR_KEYS},
    },
)


def _columns(entries: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {k: [e.get(k) for e in entries] for k in (*le._TEXT_KEYS, "Metadata", "StreamId")}


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.lists(ENTRY, max_size=4))
def test_batch_check_matches_per_entry_rule(entries: list[dict[str, Any]]) -> None:
    assert le._all_ok(entries, _columns(entries)) == all(le._entry_ok(e) for e in entries)


def test_one_bad_value_among_many_good_ones_is_found() -> None:
    good = {"Name": "a", "LayerType": "Conv", "StreamId": 0, "Metadata": "[ONNX Layer: a]",
            "Outputs": [{"Name": "t", "Dimensions": [1, 3, -1], "Format/Datatype": "Half"}]}
    for bad_field in ({"StreamId": 2**31}, {"StreamId": True}, {"TacticName": 3},
                      {"Outputs": [{"Name": "t", "Dimensions": [1, 2**63]}]},
                      {"Outputs": [{"Name": "t", "Dimensions": [1, False]}]}, {"Inputs": "x"}):
        entries = [dict(good) for _ in range(50)] + [{**good, **bad_field}]
        assert le._all_ok(entries, _columns(entries)) is False, bad_field
        assert le._all_ok(entries[:50], _columns(entries[:50])) is True


# --- fusion: Metadata split for all layers at once == layer by layer ------------------------------------------
PIECE = st.sampled_from(["a", "b", "/m/Conv", "x | f (fn)", "", "]", "[ONNX Layer: ", "\x1f", "\x1e", " "])
ENTRY_TEXT = st.lists(PIECE, max_size=3).map("".join)
METADATA = st.one_of(
    st.none(), st.just(""),
    st.lists(ENTRY_TEXT, min_size=1, max_size=4).map(lambda es: "\x1f".join(f"[ONNX Layer: {e}]" for e in es)),
    st.lists(PIECE, max_size=8).map("".join),
)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.lists(METADATA, max_size=5))
def test_bulk_metadata_split_matches_per_layer(mds: list[str | None]) -> None:
    from trtscope.analysis import fusion

    names = [f"layer{i}" for i in range(len(mds))]
    origins: list[str | None] = [None] * len(mds)
    expected = [fusion._layer_nodes(n, m, None, None, {}, []) for n, m in zip(names, mds, strict=True)]
    nodes, sources = fusion._all_layer_nodes(names, mds, origins, None, {}, [])
    assert list(zip(nodes, sources, strict=True)) == expected
