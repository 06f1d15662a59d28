"""NVTXT files through Nsight Systems' own ImportNvtxt (marker ``nsight``; skipped where it is not installed).

ImportNvtxt is found through ``TRTSCOPE_IMPORTNVTXT`` or PATH (``.ci/run`` unpacks Debian's nsight-systems
2022.4 for CI). Where ``nsys`` is also found (``TRTSCOPE_NSYS`` or PATH), the report is exported to JSON and the
names read back, byte for byte. Expected counts, starts and ends come from the file's own event lines.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import own_fixture, shared_fixture
from tests.test_nvtxt import export, parse_events
from trtscope.cli.main import main
from trtscope.exporters.nvtxt import quote, run_importnvtxt

pytestmark = pytest.mark.nsight


def _tool(env: str, name: str) -> str:
    p = os.environ.get(env) or shutil.which(name)
    if not p or not Path(p).is_file():
        pytest.skip(f"{name} not found (set {env} or put it on PATH; .ci/run fetches Nsight Systems 2022.4)")
    return p


@pytest.fixture(scope="module")
def importnvtxt() -> str:
    return _tool("TRTSCOPE_IMPORTNVTXT", "ImportNvtxt")


def _create(tool: str, nvtxt: Path, out: Path) -> str:
    run = run_importnvtxt([tool, "--cmd", "create", "-n", str(nvtxt), "-o", str(out)])
    assert run.returncode == 0 and "error" not in run.output.lower(), run.output
    return run.output


def _info(tool: str, report: Path) -> tuple[int, int]:
    out = run_importnvtxt([tool, "--cmd", "info", "-i", str(report)]).output
    vals = dict(line.split("\t") for line in out.strip().splitlines() if "\t" in line)
    return int(vals["Analysis start (ns)"]), int(vals["Analysis end (ns)"])


REAL = {
    "trex-fp16": lambda: shared_fixture("trex", "a100-resnet18-fp16"),
    "trex-fp32": lambda: shared_fixture("trex", "a100-resnet18-fp32"),
    "trex-qat": lambda: shared_fixture("trex", "a100-resnet18-qat"),
    "trex-mobilenet": lambda: shared_fixture("trex", "mobilenet-qat"),
    "trex-rtx3090": lambda: shared_fixture("trex", "rtx3090-tf-resnet50-fp16"),
    "trt10-mnist": lambda: shared_fixture("trt10-h100-mnist", "trtexec-dumpProfile.log"),
    "capture": lambda: own_fixture("h100-torch-capture.trtscope"),
    "nsys": lambda: shared_fixture("nsys", "fuser-h100x8-matmul-nsys2024.6.2", "report1.sqlite"),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_importnvtxt_creates_a_report_with_every_event(name: str, importnvtxt: str, tmp_path: Path) -> None:
    nv = tmp_path / f"{name}.nvtxt"
    _, ev = export(REAL[name](), nv)
    out = _create(importnvtxt, nv, tmp_path / f"{name}.nsys-rep")
    assert f"{len(ev)} events imported" in out  # none skipped: no zero-length range, no parse error
    # info reports the session in whole milliseconds around the first and last time value
    lo, hi = min(e.start for e in ev), max(e.end for e in ev)
    assert _info(importnvtxt, tmp_path / f"{name}.nsys-rep") == (lo // 10**6 * 10**6, -(-hi // 10**6) * 10**6)


def test_merge_into_a_report_made_from_another_nvtxt(importnvtxt: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path / "base.nvtxt"
    base.write_text("@RangeStartEnd, Start, End, ThreadId, Message\nProcessId = 42\nTimeBase = Manual\n"
                    'RangeStartEnd, 5000000000, 5000100000, 1, "app step 1"\n'
                    'RangeStartEnd, 5900000000, 6000000000, 1, "app step 2"\n')
    _create(importnvtxt, base, tmp_path / "base.nsys-rep")
    src = shared_fixture("trex", "a100-resnet18-fp16")
    out = tmp_path / "merged.nsys-rep"
    monkeypatch.setenv("TRTSCOPE_IMPORTNVTXT", importnvtxt)
    rc = main(["nsys", "merge", str(tmp_path / "base.nsys-rep"), str(src), "-o", str(out), "--at", "5200000000"])
    text = capsys.readouterr().out
    _, ev = parse_events(tmp_path / "merged.nvtxt")
    assert rc == 0 and out.is_file()
    assert f"{len(ev)} events imported of {len(ev)} written" in text
    # without --at the synthetic file (from 0 ns) lies before the report: ImportNvtxt imports nothing
    assert main(["nsys", "merge", str(tmp_path / "base.nsys-rep"), str(tmp_path / "merged.nvtxt"), "-o",
                 str(tmp_path / "m2.nsys-rep")]) == 2
    assert "outside the report's time window" in capsys.readouterr().err


NAMES = [
    "conv1 + relu1",
    "{ForeignNode[/model/layer1/Conv.../model/layer1/Relu]}",
    "Reformatting CopyNode for Input Tensor 0 to {ForeignNode[node_conv2d_1...node_relu_1]}",
    'node "quoted", with comma',
    "it's a node",
    "meta[ONNX Layer: /a/Conv]\x1e[ONNX Layer: /a/Relu]\x1f[ONNX Layer: /b]",
    "say \"hi\" it's",
    "two\nlines",
    "ends in \\",
    "tab\there é ✓ 😀 $x ${y} %z% #h",
]


def test_names_survive_the_round_trip(importnvtxt: str, tmp_path: Path) -> None:
    lines = ["@RangeStartEnd, Start, End, ThreadId, Message", "ProcessId = 7", "TimeBase = Manual"]
    lines += [f"RangeStartEnd, {1000 * (i + 1)}, {1000 * (i + 1) + 500}, 1, {quote(n)}" for i, n in enumerate(NAMES)]
    nv = tmp_path / "names.nvtxt"
    nv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = _create(importnvtxt, nv, tmp_path / "names.nsys-rep")
    assert f"{len(NAMES)} events imported" in out
    nsys = os.environ.get("TRTSCOPE_NSYS") or shutil.which("nsys")
    if not nsys:
        pytest.skip("nsys not found (TRTSCOPE_NSYS): imported, but the texts cannot be read back here")
    subprocess.run([nsys, "export", "--type", "json", "-f", "true", "-o", str(tmp_path / "names.json"),
                    str(tmp_path / "names.nsys-rep")], capture_output=True, check=True, timeout=300)
    texts = [json.loads(line)["NvtxtEvent"]["Nvtx"]["Text"]
             for line in (tmp_path / "names.json").read_text(encoding="utf-8").splitlines() if "NvtxtEvent" in line]
    exact = {n: n for n in NAMES}
    # what the format cannot hold, as quote() documents it
    exact["say \"hi\" it's"] = "say \\\"hi\\\" it's"
    exact["two\nlines"] = "two␤lines"
    exact["ends in \\"] = "ends in \\ "
    assert texts == [exact[n] for n in NAMES]
