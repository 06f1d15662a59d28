"""Per-layer profile and per-iteration times readers (real trtexec exports; expected values from the raw files)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import shared_fixture
from trtscope.parsers.detect import sniff
from trtscope.parsers.profile import profile_from_log

TREX_SETS = [
    "a100-resnet18-fp32", "a100-resnet18-fp16", "a100-resnet18-qat", "mobilenet-qat", "rtx3090-tf-resnet50-fp16",
]


@pytest.mark.parametrize("folder", TREX_SETS)
def test_export_profile_json(folder: str) -> None:
    path = next(shared_fixture("trex", folder).glob("*.profile.json"))
    raw = json.loads(path.read_text())
    assert set(raw[0]) == {"count"}
    prof = sniff(path).profile
    assert prof is not None
    assert prof.count == raw[0]["count"]
    records = raw[1:]
    assert prof.times["name"].tolist() == [r["name"] for r in records]
    assert np.allclose(prof.times["mean_ms"], [r["averageMs"] for r in records])
    assert np.allclose(prof.times["total_ms"], [r["timeMs"] for r in records])
    assert np.allclose(prof.times["median_ms"], [r["medianMs"] for r in records])


@pytest.mark.parametrize("folder", TREX_SETS)
def test_export_times_json(folder: str) -> None:
    path = next(shared_fixture("trex", folder).glob("*.timing.json"))
    raw = json.loads(path.read_text())
    times = sniff(path).times
    assert times is not None and len(times) == len(raw)
    assert np.allclose(times["latency_ms"], [r["latencyMs"] for r in raw])
    assert np.allclose(times["compute_ms"], [r["computeMs"] for r in raw])
    assert np.allclose(times["enqueue_ms"], [r["endEnqMs"] - r["startEnqMs"] for r in raw])


def test_dump_profile_table_in_log() -> None:
    log = shared_fixture("trt10-h100-mnist", "trtexec-dumpProfile.log")
    text = log.read_text(errors="replace")
    iters = int(re.search(r"=== Profile \((\d+) iterations", text).group(1))  # type: ignore[union-attr]
    rows = []
    for line in text.split("\n"):
        m = re.match(r"^\[[^\]]+\] \[I\]\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(.+)$", line)
        if m and m.group(5) != "Total":
            rows.append((m.group(5), float(m.group(1)), float(m.group(2)), float(m.group(3))))
    prof = profile_from_log(text, log)
    assert prof is not None and prof.count == iters
    assert prof.times["name"].tolist() == [r[0] for r in rows]
    assert prof.times["total_ms"].tolist() == [r[1] for r in rows]
    assert prof.times["mean_ms"].tolist() == [r[2] for r in rows]
    assert prof.times["median_ms"].tolist() == [r[3] for r in rows]


def test_profile_with_unescaped_names_is_read_record_by_record(tmp_path: Path) -> None:
    # trtexec writes layer names without JSON escaping: a quote in a name breaks the document
    text = ('[\n  { "count" : 10 }\n, { "name" : "weird "quoted" \\ layer", "timeMs" : 1.5, "averageMs" : 0.15, '
            '"medianMs" : 0.14, "percentage" : 60 }\n, { "name" : "plain", "timeMs" : 1, "averageMs" : 0.1, '
            '"medianMs" : 0.1, "percentage" : 40 }\n]\n')
    p = tmp_path / "broken.profile.json"
    p.write_text(text)
    s = sniff(p)
    assert s.profile is not None
    assert s.profile.times["name"].tolist() == ['weird "quoted" \\ layer', "plain"]
    assert s.profile.count == 10
    assert any("not valid JSON" in w for w in s.warnings)


def test_profile_without_median(tmp_path: Path) -> None:
    p = tmp_path / "old.json"
    p.write_text(json.dumps([{"count": 4}, {"name": "a", "timeMs": 2.0, "averageMs": 0.5, "percentage": 100.0}]))
    prof = sniff(p).profile
    assert prof is not None
    assert prof.times["mean_ms"].tolist() == [0.5]
    assert prof.times["median_ms"].isna().all()


def test_repeated_names_get_occurrences(tmp_path: Path) -> None:
    p = tmp_path / "dup.json"
    recs = [{"name": n, "timeMs": 1.0, "averageMs": 1.0, "medianMs": 1.0, "percentage": 1.0} for n in "aba"]
    p.write_text(json.dumps([{"count": 1}, *recs]))
    prof = sniff(p).profile
    assert prof is not None
    assert prof.times["occurrence"].tolist() == [0, 0, 1]
