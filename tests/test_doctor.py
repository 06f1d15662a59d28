"""``trtscope doctor`` on this machine: it must run without GPU, driver or TensorRT and say what is missing.

Expected values are derived independently from the environment (importlib probes), not from doctor itself.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from trtscope.cli.main import main


def _doctor_json(capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    assert main(["doctor", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _nvml_works() -> bool:
    try:
        import pynvml

        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
        return True
    except Exception:
        return False


def _real(name: str) -> bool:
    try:
        mod = importlib.import_module(name)
    except Exception:
        return False
    return hasattr(mod, "Builder") and hasattr(mod, "Runtime")


def test_json_report_matches_this_machine(capsys: pytest.CaptureFixture[str]) -> None:
    rep = _doctor_json(capsys)
    checks = {c["name"]: c for c in rep["checks"]}
    assert set(checks) == {
        "NVML (pynvml)",
        "TensorRT (tensorrt)",
        "TensorRT-RTX (tensorrt_rtx)",
        "cuda-python",
        "CUPTI (cupti-python)",
        "nvtx",
        "NVTX_INJECTION64_PATH",
    }
    assert checks["TensorRT (tensorrt)"]["ok"] == _real("tensorrt")
    assert checks["TensorRT-RTX (tensorrt_rtx)"]["ok"] == _real("tensorrt_rtx")
    assert checks["nvtx"]["ok"] == (importlib.util.find_spec("nvtx") is not None)
    assert checks["NVML (pynvml)"]["ok"] == _nvml_works()
    assert rep["capabilities"]["analysis"] is True
    for c in rep["checks"]:
        assert c["enables"]
        if not c["ok"]:
            assert c["how"], c["name"]  # everything missing says how to get it
    if not _nvml_works():
        assert rep["gpus"] == [] and rep["capabilities"]["profile"] is False
        assert rep["capabilities"]["kernels"] is False


def test_stubs_namespace_is_called_out(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.find_spec("tensorrt")
    if spec is None or _real("tensorrt"):
        pytest.skip("needs tensorrt-stubs' empty namespace package: pip install --no-deps tensorrt-stubs")
    checks = {c["name"]: c for c in _doctor_json(capsys)["checks"]}
    assert "empty namespace" in checks["TensorRT (tensorrt)"]["detail"]


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "TensorRT (tensorrt)" in out and "NVML" in out and "can do:" in out
    if not _nvml_works():
        assert "No NVIDIA GPU visible" in out


def test_rtx_runtime_support_rule() -> None:
    from trtscope.capture.doctor import rtx_runtime_supports

    # from TensorRT-RTX 1.7.1.116's own refusal on the H100: "Supported ... 8.0 8.6 8.9 12.0 12.1 >12.0"
    assert not rtx_runtime_supports("9.0") and not rtx_runtime_supports("7.5")
    assert all(rtx_runtime_supports(c) for c in ("8.0", "8.6", "8.9", "12.0", "12.1", "13.0"))
    assert rtx_runtime_supports("unknown")


def test_rtx_on_h100_cannot_profile() -> None:
    from trtscope.capture.doctor import Check, _rtx_runs_here

    check = Check("TensorRT-RTX (tensorrt_rtx)", True, "tensorrt_rtx 1.7.1.116", "profile")
    assert not _rtx_runs_here(check, [{"compute_capability": "9.0"}])
    assert "refuses compute capability 9.0" in check.detail
    assert _rtx_runs_here(Check("x", True, "d", "e"), [{"compute_capability": "8.9"}])
