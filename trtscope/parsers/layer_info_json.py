"""Engine layer information in JSON (IEngineInspector, ``trtexec --exportLayerInfo``), TensorRT 8.6 to 11.

Accepted shapes: ``{"Layers": [...], "Bindings": [...]}`` (8.x/10), ``"I/O Tensors"`` instead of Bindings (11),
``layers``/``LayerInfo``/``layerInfo`` keys and a bare list (as NVIDIA's TRT-11 analyzer accepts).
``Layers`` holds objects (DETAILED) or plain strings (LAYER_NAMES_ONLY). Unknown keys are kept in ``raw``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from trtscope.errors import InputError
from trtscope.model.artifacts import LayerInfo
from trtscope.parsers.layer_entries import layer_info_from_entries, select_profile

LAYER_LIST_KEYS = ("Layers", "layers", "LayerInfo", "layerInfo")
IO_KEYS = ("Bindings", "I/O Tensors", "IO Tensors", "bindings")
#: 8.x repeats the layer list per optimization profile, suffixing profile N >= 1.
_PROFILE_SUFFIX = re.compile(r" \[profile (\d{1,9})\]$")


def layer_list(doc: Any) -> list[Any] | None:
    """The layer list inside a layer-info document, or None when ``doc`` is not one."""
    if isinstance(doc, dict):
        for key in LAYER_LIST_KEYS:
            if isinstance(doc.get(key), list):
                return list(doc[key])
        return None
    if isinstance(doc, list) and doc:
        first = doc[0]
        if isinstance(first, dict) and "Name" in first and ("LayerType" in first or "Inputs" in first):
            return doc
    return None


def looks_like_layer_info(doc: Any) -> bool:
    layers = layer_list(doc)
    if layers is None:
        return False
    if isinstance(doc, dict) and isinstance(doc.get("Layers"), list):
        return True  # malformed entries are reported by the parser, naming the entry
    if not layers:
        return isinstance(doc, dict) and any(k in doc for k in IO_KEYS)
    return all(isinstance(x, str) or (isinstance(x, dict) and "Name" in x) for x in layers[:50])


def _bindings(doc: Any) -> list[str]:
    if not isinstance(doc, dict):
        return []
    for key in IO_KEYS:
        val = doc.get(key)
        if isinstance(val, list):
            out = []
            for b in val:
                name = b.get("Name", b.get("name", "")) if isinstance(b, dict) else b
                if isinstance(name, (str, int)) and not isinstance(name, bool):
                    out.append(str(name))
            return out
    return []


def layer_info_from_json(
    doc: Any, source: str | Path, *, opt_profile: int = 0, warnings: list[str] | None = None
) -> LayerInfo:
    """Parse a layer-info JSON document; ``opt_profile`` picks one of 8.x's per-profile copies; ``warnings``
    receives what was dropped as malformed."""
    layers = layer_list(doc)
    if layers is None:
        raise InputError(source, "not TensorRT layer information (no \"Layers\" list)")
    entries: list[dict[str, Any]] = []
    detailed = any(isinstance(x, dict) for x in layers)
    for i, item in enumerate(layers):
        if isinstance(item, str):
            entry: dict[str, Any] = {"Name": item}
        elif isinstance(item, dict):
            entry = item
        else:
            raise InputError(source, f"layer entry {i} is a {type(item).__name__}, not an object")
        name = entry.get("Name")
        if not isinstance(name, str):
            raise InputError(source, f"layer entry {i} has no \"Name\" string")
        entries.append(entry)
    entries, dropped = select_profile(entries, opt_profile)
    if not entries and dropped:
        raise InputError(source, f"no layers for optimization profile {opt_profile}")
    bindings = [b for b in _bindings(doc) if not _PROFILE_SUFFIX.search(b)]
    return layer_info_from_entries(
        entries, source, "detailed" if detailed else "names", bindings=bindings, dropped_profiles=dropped,
        warnings=warnings,
    )
