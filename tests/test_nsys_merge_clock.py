"""A capture's NVTXT (TimeBase ClockMonotonicRaw) merged into a report that Nsight Systems' own ``nsys profile``
made on this machine lands on the events nsys recorded at the same moments (marker ``nsight``).

A small program, profiled by ``nsys profile --trace=nvtx``, opens NVTX ranges through the NVTX C API and reads
CLOCK_MONOTONIC just before and just after each push and pop, with trtscope's capture clock recorder
(CLOCK_MONOTONIC/CLOCK_MONOTONIC_RAW pairs) around it all. A bundle holding those ranges (at the midpoints of
the readings) is merged with ``trtscope nsys merge``; the merged report, exported by nsys, must place each
merged range within the readings' bracket of the range nsys itself recorded. Needs ``nsys`` and ``ImportNvtxt``
(``.ci/run`` unpacks Debian's nsight-systems 2022.4) and a C compiler for the NVTX calls (the Python ``nvtx``
package's ranges are not recorded by nsys 2022.4).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.test_nvtxt_tool import _tool
from trtscope.bundle.writer import BundleWriter
from trtscope.cli.main import main
from trtscope.exporters.nvtxt import conversion_targets, time_bases, write_shifted
from trtscope.model.tables import NVTX_RANGE_COLUMNS

EMITTER = """#include <nvtx3/nvToolsExt.h>
void push(const char* m) { nvtxRangePushA(m); }
void pop(void) { nvtxRangePop(); }
"""
APP = """import ctypes, json, os, sys, threading, time
from trtscope.capture.clocks import RawClockRecorder
lib = ctypes.CDLL(sys.argv[2])
rec = RawClockRecorder(mono=time.monotonic_ns)
rec.start()
ranges = []
for i in range(6):
    a = time.monotonic_ns(); lib.push(f"ref {i}".encode()); b = time.monotonic_ns()
    time.sleep(0.02 + 0.005 * i)
    c = time.monotonic_ns(); lib.pop(); d = time.monotonic_ns()
    ranges.append([i, a, b, c, d])
    time.sleep(0.1)
json.dump({"alignment": rec.stop(), "ranges": ranges, "pid": os.getpid(), "tid": threading.get_native_id()},
          open(sys.argv[1], "w"))
"""


def _nvtx_include(nsys: str) -> Path:
    for d in (Path(nsys).resolve().parent / "nvtx" / "include", Path("/usr/local/cuda/include")):
        if (d / "nvtx3" / "nvToolsExt.h").is_file():
            return d
    pytest.skip("no NVTX headers (nvtx3/nvToolsExt.h) beside nsys or in /usr/local/cuda/include")


@pytest.mark.nsight
def test_monotonic_raw_ranges_land_on_the_ranges_nsys_recorded(tmp_path: Path) -> None:
    nsys = _tool("TRTSCOPE_NSYS", "nsys")
    _tool("TRTSCOPE_IMPORTNVTXT", "ImportNvtxt")
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the NVTX emitter")
    (tmp_path / "emit.c").write_text(EMITTER)
    lib = tmp_path / "libemit.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-I", str(_nvtx_include(nsys)), "-o", str(lib),
                    str(tmp_path / "emit.c"), "-ldl"], check=True, capture_output=True)
    (tmp_path / "app.py").write_text(APP)
    facts = tmp_path / "app.json"
    prof = subprocess.run([nsys, "profile", "--trace=nvtx", "--sample=none", "--cpuctxsw=none", "-o",
                           str(tmp_path / "rep"), sys.executable, str(tmp_path / "app.py"), str(facts), str(lib)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    report = tmp_path / "rep.nsys-rep"
    if prof.returncode != 0 or not report.is_file():
        pytest.skip(f"nsys profile cannot profile here: {(prof.stdout + prof.stderr).strip()[-300:]}")
    app = json.loads(facts.read_text())
    assert app["alignment"]["clock"] == "CLOCK_MONOTONIC_RAW" and "start" in app["alignment"]

    rows = [(i, f"mirror {i}", "trtscope-check", (a + b) // 2, (c + d) // 2, app["pid"], app["tid"], 0, None)
            for i, a, b, c, d in app["ranges"]]
    bundle = tmp_path / "check.trtscope"
    with BundleWriter(bundle, kind="capture", command=["test"]) as w:
        w.write_table("nvtx_ranges", pd.DataFrame(rows, columns=list(NVTX_RANGE_COLUMNS)))
        w.update(clock_alignment={"monotonic_raw": app["alignment"]})
    merged = tmp_path / "merged.nsys-rep"
    assert main(["nsys", "merge", str(report), str(bundle), "-o", str(merged)]) == 0
    assert time_bases(tmp_path / "merged.nvtxt") == {"ClockMonotonicRaw"}

    for kind in ("sqlite", "json"):
        subprocess.run([nsys, "export", "--type", kind, "-o", str(tmp_path / f"merged.{kind}"), str(merged)],
                       check=True, capture_output=True, timeout=300)
    with sqlite3.connect(tmp_path / "merged.sqlite") as db:  # what nsys recorded (NVTX push/pop ranges)
        native = {t: (s, e) for s, e, t in db.execute("SELECT start, end, text FROM NVTX_EVENTS WHERE eventType = 59")}
    imported = {}
    for line in (tmp_path / "merged.json").read_text().splitlines():
        if '"NvtxtEvent"' in line:
            ev = json.loads(line)["NvtxtEvent"]["Nvtx"]
            imported[ev["Text"]] = (int(ev["Timestamp"]), int(ev["EndTimestamp"]))
    assert len(native) == len(imported) == len(app["ranges"])
    for i, a, b, c, d in app["ranges"]:
        ns, ne = native[f"ref {i}"]
        ms, me = imported[f"mirror {i}"]
        # within the readings' bracket around each push and pop, plus 50 us for the clock pairing itself
        assert abs(ms - ns) <= (b - a) // 2 + 50_000, (i, ms - ns)
        assert abs(me - ne) <= (d - c) // 2 + 50_000, (i, me - ne)


FAILURE = """Merging "rep.nsys-rep" into "out.nsys-rep"
Importing nvtxt file: "x.nvtxt"
x.nvtxt: Parsing error at line 18: Failed to find conversion routine chain. LocatorFrom: LocatorByGlobalId(:0:0), \
LocatorTo: LocatorSession. Available conversions (4):
LocatorFrom: LocatorByGlobalId(:0:1), LocatorTo: LocatorSession
LocatorFrom: LocatorByGlobalId(:0:1), LocatorTo: LocatorByGlobalId(:0:1)
LocatorFrom: LocatorByGlobalId(:3:7), LocatorTo: LocatorSession
LocatorFrom: LocatorSession, LocatorTo: LocatorSession
"""


def test_conversion_targets_are_the_ones_offered_not_the_one_asked_for() -> None:
    """ImportNvtxt 2022.4's message (as it printed it on a real report) first names the conversion it looked
    for (0:0), then lists the ones the report has: only machines with a conversion to the session count."""
    assert conversion_targets(FAILURE) == ["0:1", "3:7"]
    assert conversion_targets("Merging ... 8 events imported") == []


def test_shifted_copy_moves_event_times_only(tmp_path: Path) -> None:
    """Every range's start and end and every marker's time move by the shift; nothing else changes (messages that
    hold digits and commas included)."""
    lines = [
        "# NVTXT written by trtscope 0.0 from x", "# 2 ranges and 1 markers (3 events); time values 5 .. 90 ns",
        "@RangeStartEnd, Start, End, ThreadId, CategoryId, Color, Message",
        "@Marker, Time, ThreadId, CategoryId, Color, Message", "TimeBase = ClockMonotonicRaw", "ProcessId = 16770000",
        'RangeStartEnd, 5, 40, 1, 11, 0xFFEDC948, "layer 7, 12 kernels"',
        'RangeStartEnd, 50, 90, 2, 10, 0xFF000000, "RangeStartEnd, 1, 2,"',
        'Marker, 60, 3, 12, 0xFF00FF00, "NVML GPU 0: GPU 87 %"',
    ]
    src, dst = tmp_path / "a.nvtxt", tmp_path / "b.nvtxt"
    src.write_text("\n".join(lines) + "\n")
    write_shifted(src, dst, 1000)
    got = dst.read_text().splitlines()
    expected = [
        *lines[:6],
        'RangeStartEnd, 1005, 1040, 1, 11, 0xFFEDC948, "layer 7, 12 kernels"',
        'RangeStartEnd, 1050, 1090, 2, 10, 0xFF000000, "RangeStartEnd, 1, 2,"',
        'Marker, 1060, 3, 12, 0xFF00FF00, "NVML GPU 0: GPU 87 %"',
    ]
    assert got == expected and time_bases(src) == {"ClockMonotonicRaw"}
    (tmp_path / "c.nvtxt").write_text("TimeBase = Relative\nRangeStartEnd, 1, 2, 1, 1, 0, \"x\"\n")
    with pytest.raises(Exception, match="not an NVTXT file trtscope wrote"):
        write_shifted(tmp_path / "c.nvtxt", tmp_path / "d.nvtxt", 5)


STAND_IN = """#!{python}
# Replays ImportNvtxt 2022.4 for the merge of a ClockMonotonicRaw file: the failure message it printed on a real
# report (FAILURE above, machines 0:1 and 3:7) for a missing or unknown --target, else a copy of the report.
import shutil, sys
a = sys.argv[1:]
arg = lambda k: a[a.index(k) + 1] if k in a else None
if arg("--cmd") == "info":
    print("Analysis start (ns)\\t1000\\nAnalysis end (ns)\\t9000")
    sys.exit(0)
nv = arg("-n")
open({log!r}, "a").write(open(nv).read())
if arg("--target") not in ("0:1", "3:7"):
    print({failure!r}.replace("x.nvtxt", nv).replace("0:0", arg("--target") or "0:0"))
    sys.exit(1)
shutil.copy(arg("-i"), arg("-o"))
print("2 events imported")
"""


def test_merge_target_errors_name_the_users_file_and_the_reports_machines(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """With several machines and no --target, or a --target the report has no conversion for, the error is one
    line naming the user's file (not the moved copy ImportNvtxt read) and the machines ImportNvtxt listed; no
    temporary file is left; with a listed --target the copy ImportNvtxt reads is moved by the analysis start."""
    log = tmp_path / "fed.log"
    tool = tmp_path / "ImportNvtxt"
    tool.write_text(STAND_IN.format(python=sys.executable, log=str(log), failure=FAILURE))
    tool.chmod(0o755)
    monkeypatch.setenv("TRTSCOPE_IMPORTNVTXT", str(tool))
    work = tmp_path / "w"
    work.mkdir()
    rep, nv, out = work / "rep.nsys-rep", work / "x.nvtxt", work / "out.nsys-rep"
    rep.write_bytes(b"report")
    lines = ["# NVTXT written by trtscope 0.0 from t", "# 2 ranges and 0 markers (2 events); time values 5 .. 90 ns",
             "@RangeStartEnd, Start, End, ThreadId, CategoryId, Color, Message", "TimeBase = ClockMonotonicRaw",
             "ProcessId = 1", 'RangeStartEnd, 5, 40, 1, 11, 0xFF000000, "a"',
             'RangeStartEnd, 50, 90, 1, 11, 0xFF000000, "b"']
    nv.write_text("\n".join(lines) + "\n")
    before = sorted(p.name for p in work.iterdir())
    for extra, says in (([], "the report's machines: 0:1, 3:7: pick one with --target"),
                        (["--target", "0:9"], "on machine 0:9 (--target): the report's machines: 0:1, 3:7")):
        capsys.readouterr()
        assert main(["nsys", "merge", str(rep), str(nv), "-o", str(out), *extra]) == 2
        err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("trtscope: error")]
        assert len(err) == 1 and says in err[0] and f"{nv}'s TimeBase" in err[0], err
        assert sorted(p.name for p in work.iterdir()) == before
    log.unlink()
    assert main(["nsys", "merge", str(rep), str(nv), "-o", str(out), "--target", "3:7"]) == 0
    assert out.read_bytes() == b"report" and sorted(p.name for p in work.iterdir()) == sorted([*before, out.name])
    fed = log.read_text().splitlines()
    assert fed[-2:] == ['RangeStartEnd, 1005, 1040, 1, 11, 0xFF000000, "a"',
                        'RangeStartEnd, 1050, 1090, 1, 11, 0xFF000000, "b"']
