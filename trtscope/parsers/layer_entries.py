"""Layer entries (dicts shaped like the inspector's JSON objects) -> :class:`LayerInfo`.

Every layer-info reader (JSON, one-line log, legacy log) first produces such entries, so the table is built
in exactly one place whatever the source format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trtscope.model.artifacts import LayerInfo
from trtscope.model.tables import LAYER_COLUMNS
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
    # Column by column (list comprehensions), not row tuples: 20,000-layer engines are common.
    def text(key: str) -> pd.Series:
        return pd.Series([None if (v := e.get(key)) is None else str(v) for e in entries], dtype=object)

    def metadata(e: dict[str, Any]) -> str | None:
        m = e.get("Metadata")
        return m if isinstance(m, str) and m else None

    layers = pd.DataFrame(
        {
            "index": np.arange(len(entries), dtype=np.int64),
            "name": pd.Series([e["Name"] for e in entries], dtype=object),
            "type": pd.Series([str(e.get("LayerType") or "") for e in entries], dtype=object),
            "parameter_type": text("ParameterType"),
            "origin": text("Origin"),
            "tactic": text("TacticName"),
            "tactic_value": text("TacticValue"),
            "stream_id": pd.Series([v if isinstance(v := e.get("StreamId"), int) else None for e in entries],
                                   dtype=object),
            "metadata": pd.Series([metadata(e) for e in entries], dtype=object),
            "precision": pd.Series([precision_of(output_dtypes(e)) for e in entries], dtype=object),
        },
        columns=list(LAYER_COLUMNS),
    )
    return LayerInfo(
        layers=layers,
        bindings=bindings or [],
        detail=detail,
        source=str(source),
        raw=entries if detail != "names" else [],
        foreign_nodes=foreign or {},
        dropped_profiles=dropped_profiles,
    )
