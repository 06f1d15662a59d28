"""Layer information in logs: the one-line form and the legacy verbose-build listing.

Many users only have logs. Two listings occur:

* ``LayerInformationFormat.ONELINE`` — ``trtexec --dumpLayerInfo`` prints it after ``Layers:``, and verbose
  build logs (TensorRT 10+, TensorRT-RTX) end with it: ``Name: a + b, LayerType: CaskConvolution, Inputs: [ {
  Name: x, Dimensions: [1,3], Format/Datatype: Float }], ..., Metadata: [ONNX Layer: a]\\x1e[ONNX Layer: b]``.
  It is not JSON: keys are bare, values nest with ``[]``/``{}``, and ``Metadata`` runs to the end of the line.
* The verbose builder's ``Engine Layer Information:`` list: ``Layer(Myelin): {ForeignNode[a...b]}, Tactic:
  0x0, x (Float[-1,1,28,28]) -> relu (Float[-1,32,28,28])``; names and types only, plus tensors.

Verbose logs also carry ``ForeignNode {ForeignNode[a...b]} metadata: [ONNX Layer: ...]...`` lines that list
every ONNX node of a Myelin region; they are collected as ``LayerInfo.foreign_nodes``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from trtscope.model.artifacts import LayerInfo
from trtscope.parsers.layer_entries import layer_info_from_entries

#: Log line prefixes: "[07/07/2026-02:11:38] [I] ", "[V] [TRT] ", "[TRT] [V] " ...
_LOG_PREFIX = re.compile(r"^(?:\[[^\]\n]{1,40}\]\s*)+")
_KEY = re.compile(r"([A-Za-z][A-Za-z0-9_/ ]*?): ")
_ONELINE_START = "Name: "
_LEGACY_LINE = re.compile(r"^Layer\((?P<type>[^)]*)\): (?P<name>.*?), Tactic: (?P<tactic>[^,]*), (?P<io>.*)$")
_LEGACY_TENSOR_NEW = re.compile(r"(?P<name>.+?) \((?P<dtype>[A-Za-z0-9]+)\[(?P<dims>[^\]]*)\]\)(?:, |$)")
_LEGACY_TENSOR_OLD = re.compile(r"(?P<name>.+?)\[(?P<dtype>[A-Za-z0-9]+)\((?P<dims>[^)]*)\)\](?:, |$)")
_FOREIGN_META = re.compile(r"ForeignNode (?P<name>\{ForeignNode\[.*\]\}) metadata: ?(?P<meta>.*)$")


def log_lines(text: str) -> list[str]:
    """Split a log into lines on newlines only: ``str.splitlines`` also splits on 0x1E, the very byte that
    separates Metadata entries."""
    return text.replace("\r\n", "\n").split("\n")


def strip_log_prefix(line: str) -> str:
    return _LOG_PREFIX.sub("", line, count=1)


# --- the one-line value grammar ---------------------------------------------------------------------------------
def _split_top(text: str) -> list[str]:
    """Split ``k: v, k: v`` at depth-0 commas that are followed by a ``Key: ``."""
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth = max(0, depth - 1)
        elif c == "," and depth == 0 and text.startswith(" ", i + 1):
            m = _KEY.match(text, i + 2)
            if m:
                parts.append(text[start:i])
                start = i + 2
                i += 2
                continue
        i += 1
    parts.append(text[start:])
    return parts


def _scalar(text: str) -> Any:
    t = text.strip()
    if re.fullmatch(r"-?\d+", t):
        return int(t)
    if re.fullmatch(r"-?\d+\.\d*(?:[eE][-+]?\d+)?", t):
        return float(t)
    return t


def _value(text: str) -> Any:
    t = text.strip()
    if t.startswith("{") and t.endswith("}"):
        inner = t[1:-1].strip()
        if inner.startswith('"'):
            try:
                return json.loads(t)
            except json.JSONDecodeError:
                pass
        return _fields(inner)
    if t.startswith("[") and t.endswith("]"):
        inner = t[1:-1].strip()
        if not inner:
            return []
        if inner.startswith("{"):
            return [_value(x) for x in _split_items(inner)]
        return [_scalar(x) for x in inner.split(",")]
    return _scalar(t)


def _split_items(text: str) -> list[str]:
    """Split ``{...}, {...}`` into its brace groups."""
    items, depth, start = [], 0, None
    for i, c in enumerate(text):
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0 and start is not None:
                items.append(text[start : i + 1])
                start = None
    return items


def _fields(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in _split_top(text):
        key, sep, val = part.partition(": ")
        if not sep:
            key, val = part.rstrip(":"), ""
        out[key.strip()] = _value(val)
    return out


def parse_oneline(line: str) -> dict[str, Any]:
    """One ONELINE layer description -> a dict shaped like the JSON form (``Name``, ``LayerType``, ...)."""
    body = line[len(_ONELINE_START) :] if line.startswith(_ONELINE_START) else line
    metadata = None
    meta_at = body.rfind(", Metadata:")
    if meta_at >= 0:
        metadata = body[meta_at + len(", Metadata:") :].lstrip(" ")
        body = body[:meta_at]
    lt_at = body.find(", LayerType: ")
    if lt_at < 0:
        entry: dict[str, Any] = {"Name": body}
    else:
        entry = {"Name": body[:lt_at]}
        entry.update(_fields(body[lt_at + 2 :]))
    if metadata is not None:
        entry["Metadata"] = metadata
    return entry


# --- logs -------------------------------------------------------------------------------------------------------
def _oneline_sections(lines: list[str]) -> list[list[str]]:
    """Runs of consecutive ``Name: ..., LayerType: ...`` lines (log prefixes stripped)."""
    sections: list[list[str]] = []
    current: list[str] | None = None
    for raw in lines:
        line = strip_log_prefix(raw)
        if line.startswith(_ONELINE_START) and (current is not None or ", LayerType: " in line):
            if current is None:
                current = []
            current.append(line)
            continue
        if current:
            sections.append(current)
        current = None
    if current:
        sections.append(current)
    return sections


def _legacy_section(lines: list[str]) -> list[str]:
    found: list[str] = []
    grabbing = False
    for raw in lines:
        line = strip_log_prefix(raw)
        if line.strip().endswith("Engine Layer Information:"):
            grabbing = True
            found = []
            continue
        if grabbing:
            if line.startswith("Layer("):
                found.append(line)
            else:
                grabbing = False
    return found


def _legacy_tensors(text: str) -> list[dict[str, Any]]:
    text = text.strip()
    for pattern in (_LEGACY_TENSOR_NEW, _LEGACY_TENSOR_OLD):
        out, pos = [], 0
        for m in pattern.finditer(text):
            if m.start() != pos:
                break
            dims = [int(d) if re.fullmatch(r"-?\d+", d) else d for d in m.group("dims").split(",") if d]
            out.append({"Name": m.group("name"), "Dimensions": dims, "Format/Datatype": m.group("dtype")})
            pos = m.end()
        if out and pos == len(text):
            return out
    return []


def parse_legacy_line(line: str) -> dict[str, Any] | None:
    m = _LEGACY_LINE.match(line)
    if not m:
        return None
    entry: dict[str, Any] = {"Name": m.group("name"), "LayerType": m.group("type"), "TacticValue": m.group("tactic")}
    ins, arrow, outs = m.group("io").partition(" -> ")
    if arrow:
        entry["Inputs"] = _legacy_tensors(ins)
        entry["Outputs"] = _legacy_tensors(outs)
    return entry


def foreign_node_metadata(lines: list[str]) -> dict[str, list[str]]:
    """``{ForeignNode[...]}`` -> ONNX node names, from verbose build logs."""
    from trtscope.model.names import metadata_nodes  # grammar of Metadata lives with the other name rules

    out: dict[str, list[str]] = {}
    for raw in lines:
        if "ForeignNode {ForeignNode[" not in raw:
            continue
        m = _FOREIGN_META.search(raw)
        if m:
            nodes = metadata_nodes(m.group("meta"))
            if nodes:
                out[m.group("name")] = nodes
    return out


def layer_info_from_log(text: str, source: str | Path) -> tuple[LayerInfo | None, list[str]]:
    """The best layer listing in a log (ONELINE beats the legacy list), and warnings about the choice."""
    lines = log_lines(text)
    warnings: list[str] = []
    foreign = foreign_node_metadata(lines)
    sections = _oneline_sections(lines)
    if sections:
        if len(sections) > 1:
            warnings.append(
                f"{source}: {len(sections)} layer listings in this log; using the last one "
                f"({len(sections[-1])} layers)"
            )
        entries = [parse_oneline(line) for line in sections[-1]]
        return layer_info_from_entries(entries, source, "oneline", bindings=_bindings_after(lines),
                                       foreign=foreign), warnings
    legacy = _legacy_section(lines)
    if legacy:
        entries = [e for e in (parse_legacy_line(line) for line in legacy) if e is not None]
        return layer_info_from_entries(entries, source, "legacy_log", foreign=foreign), warnings
    return None, warnings


def _bindings_after(lines: list[str]) -> list[str]:
    """trtexec --dumpLayerInfo prints ``Bindings:`` then one name per line after the listing."""
    out: list[str] = []
    grabbing = False
    for raw in lines:
        line = strip_log_prefix(raw).rstrip("\n")
        if line.strip() == "Bindings:":
            grabbing, out = True, []
            continue
        if grabbing:
            if not line.strip() or raw.startswith("[") or raw.startswith("&&&&"):
                grabbing = False
            else:
                out.append(line)
    return out
