"""A TensorRT 10 profile that times each Myelin region as its parts (``…_myl<R>_<I>``) pairs with a layer listing
that names the region as one ``{ForeignNode[…]}`` layer: the real TensorRT 10.16 MNIST set's verbose build log and
its ``--dumpProfile`` log come from one engine (fixture SOURCE.md). Expected values are read from the raw logs here,
by regular expressions of this test, not by trtscope's readers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import shared_fixture
from trtscope.cli.main import main

_ROW = re.compile(r"^\[[^]]*\] \[I\]\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(.+?)\s*$")
_LAYER = re.compile(r"^Layer\((\w+)\): (.+?), Tactic: ")
_PART = re.compile(r"_myl(\d+)_\d+$")


def _mnist(name: str) -> Path:
    return shared_fixture("trt10-h100-mnist", name)


def _raw_profile(path: Path) -> list[tuple[str, float]]:
    """(layer, average ms) rows of the --dumpProfile table, in order, without the Total row."""
    rows = []
    table = False
    for line in path.read_text().splitlines():
        if "=== Profile (" in line:
            table = True
            continue
        m = _ROW.match(line) if table else None
        if m and m.group(5) != "Total":
            rows.append((m.group(5), float(m.group(2))))
    return rows


def _raw_layers(path: Path) -> list[tuple[str, str]]:
    """(type, name) of the verbose build log's 'Engine Layer Information' listing, in order."""
    lines = path.read_text().splitlines()
    start = next(i for i, x in enumerate(lines) if x.endswith("Engine Layer Information:"))
    out = []
    for x in lines[start + 1:]:
        m = _LAYER.match(x)
        if not m:
            break
        out.append((m.group(1), m.group(2)))
    return out


def _expected() -> tuple[dict[str, float], int, int]:
    """Each listed layer's time: its own profile row, or for a Myelin layer the sum of the next run of parts."""
    prof = _raw_profile(_mnist("trtexec-dumpProfile.log"))
    layers = _raw_layers(_mnist("trtexec-build-verbose.log"))
    own = dict(prof)
    runs: list[list[float]] = []
    region = None
    for name, ms in prof:
        m = _PART.search(name)
        if m is None:
            region = None
            continue
        if m.group(1) != region:
            runs.append([])
            region = m.group(1)
        runs[-1].append(ms)
    myelin = [name for kind, name in layers if kind == "Myelin"]
    assert len(myelin) == len(runs) == 3  # what the fixture holds: three regions, each profiled as parts
    expected = {name: own[name] for _, name in layers if name in own}
    expected.update({name: sum(run) for name, run in zip(myelin, runs, strict=True)})
    assert len(expected) == len(layers)
    return expected, sum(len(r) for r in runs), len(runs)


def test_myelin_parts_are_summed_into_their_region_layers(capsys: pytest.CaptureFixture[str]) -> None:
    expected, parts, regions = _expected()
    rc = main(["report", "--layers", str(_mnist("trtexec-build-verbose.log")),
               "--profile", str(_mnist("trtexec-dumpProfile.log")), "--json"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    got = {lay["name"]: lay["mean_ms"] for lay in doc["layers"]}
    assert got.keys() == expected.keys()
    for name, ms in expected.items():
        assert got[name] == pytest.approx(ms, abs=1e-9), name
    total = sum(ms for _, ms in _raw_profile(_mnist("trtexec-dumpProfile.log")))
    assert doc["summary"]["total_ms"] == pytest.approx(total, abs=1e-9)  # nothing lost or counted twice
    assert any(f"{parts} parts summed into the {regions} Myelin layers" in w for w in doc["warnings"])


def test_a_profile_of_another_build_is_still_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """The FP32 build's listing has Myelin layers too, but its other layers are not the profiled ones."""
    rc = main(["report", "--layers", str(_mnist("trtexec-dumpLayerInfo.log")),
               "--profile", str(_mnist("trtexec-dumpProfile.log"))])
    assert rc == 2
    assert "come from different engine builds" in capsys.readouterr().err


def test_a_region_without_profiled_parts_is_not_guessed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One region's parts removed from the profile: the runs no longer line up with the Myelin layers one for
    one, so nothing is paired by guesswork and the mismatch is reported."""
    src = _mnist("trtexec-dumpProfile.log").read_text().splitlines(keepends=True)
    first_region = _PART.search(_raw_profile(_mnist("trtexec-dumpProfile.log"))[0][0])
    assert first_region is not None
    drop = f"_myl{first_region.group(1)}_"
    kept = [x for x in src if drop not in x]
    assert len(kept) < len(src)
    cut = tmp_path / "profile.log"
    cut.write_text("".join(kept))
    rc = main(["report", "--layers", str(_mnist("trtexec-build-verbose.log")), "--profile", str(cut)])
    assert rc == 2
    assert "different engine builds" in capsys.readouterr().err


def _edited_profile(tmp_path: Path, edit: Callable[[list[str]], list[str]]) -> Path:
    lines = _mnist("trtexec-dumpProfile.log").read_text().splitlines(keepends=True)
    out = tmp_path / "profile.log"
    new = edit(lines)
    assert new != lines
    out.write_text("".join(new))
    return out


def _refused(profile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["report", "--layers", str(_mnist("trtexec-build-verbose.log")), "--profile", str(profile)])
    assert rc == 2
    assert "different engine builds" in capsys.readouterr().err


def test_parts_naming_another_regions_node_are_not_folded(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The first region's only named part renamed after a node of the last region: its run would be summed
    into a layer whose nodes it does not name (a profile of another engine, lined up by chance)."""
    first = next(n for n, _ in _raw_profile(_mnist("trtexec-dumpProfile.log"))
                 if _PART.search(n) and not n.startswith("__"))
    region = _PART.search(first)
    assert region is not None
    other = "node_softmax" + first[region.start():]
    _refused(_edited_profile(tmp_path, lambda ls: [x.replace(first, other) for x in ls]), capsys)


def test_layers_named_by_both_in_another_order_are_not_folded(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The two pooling layers' rows swapped: the counts before each run still line up, the order does not."""
    def swap(lines: list[str]) -> list[str]:
        i = next(k for k, x in enumerate(lines) if x.rstrip().endswith(" node_max_pool2d"))
        j = next(k for k, x in enumerate(lines) if x.rstrip().endswith(" node_max_pool2d_1"))
        out = list(lines)
        out[i], out[j] = lines[j], lines[i]
        return out

    _refused(_edited_profile(tmp_path, swap), capsys)


def test_a_part_without_a_time_leaves_its_region_without_one() -> None:
    """A sum over some of a region's parts would understate it: the region's mean is then missing, while a
    column every part has is still summed."""
    from trtscope.analysis.profile_pairing import fold_myelin_parts
    from trtscope.parsers.detect import sniff

    info = sniff(_mnist("trtexec-build-verbose.log")).layer_info
    prof = sniff(_mnist("trtexec-dumpProfile.log")).profile
    assert info is not None and prof is not None
    first_part = next(i for i, n in enumerate(prof.times["name"]) if _PART.search(n))
    prof.times.loc[first_part, "mean_ms"] = float("nan")
    folded = fold_myelin_parts(info, prof)
    assert folded is not None
    expected, _, _ = _expected()
    region = next(name for name in expected if name.startswith("{ForeignNode["))  # the first region's layer
    row = folded.profile.times.set_index("name").loc[region]
    assert pd.isna(row["mean_ms"])
    raw_total = sum(float(t) for n, t in zip(prof.times["name"], prof.times["total_ms"], strict=True)
                    if (m := _PART.search(n)) and m.group(1) == _PART.search(prof.times["name"][first_part]).group(1))
    assert row["total_ms"] == pytest.approx(raw_total)


def test_a_profile_with_samples_is_not_folded() -> None:
    """Per-iteration samples come only with a bundle's own profile; they are never re-keyed by guess."""
    from trtscope.analysis.profile_pairing import fold_myelin_parts
    from trtscope.parsers.detect import sniff

    info = sniff(_mnist("trtexec-build-verbose.log")).layer_info
    prof = sniff(_mnist("trtexec-dumpProfile.log")).profile
    assert info is not None and prof is not None
    assert fold_myelin_parts(info, prof) is not None
    t = prof.times
    prof.samples = pd.DataFrame({"iteration": [0] * len(t), "name": list(t["name"]),
                                 "occurrence": list(t["occurrence"]), "ms": list(t["mean_ms"])})
    assert fold_myelin_parts(info, prof) is None
