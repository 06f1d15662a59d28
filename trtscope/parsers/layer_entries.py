"""Layer entries (dicts shaped like the inspector's JSON objects) -> :class:`LayerInfo`.

Every layer-info reader (JSON, one-line log, legacy log) first produces such entries, so the table is built
in exactly one place whatever the source format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trtscope.model.artifacts import LayerInfo
from trtscope.model.tables import LAYER_COLUMNS, frame
from trtscope.model.tensors import output_dtypes, precision_of


def layer_info_from_entries(
    entries: list[dict[str, Any]],
    source: str | Path,
    detail: str,
    *,
    bindings: list[str] | None = None,
    foreign: dict[str, list[str]] | None = None,
    dropped_profiles: int = 0,
) -> LayerInfo:
    rows: list[tuple[object, ...]] = []
    for index, e in enumerate(entries):
        stream = e.get("StreamId")
        metadata = e.get("Metadata")
        tactic = e.get("TacticName")
        tactic_value = e.get("TacticValue")
        rows.append(
            (
                index,
                e["Name"],
                str(e.get("LayerType", "") or ""),
                e.get("ParameterType"),
                e.get("Origin"),
                None if tactic is None else str(tactic),
                None if tactic_value is None else str(tactic_value),
                stream if isinstance(stream, int) else None,
                metadata if isinstance(metadata, str) and metadata else None,
                precision_of(output_dtypes(e)),
            )
        )
    return LayerInfo(
        layers=frame(rows, LAYER_COLUMNS),
        bindings=bindings or [],
        detail=detail,
        source=str(source),
        raw=entries if detail != "names" else [],
        foreign_nodes=foreign or {},
        dropped_profiles=dropped_profiles,
    )
