"""Nsight Compute commands: NVTX configurations escaped as the Nsight Compute CLI guide says, launch counts from
the capture's own tables, shell quoting that survives real TensorRT layer names."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest

import trtscope
from tests.conftest import own_fixture, shared_fixture
from trtscope.cli.main import main
from trtscope.errors import TrtscopeError
from trtscope.exporters.ncu import escape_nvtx, kernel_name_filter, ncu_command, nvtx_configs

TORCH = "h100-torch-capture.trtscope"


def _unescape(cfg: str) -> str:
    """The literal text of an NVTX configuration (the guide: '\\' before @ , [ ] / * + and before '\\')."""
    return re.sub(r"\\(.)", r"\1", cfg)


def test_quantifiers_and_backslashes_are_escaped() -> None:
    assert escape_nvtx("conv1 + relu1") == "conv1 \\+ relu1"
    assert escape_nvtx("{ForeignNode[/a/b...c]}") == "{ForeignNode\\[\\/a\\/b...c\\]}"
    assert escape_nvtx("x@y,z*w") == "x\\@y\\,z\\*w"
    assert escape_nvtx("a\\b") == "a\\\\b"
    assert escape_nvtx('plain "name" (1) {2} $3') == 'plain "name" (1) {2} $3'


def test_push_pop_and_start_end_forms() -> None:
    assert nvtx_configs("fc2", "workload", ["push_pop", "start_end"]) == ["workload@fc2/", "workload@fc2"]
    assert nvtx_configs("a/b", None, ["push_pop"]) == ["a\\/b/"]  # default domain: no "@"


def test_kernel_name_filters_pick_the_name_base() -> None:
    assert kernel_name_filter(["nvjet_x"]) == ("function", "nvjet_x")
    assert kernel_name_filter(["_ZN2at6native3fooEv"]) == ("mangled", "_ZN2at6native3fooEv")
    assert kernel_name_filter(["void f<2>(int)", "void g(float*)"]) == (
        "demangled", "regex:^(void\\ f<2>\\(int\\)|void\\ g\\(float\\*\\))$")
    assert kernel_name_filter(["_Zfoo", "plain"]) is None


def test_bundle_ranges_give_domain_and_kernels_give_launch_counts() -> None:
    b = own_fixture(TORCH)
    k = pd.read_parquet(b / "tables" / "kernels.parquet")
    r = pd.read_parquet(b / "tables" / "nvtx_ranges.parquet")
    fc2 = k[k["layer_name"] == "fc2"]
    per_exec = fc2.groupby("nvtx_range_id").size()
    assert per_exec.nunique() == 1
    n = int(per_exec.iloc[0])
    domain = r.loc[r["name"] == "fc2", "domain"].unique().tolist()
    c = ncu_command(trtscope.load(b), "fc2", ["python3", "w.py"], execution=3, executions=2)
    argv = c.argv
    assert argv[:2] == ["ncu", "--nvtx"]
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--nvtx-include"] == [f"{domain[0]}@fc2/",
                                                                                  f"{domain[0]}@fc2"]
    assert argv[argv.index("--launch-skip") + 1] == str(3 * n)
    assert argv[argv.index("--launch-count") + 1] == str(2 * n)
    assert "--kernel-name" not in argv and argv[-2:] == ["python3", "w.py"]
    with_names = ncu_command(trtscope.load(b), "fc2", ["x"], kernel_names=True).argv
    assert with_names[with_names.index("--kernel-name") + 1] == fc2["name"].iloc[0]


@pytest.mark.parametrize("fixture", [("trex", "a100-resnet18-qat"), ("trex", "rtx3090-tf-resnet50-fp16"),
                                     ("trt10-h100-mnist", "trtexec-dumpProfile.log")])
def test_real_layer_names_survive_shell_quoting(fixture: tuple[str, str]) -> None:
    a = trtscope.load(shared_fixture(*fixture))
    for name in a.layers["name"].tolist():
        c = ncu_command(a, name, ["trtexec", "--loadEngine=my model.plan"])
        back = shlex.split(c.command)
        assert back == c.argv
        cfgs = [back[i + 1] for i, x in enumerate(back) if x == "--nvtx-include"]
        assert [_unescape(x) for x in cfgs] == [f"TensorRT@{name}/", f"TensorRT@{name}"]
        assert "--launch-count" not in back  # no capture: kernels per execution unknown, said in a note
        assert any("kernels per execution unknown" in n for n in c.notes)


def test_unknown_layer_and_missing_runner_are_clear_errors() -> None:
    a = trtscope.load(own_fixture(TORCH))
    with pytest.raises(TrtscopeError, match="no layer named 'fc9'"):
        ncu_command(a, "fc9", ["x"])
    with pytest.raises(TrtscopeError, match="no command to profile"):
        ncu_command(a, "fc2", [])


def test_cli_top_layers_with_trtexec_runner(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = shared_fixture("trex", "a100-resnet18-fp16")
    raw = json.loads((src / "resnet.onnx.engine.profile.json").read_text())
    top = sorted((r for r in raw if isinstance(r, dict) and "name" in r), key=lambda r: -r["averageMs"])[:2]
    assert main(["ncu", "command", str(src), "--top", "2", "--engine", "m.plan", "-o", "hot", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [d["layer"] for d in doc] == [r["name"] for r in top]
    assert [d["argv"][d["argv"].index("-o") + 1] for d in doc] == ["hot-1", "hot-2"]
    assert doc[0]["argv"][-5:] == ["trtexec", "--loadEngine=m.plan", "--warmUp=0", "--duration=0", "--iterations=1"]
    assert main(["ncu", "command", str(src), "--layer", "nope", "--engine", "m.plan"]) == 2
