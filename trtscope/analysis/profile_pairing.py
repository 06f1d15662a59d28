"""Pairing a per-layer profile with the layer information when TensorRT profiled a Myelin region as its parts.

TensorRT 10+ profiles a Myelin region (one ``{ForeignNode[first...last]}`` layer in the build log's layer list, or
in an ``--exportLayerInfo`` made without detailed verbosity) as the region's own layers, ``<src>_myl<R>_<I>`` and
``__myl_<Ops>_myl<R>_<I>`` (R: the Myelin graph, I: its layer), which the layer information does not name. The
per-layer profile and the layer list then share only the layers outside Myelin, although they come from one
engine. Each run of such profiled parts lies, in execution order, where the unnamed Myelin layer lies among the
layers both name; this module pairs them by that position and gives each Myelin layer the sum of its parts'
times. It pairs only what it can check: the layers both name appear in the same order, each run has exactly one
unnamed Myelin layer at its place, and each run's parts name at least one ONNX node of that region (its
``Metadata``, its ``ForeignNode … metadata:`` line in a build log, or the ends its ``{ForeignNode[a...b]}`` name
gives). Anything else (a part name that is not a Myelin part, a run whose parts name only Myelin's own helpers
or another region's nodes, per-iteration samples) leaves the profile as it is: the caller then reports the
mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trtscope.model import names as nm
from trtscope.model.artifacts import LayerInfo, LayerProfile
from trtscope.model.tables import PROFILE_COLUMNS


@dataclass(frozen=True)
class FoldedProfile:
    """The profile with each Myelin region's parts summed into the region's layer."""

    profile: LayerProfile
    parts: int  # profiled Myelin parts summed
    regions: int  # Myelin layers of the layer information they were summed into

    def note(self, path: object) -> str:
        layers = "Myelin layer" if self.regions == 1 else "Myelin layers"
        return (f"{path}: the profile times each Myelin region as its parts (`…_myl<R>_<I>`), which the layer "
                f"information does not list: {self.parts} parts summed into the {self.regions} {layers} "
                "they run for")


def fold_myelin_parts(info: LayerInfo, profile: LayerProfile) -> FoldedProfile | None:
    """The profile re-keyed on ``info``'s layers, or None when it is not the Myelin-parts case (or not exactly).

    Returned profile columns: PROFILE_COLUMNS; a Myelin layer's ``total_ms``, ``mean_ms`` and ``percentage`` are
    its parts' sums, ``median_ms`` is None (a sum of medians is not a median), ``count`` the parts' count."""
    prof = profile.times
    if prof.empty or (profile.samples is not None and not profile.samples.empty):
        return None  # (samples come with bundles, whose profile is the engine's own: never this case)
    layers = info.layers
    layer_keys = list(zip(layers["name"].tolist(), layers.groupby("name", sort=False).cumcount().tolist(),
                          strict=True))
    layer_set = set(layer_keys)
    prof_keys = list(zip(prof["name"].tolist(), prof["occurrence"].tolist(), strict=True))
    matched = [k in layer_set for k in prof_keys]
    if all(matched):
        return None
    # runs of unmatched profiled Myelin parts, each one region, between the layers both name
    runs: list[list[int]] = []  # row positions in the profile
    gaps_prof: list[int] = []  # for each run: how many matched profile rows precede it
    n_matched = 0
    last_region: int | None = None
    for i, (name, _) in enumerate(prof_keys):
        if matched[i]:
            n_matched += 1
            last_region = None
            continue
        parts = nm.myelin_parts(name)
        if parts is None:
            return None  # not a Myelin part: a different engine, not a finer view of this one
        if runs and last_region == parts[1] and gaps_prof[-1] == n_matched:
            runs[-1].append(i)
        else:
            runs.append([i])
            gaps_prof.append(n_matched)
        last_region = parts[1]
    # the Myelin layers the profile does not name, and how many layers it does name precede each
    named_in_profile = {k for k, m in zip(prof_keys, matched, strict=True) if m}
    types = layers["type"].tolist()
    regions: list[tuple[str, int]] = []
    gaps_info: list[int] = []
    n_named = 0
    for key, ltype in zip(layer_keys, types, strict=True):
        if key in named_in_profile:
            n_named += 1
        elif ltype in nm.MYELIN_TYPES or nm.is_foreign_node_layer(key[0]):
            regions.append(key)
            gaps_info.append(n_named)
    if gaps_prof != gaps_info:
        return None  # not one run per unnamed Myelin layer, at the same places
    named_order = [k for k, m in zip(prof_keys, matched, strict=True) if m]
    if named_order != [k for k in layer_keys if k in named_in_profile]:
        return None  # the layers both name run in another order: not this engine
    metadata = dict(zip(layer_keys, layers["metadata"].tolist(), strict=True))
    for run, region in zip(runs, regions, strict=True):
        if not _run_belongs(info, region[0], metadata.get(region), [prof_keys[i][0] for i in run]):
            return None  # the parts name no node of the region they would be summed into
    run_id = np.full(len(prof_keys), -1, dtype=np.int64)  # the run each part belongs to; -1: a row kept as is
    for r, run in enumerate(runs):
        run_id[run] = r
    kept = prof[run_id < 0]
    parts = prof[run_id >= 0]
    by_run = parts.groupby(run_id[run_id >= 0], sort=True)
    one_count = by_run["count"].nunique(dropna=True) == 1
    sums = {c: by_run[c].sum().where(by_run[c].count() == by_run[c].size()) for c in ("total_ms", "mean_ms",
                                                                                     "percentage")}
    folded_rows = pd.DataFrame({
        "name": [regions[r][0] for r in range(len(runs))],
        "occurrence": [regions[r][1] for r in range(len(runs))],
        "count": by_run["count"].first().where(one_count).to_numpy(),
        # a sum only where every part has the value (a partial sum would understate the region)
        **{c: v.to_numpy() for c, v in sums.items()},
        "median_ms": np.nan,  # a sum of medians is not a median
    })
    # the rows in execution order: kept rows where they were, each region's row where its first part was
    order = np.concatenate([np.flatnonzero(run_id < 0), np.array([run[0] for run in runs], dtype=np.int64)])
    merged = pd.concat([kept, folded_rows[list(PROFILE_COLUMNS)]], ignore_index=True)
    times = merged.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    # the reader's column types (text as objects; counts stay integers where every part had the same one)
    times = times.astype({c: prof[c].dtype for c in PROFILE_COLUMNS if c != "count" or times[c].notna().all()})
    folded = LayerProfile(times=times, count=profile.count, source=profile.source)
    return FoldedProfile(folded, parts=int((run_id >= 0).sum()), regions=len(runs))


def _run_belongs(info: LayerInfo, layer: str, metadata: str | None, parts: list[str]) -> bool:
    """Whether a run's parts name an ONNX node of the Myelin layer they would be summed into. Parts named after
    Myelin's own helpers (``__myl_…``, ``__mye…``) name none; a part ``<src>_myl<R>_<I>`` names ``<src>``."""
    region: set[str] = set(info.foreign_nodes.get(layer, ()))
    region.update(nm.metadata_nodes(metadata))
    ends = nm.foreign_node(layer)
    if ends is not None:
        region.update(ends)
    for part in parts:
        split = nm.myelin_parts(part)
        src = split[0] if split is not None else ""
        if src and not src.startswith(("__myl", "__mye")) and src in region:
            return True
    return False
