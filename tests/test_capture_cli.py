"""``trtscope profile`` on the command line: help, validation, and the one-line missing-TensorRT error."""

from __future__ import annotations

from pathlib import Path

import pytest

from trtscope.capture import trt_backend
from trtscope.cli.main import main


def _no_real_tensorrt() -> None:
    if any(trt_backend.probe_module(m).real for m in trt_backend.MODULES):
        pytest.skip("a real TensorRT is installed here; this test checks the message for when none is")


def test_profile_help_has_options_and_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["profile", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for opt in (
        "--shapes",
        "--fp16",
        "--warmup",
        "--iterations",
        "--duration",
        "--cuda-graph",
        "--nvml-hz",
        "--kernels",
        "--output",
        "--force",
        "--profile-iterations",
        "--trt-module",
    ):
        assert opt in out, opt
    assert "examples:" in out and "trtscope profile model.onnx --shapes input:1x3x224x224" in out


def test_doctor_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["doctor", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "--json" in out and "examples:" in out


def test_iterations_and_duration_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["profile", str(tmp_path / "m.onnx"), "--iterations", "5", "--duration", "2"])
    assert info.value.code == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--warmup", "-1"], "--warmup must be >= 0"),
        (["--nvml-hz", "5000"], "--nvml-hz must be between 0 and 1000"),
        (["--iterations", "0"], "--iterations must be > 0"),
    ],
)
def test_bad_numbers_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["profile", str(tmp_path / "m.onnx"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", str(tmp_path / "absent.onnx")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_build_options_need_onnx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    engine = tmp_path / "m.engine"
    engine.write_bytes(b"plan")
    assert main(["profile", str(engine), "--fp16"]) == 2
    assert "apply to ONNX input only" in capsys.readouterr().err


def test_missing_tensorrt_is_one_line_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _no_real_tensorrt()
    model = tmp_path / "m.onnx"
    model.write_bytes(b"\x08\x07")
    out = tmp_path / "run.trtscope"
    assert main(["profile", str(model), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trtscope: error: TensorRT is not available:")
    assert "pip install tensorrt" in err and "Traceback" not in err and err.count("\n") == 1
    assert not out.exists()  # no half-made bundle when nothing could run


def test_bad_shapes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"\x08\x07")
    assert main(["profile", str(model), "--shapes", "input=1x3"]) == 2
    assert "--shapes: cannot read" in capsys.readouterr().err
