"""Format variations seen in public TensorRT artifacts (docs/inputs.md, "Seen in the wild"), each reproduced by a
small input the test types itself; expected values are computed from that input, never read from trtscope."""

from __future__ import annotations

from pathlib import Path

import pytest

import trtscope
from trtscope.parsers.detect import sniff
from trtscope.parsers.log_facts import facts_from_log
from trtscope.parsers.profile import profile_from_log

# (name, total ms, average ms, median ms, share %): names with spaces, brackets, colons and a trailing number
ROWS = [
    ("Reformatting CopyNode for Input Tensor 0 to conv1 + relu1", 12.5, 0.0391, 0.0380, 2.1),
    ("conv1 + relu1", 310.25, 0.9695, 0.9650, 52.4),
    ("model/add/x:0 + (Unnamed Layer* 7) [Shuffle] + model/add", 41.0, 0.1281, 0.1200, 6.9),
    ("{ForeignNode[attn/MatMul...attn/Softmax]}", 220.5, 0.6891, 0.6800, 37.2),
    ("head 12", 8.0, 0.0250, 0.0240, 1.4),
]


def _name_first_table(iters: int, prefix: str, median: bool, avg_digits: int) -> str:
    """The table trtexec 7.1-8.5 prints (samples/common/sampleReporting.cpp, Profiler::print): the name right-aligned
    to the longest name + 1, then fields as wide as their headers."""
    width = max(len("Layer"), max(len(r[0]) for r in ROWS) + 1)
    head = "Layer".rjust(width) + "   Time (ms)   Avg. Time (ms)"
    head += ("   Median Time (ms)" if median else "") + "   Time %"
    lines = ["&&&& RUNNING TensorRT.trtexec [TensorRT v8502] # trtexec --loadEngine=m.engine --dumpProfile",
             f"{prefix}=== Profile ({iters} iterations ) ===", prefix + head]
    total = [0.0, 0.0, 0.0]
    for name, t, a, m, p in ROWS:
        row = name.rjust(width) + f"{t:12.2f}" + f"{a:17.{avg_digits}f}"
        row += (f"{m:19.4f}" if median else "") + f"{p:9.1f}"
        lines.append(prefix + row)
        total = [total[0] + t, total[1] + a, total[2] + m]
    lines.append(prefix + "Total".rjust(width) + f"{total[0]:12.2f}" + f"{total[1]:17.{avg_digits}f}"
                 + (f"{total[2]:19.4f}" if median else "") + f"{100.0:9.1f}")
    lines.append(prefix)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("prefix", "median", "avg_digits"), [
    ("[10/21/2025-16:00:14] [I] ", True, 4),  # 8.4 / 8.5 (XMR13/ALPR_Jetson, TensorRT 8.5.2 on Xavier)
    ("[I] ", False, 2),  # 7.1 (ismetdagli/HaX-CoNN README, TensorRT 7.1.3 on Xavier AGX)
    ("", False, 4),  # 8.0 - 8.2, no logger prefix
])
def test_name_first_dump_profile_table(tmp_path: Path, prefix: str, median: bool, avg_digits: int) -> None:
    text = _name_first_table(320, prefix, median, avg_digits)
    prof = profile_from_log(text, "p.log")
    assert prof is not None and prof.count == 320
    assert prof.times["name"].tolist() == [r[0] for r in ROWS]
    assert prof.times["total_ms"].tolist() == [round(r[1], 2) for r in ROWS]
    assert prof.times["mean_ms"].tolist() == [round(r[2], avg_digits) for r in ROWS]
    assert prof.times["percentage"].tolist() == [round(r[4], 1) for r in ROWS]
    if median:
        assert prof.times["median_ms"].tolist() == [r[3] for r in ROWS]
    else:
        assert prof.times["median_ms"].isna().all()
    # found by content in a directory, not only when named
    path = tmp_path / "run.log"
    path.write_text(text)
    a = trtscope.load(tmp_path)
    assert a.layers["name"].tolist() == [r[0] for r in ROWS]
    assert a.summary.total_ms == pytest.approx(sum(round(r[2], avg_digits) for r in ROWS))


def test_name_first_table_stops_at_a_row_it_cannot_read() -> None:
    lines = _name_first_table(10, "[I] ", True, 4).split("\n")
    at = next(i for i, line in enumerate(lines) if "head 12" in line)
    lines[at] = lines[at].rsplit(None, 1)[0] + "      n/a"  # a share that is no number: not a row
    text = "\n".join(lines)
    warnings: list[str] = []
    prof = profile_from_log(text, "p.log", warnings)
    assert prof is not None and prof.times["name"].tolist() == [r[0] for r in ROWS[:-1]]
    assert any("without its Total row" in w for w in warnings)


@pytest.mark.parametrize(("code", "version"), [("8502", "8.5.2"), ("8601", "8.6.1"), ("8410", "8.4.10"),
                                                ("101601", "10.16.1")])
def test_banner_version_codes(code: str, version: str) -> None:
    # TensorRT 8 encodes major*1000 + minor*100 + patch, 10+ major*10000 + minor*100 + patch
    text = f"&&&& RUNNING TensorRT.trtexec [TensorRT v{code}] # trtexec --onnx=m.onnx\n"
    assert facts_from_log(text)["tensorrt_version"] == version


def test_sniffed_name_first_log_is_a_profile(tmp_path: Path) -> None:
    path = tmp_path / "cct.log"
    path.write_text(_name_first_table(5, "[10/21/2025-16:00:14] [I] ", True, 4))
    found = sniff(path)
    assert found.profile is not None and len(found.profile.times) == len(ROWS)
    assert found.metadata.get("tensorrt_version") == "8.5.2"
