"""The TensorRT glue's TensorRT-free parts: module detection, error messages, log format, shapes.

Tests marked ``trt`` build a tiny ONNX model with a real TensorRT (or TensorRT-RTX) and are skipped, with the
reason, where none is installed (tensorrt-stubs' empty namespace package does not count).
"""

from __future__ import annotations

import sys
import time
import types
from pathlib import Path

import pytest

from trtscope.capture import trt_backend
from trtscope.capture.backend import BuildOptions, LogRecord, ShapeSpec, format_log, parse_shapes
from trtscope.errors import MissingDependencyError, TrtscopeError


def _module(name: str, **attrs: object) -> types.ModuleType:
    m = types.ModuleType(name)
    for k, v in attrs.items():
        setattr(m, k, v)
    return m


def test_empty_namespace_is_not_tensorrt(monkeypatch: pytest.MonkeyPatch) -> None:
    # what tensorrt-stubs (or the PyPI placeholder without its libraries) gives: a module with no classes
    ns = _module("tensorrt")
    ns.__path__ = ["/site-packages/tensorrt"]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tensorrt", ns)
    st = trt_backend.probe_module("tensorrt")
    assert not st.real and st.problem is not None and "empty namespace" in st.problem
    assert st.location == "/site-packages/tensorrt"


def test_real_looking_module_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _module("tensorrt_rtx", Builder=object, Runtime=object, __version__="1.7.1.116")
    monkeypatch.setitem(sys.modules, "tensorrt_rtx", fake)
    monkeypatch.setitem(sys.modules, "tensorrt", _module("tensorrt"))
    st = trt_backend.probe_module("tensorrt_rtx")
    assert st.real and st.version == "1.7.1.116"
    assert trt_backend.import_tensorrt() is fake  # tensorrt is empty, so tensorrt_rtx is chosen


def test_missing_tensorrt_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", _module("tensorrt"))
    monkeypatch.setitem(sys.modules, "tensorrt_rtx", None)  # import raises ModuleNotFoundError
    with pytest.raises(MissingDependencyError) as info:
        trt_backend.import_tensorrt()
    msg = str(info.value)
    assert msg.startswith("TensorRT is not available:")
    assert "pip install tensorrt" in msg and "pip install tensorrt-rtx" in msg
    assert "tensorrt: imports as an empty namespace package" in msg and "tensorrt_rtx: not installed" in msg
    assert "\n" not in msg
    with pytest.raises(MissingDependencyError):
        trt_backend.TensorRTBackend()


def test_broken_install_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    real_import = importlib.import_module

    def fake_import(name: str, *a: object) -> object:
        if name == "tensorrt_rtx":
            raise OSError("libtensorrt_rtx.so.1: cannot open shared object file")
        return real_import(name, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(trt_backend.importlib, "import_module", fake_import)
    st = trt_backend.probe_module("tensorrt_rtx")
    assert not st.real and st.problem is not None and "OSError" in st.problem and "libtensorrt_rtx" in st.problem


def test_unknown_module_name() -> None:
    with pytest.raises(TrtscopeError, match="unknown TensorRT module"):
        trt_backend.import_tensorrt("tensorrt_lean")


def test_format_log_is_trtexec_shaped() -> None:
    t = time.mktime((2026, 11, 21, 15, 33, 57, 0, 0, -1))
    recs = [
        LogRecord(t, "VERBOSE", "Layers:\nName: a, LayerType: kgen\nName: b, LayerType: gemm"),
        LogRecord(t, "ERROR", "boom"),
        LogRecord(t, "WARNING", "w"),
        LogRecord(t, "INFO", "i"),
    ]
    out = format_log(recs).splitlines()
    assert out[0] == "[11/21/2026-15:33:57] [V] [TRT] Layers:"
    assert out[1:3] == ["Name: a, LayerType: kgen", "Name: b, LayerType: gemm"]  # multi-line kept whole
    assert [line[22:30] for line in out[3:]] == ["[E] [TRT", "[W] [TRT", "[I] [TRT"]
    assert format_log([]) == ""


def test_parse_shapes() -> None:
    assert parse_shapes("input:1x3x224x224, mask:1X128") == {"input": (1, 3, 224, 224), "mask": (1, 128)}
    assert parse_shapes("ns:input:0:4x8") == {"ns:input:0": (4, 8)}  # the last ':' separates the dims
    assert parse_shapes("") == {}
    for bad in ("input", "input:", "input:1xx2", ":1x2", "input:0x3"):
        with pytest.raises(TrtscopeError, match="--shapes"):
            parse_shapes(bad)
    assert ShapeSpec.fixed([1, 2]) == ShapeSpec((1, 2), (1, 2), (1, 2))


def _real_trt() -> str:
    for name in trt_backend.MODULES:
        if trt_backend.probe_module(name).real:
            return name
    pytest.skip("needs a real TensorRT or TensorRT-RTX Python module (only stubs or nothing installed here)")


@pytest.mark.trt
def test_build_tiny_onnx_keeps_verbose_layers_listing(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    module = _real_trt()
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu_node")], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "relu.onnx"
    onnx.save(model, str(path))
    backend = trt_backend.TensorRTBackend(module)
    result = backend.build(path, BuildOptions())
    assert len(result.plan) > 0
    assert any(r.severity == "VERBOSE" for r in result.log)
    assert "relu_node" in format_log(result.log)


@pytest.mark.trt
def test_dynamic_input_without_shapes_is_an_input_error(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    module = _real_trt()
    from onnx import TensorProto, helper

    from trtscope.errors import InputError

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    path = tmp_path / "dyn.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(InputError, match="--shapes x:1x4"):
        trt_backend.TensorRTBackend(module).build(path, BuildOptions())


def _dynamic_relu(tmp_path: Path) -> Path:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    path = tmp_path / "dyn.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


@pytest.mark.trt
def test_dynamic_input_builds_with_shapes(tmp_path: Path) -> None:
    module = _real_trt()
    path = _dynamic_relu(tmp_path)
    result = trt_backend.TensorRTBackend(module).build(path, BuildOptions(shapes={"x": ShapeSpec.fixed([2, 4])}))
    assert len(result.plan) > 0


@pytest.mark.trt
def test_precision_flags_follow_the_installed_version(tmp_path: Path) -> None:
    module = _real_trt()
    backend = trt_backend.TensorRTBackend(module)
    path = _dynamic_relu(tmp_path)
    opts = BuildOptions(shapes={"x": ShapeSpec.fixed([2, 4])}, precisions=("fp16",))
    if backend.strongly_typed_only():  # TensorRT 11 / TensorRT-RTX: no weak-typing flags
        with pytest.raises(TrtscopeError, match="strongly typed only"):
            backend.build(path, opts)
    else:
        assert len(backend.build(path, opts).plan) > 0
