"""Logs read whatever logger wrote them: every prefix style, CRLF, gzip, UTF-16.

The variants are built here from the real logs (../shared/fixtures and the project's fixtures): each log is cut
into messages by its trtexec prefix (a line without one continues the message before it, as the ``Layers:``
listing does), then written again with another logger's prefix — on each message's first line, or on every
line. Expected layers, Metadata (ONNX nodes), profile rows and GPU come from the raw log by this file's own
reading, never from trtscope's.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from tests.conftest import own_fixture, shared_fixture
from tests.fuzzing import PREFIX_STYLES, log_messages, render_log
from trtscope.parsers.detect import sniff

_ONNX_LAYER = re.compile(r"\[ONNX Layer: ([^\]\x1e\x1f]*)\]")


def _expected(msgs: list[tuple[str, list[str]]]) -> dict[str, object]:
    """Layers (name, Metadata), legacy layer names, profile rows and GPU, read from the messages directly."""
    oneline: list[tuple[str, str | None]] = []
    legacy: list[str] = []
    rows: list[tuple[str, float, float]] = []
    gpu = None
    for _sev, lines in msgs:
        first = lines[0]
        if first == "Layers:":
            oneline = []
            for x in lines[1:]:
                if not x.startswith("Name: "):
                    break
                name = x[6 : x.index(", LayerType: ")]
                meta = x.rsplit(", Metadata: ", 1)[1] if ", Metadata: " in x else None
                oneline.append((name, meta))
        if first == "Engine Layer Information:":
            legacy = [x[x.index("): ") + 3 : x.index(", Tactic: ")] for x in lines[1:] if x.startswith("Layer(")]
        if first.startswith("Selected Device: ") and gpu is None:
            gpu = first.split(": ", 1)[1]
    # the profile table: one message per row, after "=== Profile (N iterations ) ===" and the column header
    texts = [m[1][0] for m in msgs]
    if any(t.startswith("=== Profile (") for t in texts):
        start = max(i for i, t in enumerate(texts) if t.startswith("=== Profile ("))
        for t in texts[start + 2 :]:
            parts = t.split()
            if len(parts) < 5 or parts[4] == "Total":
                break
            rows.append((" ".join(t.split(None, 4)[4:]).strip(), float(parts[0]), float(parts[1])))
    return {"oneline": oneline, "legacy": legacy, "rows": rows, "gpu": gpu}


def _nodes(meta: object) -> list[str]:
    return _ONNX_LAYER.findall(meta) if isinstance(meta, str) else []


def _check(path: Path, exp: dict[str, object]) -> None:
    s = sniff(path)
    oneline = exp["oneline"]
    assert isinstance(oneline, list)
    if oneline:
        assert s.layer_info is not None and s.layer_info.detail == "oneline"
        layers = s.layer_info.layers
        assert layers["name"].tolist() == [n for n, _ in oneline]
        assert [_nodes(m) for m in layers["metadata"]] == [_nodes(m) for _, m in oneline]
        assert sum(len(_nodes(m)) for _, m in oneline) > 0
    elif exp["legacy"]:
        assert s.layer_info is not None and s.layer_info.detail == "legacy_log"
        assert s.layer_info.layers["name"].tolist() == exp["legacy"]
    else:
        assert s.layer_info is None
    rows = exp["rows"]
    assert isinstance(rows, list)
    if rows:
        assert s.profile is not None
        t = s.profile.times
        assert t["name"].tolist() == [r[0] for r in rows]
        assert t["total_ms"].tolist() == pytest.approx([r[1] for r in rows])
        assert t["mean_ms"].tolist() == pytest.approx([r[2] for r in rows])
    else:
        assert s.profile is None
    assert s.metadata.get("gpu") == exp["gpu"]


def _logs() -> list[tuple[str, str, str]]:
    return [
        ("shared", "trt10-h100-mnist", "trtexec-dumpLayerInfo.log"),
        ("shared", "trt10-h100-mnist", "trtexec-dumpProfile.log"),
        ("shared", "trt10-h100-mnist", "trtexec-build-verbose.log"),
        ("own", "rtx-h100-resnet18", "build-verbose.log"),
        ("own", "rtx-h100-transformer", "build-verbose.log"),
    ]


def _source(where: str, folder: str, name: str) -> Path:
    return shared_fixture(folder, name) if where == "shared" else own_fixture(folder, name)


@pytest.mark.parametrize(("where", "folder", "name"), _logs())
@pytest.mark.parametrize("every_line", [False, True], ids=["first-line-prefix", "every-line-prefix"])
def test_every_prefix_style_reads_the_same(where: str, folder: str, name: str, every_line: bool,
                                           tmp_path: Path) -> None:
    raw = _source(where, folder, name).read_text(encoding="utf-8", errors="replace")
    msgs = log_messages(raw)
    exp = _expected(msgs)
    assert exp["oneline"] or exp["legacy"] or exp["rows"], "the fixture holds no listing or table"
    _check(_source(where, folder, name), exp)  # the log as TensorRT / trtexec wrote it
    for i, style in enumerate(PREFIX_STYLES):
        p = tmp_path / f"{style}.log"
        p.write_text(render_log(msgs, style, every_line=every_line, crlf=i % 3 == 1), encoding="utf-8",
                     newline="")
        _check(p, exp)


@pytest.mark.parametrize("style", ["severity_enum", "python_logging"])
def test_gzip_utf16_and_extensionless_logs(style: str, tmp_path: Path) -> None:
    raw = own_fixture("rtx-h100-resnet18", "build-verbose.log").read_text(encoding="utf-8", errors="replace")
    msgs = log_messages(raw)
    exp = _expected(msgs)
    text = render_log(msgs, style)
    gz = tmp_path / "build.log.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    utf16 = tmp_path / "build-utf16.txt"  # PowerShell's `>` writes UTF-16 with a BOM
    utf16.write_bytes(text.encode("utf-16"))
    bare = tmp_path / "buildlog"
    bare.write_text(text, encoding="utf-8")
    for p in (gz, utf16, bare):
        _check(p, exp)


def test_rtx_log_with_severity_prefix_through_the_cli(tmp_path: Path) -> None:
    """The issue's reproduction: a TensorRT-RTX verbose build log written by a Python ILogger, given as a
    directory and as --layers."""
    from trtscope.loader import load_artifacts

    raw = own_fixture("rtx-h100-transformer", "build-verbose.log").read_text(encoding="utf-8", errors="replace")
    msgs = log_messages(raw)
    n = len(_expected(msgs)["oneline"])  # type: ignore[arg-type]
    (tmp_path / "build.log").write_text(render_log(msgs, "severity_enum"), encoding="utf-8")
    assert len(load_artifacts(tmp_path).layer_info.layers) == n  # type: ignore[union-attr]
    assert len(load_artifacts(layers=tmp_path / "build.log").layer_info.layers) == n  # type: ignore[union-attr]
