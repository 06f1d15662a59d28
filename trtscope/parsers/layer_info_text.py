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
from trtscope.parsers.layer_entries import layer_info_from_entries, select_profile
from trtscope.parsers.logtext import (
    MAX_LINE_CHARS,
    log_lines,
    payload,
    payload_is,
    prefix_shape,
    strip_shape,
)

__all__ = ["foreign_node_metadata", "layer_info_from_log", "log_lines", "parse_legacy_line", "parse_oneline"]

_KEY = re.compile(r"([A-Za-z][A-Za-z0-9_/ ]{0,63}?): ")
_ONELINE_START = "Name: "
_INT = re.compile(r"-?\d{1,18}")
_FLOAT = re.compile(r"-?\d{1,30}\.\d{0,30}(?:[eE][-+]?\d{1,4})?")
#: Tensors of the legacy listing: ``name (Float[-1,3,224,224])`` (10+) or ``name[Float(-1,3,224,224)]`` (8.x).
#: Found by their bracketed tail (bounded character classes: linear time); the name is what lies between.
_TENSOR_TAIL_NEW = re.compile(r" \((?P<dtype>[A-Za-z0-9]{1,32})\[(?P<dims>[^\[\]()]*)\]\)(?=, |$)")
_TENSOR_TAIL_OLD = re.compile(r"\[(?P<dtype>[A-Za-z0-9]{1,32})\((?P<dims>[^\[\]()]*)\)\](?=, |$)")
#: One-line values nest ``[ { [ ... ] } ]``; deeper than this is kept as text (no recursion without bound).
MAX_NESTING = 32
_FOREIGN_START = "ForeignNode {ForeignNode["
_FOREIGN_END = "]} metadata:"


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
    if _INT.fullmatch(t):
        return int(t)
    if _FLOAT.fullmatch(t):
        return float(t)
    return t


def _value(text: str, depth: int = 0) -> Any:
    t = text.strip()
    if depth >= MAX_NESTING:
        return t
    if t.startswith("{") and t.endswith("}"):
        inner = t[1:-1].strip()
        if inner.startswith('"'):
            try:
                return json.loads(t)
            except (json.JSONDecodeError, RecursionError):
                pass
        return _fields(inner, depth + 1)
    if t.startswith("[") and t.endswith("]"):
        inner = t[1:-1].strip()
        if not inner:
            return []
        if inner.startswith("{"):
            return [_value(x, depth + 1) for x in _split_items(inner)]
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


def _fields(text: str, depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in _split_top(text):
        key, sep, val = part.partition(": ")
        if not sep:
            key, val = part.rstrip(":"), ""
        out[key.strip()] = _value(val, depth)
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
        entry["Name"] = body[:lt_at]  # a "Name" key among the fields cannot replace the layer's name
    if metadata is not None:
        entry["Metadata"] = metadata
    return entry


# --- logs -------------------------------------------------------------------------------------------------------
class _Section:
    """A run of layer lines: their payloads, the line after the last one, and the listing's prefix shape."""

    def __init__(self, shape: tuple[str, ...]) -> None:
        self.lines: list[str] = []
        self.end = 0
        self.shape = shape


def _oneline_sections(lines: list[str]) -> list[_Section]:
    """Runs of consecutive ``Name: ..., LayerType: ...`` lines, whatever prefix each line carries: a listing
    logged as one message has the prefix on its first line only (or on its ``Layers:`` header). Blank lines
    inside a run do not end it."""
    sections: list[_Section] = []
    current: _Section | None = None
    header_shape: tuple[str, ...] | None = None  # set right after a ``Layers:`` header line
    for i, raw in enumerate(lines):
        body = payload(raw, _ONELINE_START)
        if body is not None and (current is not None or header_shape is not None or ", LayerType: " in body):
            if current is None:
                shape = header_shape if header_shape is not None else prefix_shape(raw[: len(raw) - len(body)])
                current = _Section(shape)
            current.lines.append(body)
            current.end = i + 1
            header_shape = None
            continue
        if not raw.strip() and (current is not None or header_shape is not None):
            continue  # blank lines between entries (loggers or pasted logs that double line ends)
        if current is not None:
            sections.append(current)
        current = None
        header_shape = prefix_shape(raw.rstrip()[: -len("Layers:")]) if payload_is(raw, "Layers:") else None
    if current is not None:
        sections.append(current)
    return sections


def _legacy_section(lines: list[str]) -> list[str]:
    found: list[str] = []
    grabbing = False
    for raw in lines:
        if payload_is(raw, "Engine Layer Information:"):
            grabbing = True
            found = []
            continue
        if grabbing:
            body = payload(raw, "Layer(")
            if body is not None:
                found.append(body)
            elif raw.strip():  # blank lines do not end the list
                grabbing = False
    return found


def _legacy_tensors(text: str) -> list[dict[str, Any]]:
    text = text.strip()
    for pattern in (_TENSOR_TAIL_NEW, _TENSOR_TAIL_OLD):
        out: list[dict[str, Any]] = []
        pos = 0
        for m in pattern.finditer(text):
            if m.start() <= pos:
                continue  # an empty name: not a tensor boundary
            dims = [int(d) if _INT.fullmatch(d) else d for d in m.group("dims").split(",") if d]
            out.append({"Name": text[pos : m.start()], "Dimensions": dims, "Format/Datatype": m.group("dtype")})
            pos = m.end() + 2  # past ", "
        if out and pos >= len(text):
            return out
    return []


def parse_legacy_line(line: str) -> dict[str, Any] | None:
    """``Layer(Type): name, Tactic: 0x..., in (Float[dims]) -> out (Float[dims])`` -> an entry, or None."""
    if not line.startswith("Layer("):
        return None
    close = line.find("): ", 6)
    if close < 0 or ")" in line[6:close]:
        return None
    rest = line[close + 3 :]
    t = rest.find(", Tactic: ")
    if t < 0:
        return None
    after = rest[t + len(", Tactic: ") :]
    comma = after.find(", ")
    tactic = after if comma < 0 else after[:comma]
    entry: dict[str, Any] = {"Name": rest[:t], "LayerType": line[6:close], "TacticValue": tactic}
    if comma >= 0:
        ins, arrow, outs = after[comma + 2 :].partition(" -> ")
        if arrow:
            entry["Inputs"] = _legacy_tensors(ins)
            entry["Outputs"] = _legacy_tensors(outs)
    return entry


def foreign_node_metadata(lines: list[str]) -> dict[str, list[str]]:
    """``{ForeignNode[...]}`` -> ONNX node names, from verbose build logs' ``ForeignNode {...} metadata:``."""
    from trtscope.model.names import metadata_nodes  # grammar of Metadata lives with the other name rules

    out: dict[str, list[str]] = {}
    for raw in lines:
        at = raw.find(_FOREIGN_START)
        if at < 0 or len(raw) > MAX_LINE_CHARS:
            continue
        end = raw.find(_FOREIGN_END, at)
        if end < 0:
            continue
        nodes = metadata_nodes(raw[end + len(_FOREIGN_END) :].removeprefix(" "))
        if nodes:
            out[raw[at + len("ForeignNode ") : end + 2]] = nodes
    return out


def layer_info_from_log(text: str, source: str | Path) -> tuple[LayerInfo | None, list[str]]:
    """The best layer listing in a log (ONELINE beats the legacy list), and warnings about the choice."""
    lines = log_lines(text)
    warnings: list[str] = []
    long_lines = sum(1 for line in lines if len(line) > MAX_LINE_CHARS)
    if long_lines:
        warnings.append(f"{source}: {long_lines} lines longer than {MAX_LINE_CHARS:,} characters were not read")
    foreign = foreign_node_metadata(lines)
    sections = _oneline_sections(lines)
    if sections:
        last = sections[-1]
        if len(sections) > 1:
            warnings.append(
                f"{source}: {len(sections)} layer listings in this log; using the last one "
                f"({len(last.lines)} layers)"
            )
        entries, dropped = select_profile([parse_oneline(line) for line in last.lines])
        bindings = _bindings_after(lines, last)
        return layer_info_from_entries(entries, source, "oneline", bindings=bindings, foreign=foreign,
                                       dropped_profiles=dropped, warnings=warnings), warnings
    legacy = _legacy_section(lines)
    if legacy:
        entries, dropped = select_profile([e for e in (parse_legacy_line(line) for line in legacy) if e is not None])
        if entries:
            return layer_info_from_entries(entries, source, "legacy_log", foreign=foreign,
                                           dropped_profiles=dropped, warnings=warnings), warnings
    return None, warnings


def _body(line: str, shape: tuple[str, ...]) -> str:
    """``line`` without a prefix of ``shape``, if it has one."""
    body = strip_shape(line, shape) if any(shape) and len(line) <= MAX_LINE_CHARS else None
    return line if body is None else body


def _bindings_after(lines: list[str], section: _Section) -> list[str]:
    """trtexec --dumpLayerInfo prints ``Bindings:`` and one tensor name per line right after the listing
    (usually the same message: no prefixes). A line with a space in it (after the listing's prefix, if it
    carries one) is the next message, not a name."""
    i = section.end
    while i < len(lines) and not _body(lines[i], section.shape).strip():
        i += 1
    if i >= len(lines) or not payload_is(lines[i], "Bindings:"):
        return []
    out: list[str] = []
    for raw in lines[i + 1 :]:
        if len(raw) > MAX_LINE_CHARS:
            break
        name = _body(raw, section.shape).strip()
        if not name or raw.startswith("&&&&") or " " in name:
            break
        out.append(name)
    return out
