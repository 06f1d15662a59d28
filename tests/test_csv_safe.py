"""CSV cells a spreadsheet would evaluate are neutralised with a leading quote (export and TUI alike); numbers,
numeric-looking text and every other format stay exact."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

import trtscope
from tests.conftest import own_fixture
from trtscope.exporters import tables as tx

#: Names a model (or a bundle) could carry; the leading characters are the OWASP CSV-injection list.
HOSTILE = [
    "=HYPERLINK(\"http://x\",\"y\")",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "-1x3x224x224",
    "-",
    "-5",
    "+2.5e3",
    "Conv_0 + Relu_1",
    "a=b",
    "",
]


def expected(v: str) -> str:
    """The rule, written here independently: text starting with = + - @ TAB CR that is not a plain number."""
    plain_number = re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", v)
    return "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") and not plain_number else v


def frame() -> pd.DataFrame:
    n = len(HOSTILE)
    return pd.DataFrame({
        "start_ns": [-(10**12) - i for i in range(n)],  # negative numbers: must stay numbers
        "end_ns": [float(-i) - 0.5 for i in range(n)],
        "name": HOSTILE,
        "layer_name": pd.Series(HOSTILE, dtype="category"),
    })


def read_cells(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_export_neutralises_text_cells_only(tmp_path: Path) -> None:
    a = trtscope.load(own_fixture("h100-torch-capture.trtscope"))
    a.kernels = frame()
    tx.write_tables(a, tmp_path / "out", "csv", tables=["kernels"])
    with open(tmp_path / "out" / "kernels.csv", encoding="utf-8", newline="") as fh:
        text = fh.read()
    rows = read_cells(text)
    assert [r["name"] for r in rows] == [expected(v) for v in HOSTILE]
    assert [r["layer_name"] for r in rows] == [expected(v) for v in HOSTILE]
    assert [int(r["start_ns"]) for r in rows] == frame()["start_ns"].tolist()  # unquoted, exact
    assert [float(r["end_ns"]) for r in rows] == frame()["end_ns"].tolist()
    assert "'-" not in "".join(line.split(",")[0] for line in text.splitlines()[1:])
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["csv"]["formula_prefix"] == "'"


@pytest.mark.parametrize("fmt", ["parquet", "json"])
def test_other_formats_keep_names_exact(tmp_path: Path, fmt: str) -> None:
    a = trtscope.load(own_fixture("h100-torch-capture.trtscope"))
    a.kernels = frame()
    out = tmp_path / f"k.{fmt}"
    tx.write_tables(a, out, fmt, tables=["kernels"])
    if fmt == "parquet":
        back = pd.read_parquet(out / "kernels.parquet")["name"].tolist()
    else:
        back = [r["name"] for r in json.loads(out.read_text())["tables"]["kernels"]]
    assert back == HOSTILE


def test_tui_csv_uses_the_same_rule() -> None:
    from trtscope.views.tui.data import to_csv

    # (pandas leaves a CR inside a cell unquoted when lines end in LF: a CR name is not round-trippable there)
    f = frame()[[not v.startswith("\r") for v in HOSTILE]]
    names = f["name"].tolist()
    rows = read_cells(to_csv(f))
    assert [r["name"] for r in rows] == [expected(v) for v in names]
    assert [r["layer_name"] for r in rows] == [expected(v) for v in names]
    assert [int(r["start_ns"]) for r in rows] == f["start_ns"].tolist()


def test_column_names_are_neutralised_too() -> None:
    from trtscope.views.tui.data import to_csv

    header = to_csv(pd.DataFrame({"=cmd": ["x"], "ok": [1]})).splitlines()[0]
    assert header == "'=cmd,ok"
