"""From paths on the command line (or in a script) to one engine's :class:`Artifacts`, then to an Analysis.

A directory is read by content (every file is sniffed), a bundle by its manifest, and explicit ``layers=``,
``profile=``, ``times=``, ``onnx=`` name files directly and override what a directory holds. When several
candidates exist, the layer listing with the most detail wins and the profile that matches it best is paired
with it; a pair whose layer names do not match is an error when the user named both files, and a warning
(profile dropped) when trtscope picked them from a directory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trtscope.analysis.profile_pairing import fold_myelin_parts
from trtscope.errors import InputError
from trtscope.gcpause import collector_paused
from trtscope.model.artifacts import Artifacts, LayerInfo, LayerProfile, SourceFile
from trtscope.parsers.detect import Sniffed, is_document, sniff
from trtscope.parsers.onnx_graph import PendingGraph
from trtscope.parsers.onnx_wire import onnx_files_in

if TYPE_CHECKING:
    from trtscope.analysis.session import Analysis

PathLike = str | Path
#: Layer listings by preference: more detail first.
_DETAIL_RANK = {"detailed": 0, "oneline": 1, "legacy_log": 2, "names": 3}
#: Below this share of profiled layers found in the layer information, the two come from different engines.
MISMATCH_THRESHOLD = 0.5

Progress = Callable[[str], None]


def match_score(info: LayerInfo, profile: LayerProfile) -> float:
    """Share of profiled (name, occurrence) pairs that are layers of ``info``."""
    if profile.times.empty:
        return 0.0
    layers = info.layers
    if profile.times["name"].tolist() == layers["name"].tolist():
        return 1.0  # the usual pair (same names in the same order: occurrences equal too); no set of 20,000 keys
    keys = set(zip(layers["name"].tolist(), layers.groupby("name", sort=False).cumcount().tolist(), strict=True))
    prof = profile.times
    hits = sum(1 for k in zip(prof["name"].tolist(), prof["occurrence"].tolist(), strict=True) if k in keys)
    return hits / len(prof)


def _paired(info: LayerInfo, s: Sniffed) -> tuple[Sniffed, str | None]:
    """``s`` with its profile re-keyed on ``info``'s layers where TensorRT profiled Myelin regions as their parts
    (see analysis.profile_pairing), and the warning that says so; ``s`` unchanged and None otherwise."""
    assert s.profile is not None
    if match_score(info, s.profile) >= 1.0:
        return s, None
    folded = fold_myelin_parts(info, s.profile)
    if folded is None or match_score(info, folded.profile) < 1.0:
        return s, None
    return replace(s, profile=folded.profile), folded.note(s.path)


def _pair_score(info: LayerInfo, s: Sniffed) -> float:
    return match_score(info, _paired(info, s)[0].profile)  # type: ignore[arg-type]


def _describe(s: Sniffed) -> str:
    bits = []
    if s.layer_info is not None:
        bits.append(f"{len(s.layer_info.layers)} layers ({s.layer_info.detail})")
    if s.profile is not None:
        bits.append(f"profile of {len(s.profile.times)} layers")
    if s.times is not None:
        bits.append(f"{len(s.times)} iterations")
    return ", ".join(bits)


def _sniff_files(files: list[Path], warnings: list[str], progress: Progress | None) -> list[Sniffed]:
    found: list[Sniffed] = []
    for p in files:
        if progress:
            progress(f"reading {p.name}")
        try:
            s = sniff(p, strict=False)
        except InputError as err:
            warnings.append(f"skipped {err}")
            continue
        warnings.extend(s.warnings)
        if s.kinds:
            found.append(s)
    return found


def _require(s: Sniffed, kind: str, what: str) -> None:
    if kind not in s.kinds:
        got = ", ".join(s.kinds) or "nothing trtscope recognises"
        tried = f"; {s.json_error}" if s.json_error else (f"; read as {'; as '.join(s.tried)}" if s.tried else "")
        raise InputError(s.path, f"does not contain {what} (found: {got}{tried})")


#: Why an empty layer listing is refused (TensorRT lists every layer of a built engine; NONE lists none).
EMPTY_LAYER_INFO = ("lists no engine layers (an empty \"Layers\" list; an engine built with profiling verbosity NONE "
                    "has none): rebuild with --profilingVerbosity=detailed")


def load_artifacts(
    path: PathLike | None = None,
    *,
    layers: PathLike | None = None,
    profile: PathLike | None = None,
    times: PathLike | None = None,
    onnx: PathLike | None = None,
    example: bool = False,
    progress: Progress | None = None,
) -> Artifacts:
    """Read everything for one engine. See the module docstring for how candidates are chosen."""
    notes: list[str] = []
    if example:
        from trtscope.examples import EXAMPLE_NOTE, example_dir

        if path is not None:
            raise InputError(str(path), "give either a PATH or --example, not both")
        path = example_dir()
        notes.append(EXAMPLE_NOTE)
    art = Artifacts()
    warnings = art.warnings
    sniffed: list[Sniffed] = []
    onnx_candidates: list[Path] = []
    pending: PendingGraph | None = PendingGraph(onnx) if onnx is not None else None

    if path is not None:
        p = Path(path)
        if not p.exists():
            raise InputError(p, "no such file or directory")
        from trtscope.bundle.manifest import is_bundle

        if p.is_dir() and is_bundle(p):
            from trtscope.bundle.reader import read_bundle

            art = read_bundle(p, onnx=onnx is None)
            warnings = art.warnings
        elif p.is_dir():
            onnx_candidates, others = onnx_files_in(p)
            others = [f for f in others if not is_document(f)]  # READMEs, SOURCE.md, LICENSE...
            if onnx is None and onnx_candidates:
                # the ONNX walk overlaps the JSON parsing below (a worker process, on large graphs)
                pending = PendingGraph(onnx_candidates[0])
            sniffed = _sniff_files(others, warnings, progress)
            if not sniffed and not onnx_candidates:
                raise InputError(p, "no TensorRT artifacts found in this directory")
        else:
            s = sniff(p)
            if "onnx" in s.kinds:
                onnx_candidates.append(p)
            elif "nsys" in s.kinds:
                from trtscope.parsers.nsys_sqlite import read_report

                report = read_report(p, progress=progress)
                art = report.to_artifacts()
                art.graph_nodes = report.graph_nodes
                warnings = art.warnings
            else:
                warnings.extend(s.warnings)
                sniffed.append(s)

    explicit: dict[str, Sniffed] = {}
    for kind, value, what in (
        ("layer_info", layers, "TensorRT layer information"),
        ("profile", profile, "a per-layer profile (trtexec --exportProfile or a --dumpProfile log)"),
        ("times", times, "per-iteration times (trtexec --exportTimes)"),
    ):
        if value is not None:
            s = sniff(value)
            _require(s, kind, what)
            warnings.extend(s.warnings)
            explicit[kind] = s
    if onnx is not None:
        onnx_candidates = [Path(onnx)]

    from_directory = path is not None and Path(path).is_dir()
    _choose(art, sniffed, explicit, warnings, strict_pairs=not from_directory)
    if len(onnx_candidates) > 1:
        warnings.append(
            f"{len(onnx_candidates)} ONNX models found; using {onnx_candidates[0].name} "
            f"(name one with --onnx)"
        )
    if onnx_candidates:
        if progress:
            progress(f"reading ONNX graph {onnx_candidates[0].name}")
        if pending is None or pending.path != onnx_candidates[0]:
            pending = PendingGraph(onnx_candidates[0])
        art.onnx = pending.result()
        warnings.extend(art.onnx.warnings)
        art.sources.append(SourceFile(str(onnx_candidates[0]), "onnx", f"{len(art.onnx.nodes)} nodes"))
    if notes:
        art.metadata.setdefault("notes", []).extend(notes)
    info = art.layer_info
    if info is not None and info.layers.empty:
        # TensorRT lists every layer of a built engine; an empty listing is no layer information at all
        problem = EMPTY_LAYER_INFO
        has_other = art.profile is not None or len(art.kernels) > 0 or any(s.kind == "bundle" for s in art.sources)
        if not has_other:
            raise InputError(info.source, problem)
        warnings.append(f"{info.source} {problem}; reporting without it")
        art.sources = [f for f in art.sources if f.kind != "layer_info"]
        art.layer_info = info = None
    if info is not None and info.detail == "names":
        warnings.append(
            f"{info.source} has layer names only (the engine was built with profiling verbosity "
            "LAYER_NAMES_ONLY): no layer types, tactics, tensors or ONNX Metadata; ONNX nodes are inferred from "
            "the names. Rebuild with --profilingVerbosity=detailed for the full picture"
        )
    elif info is not None and info.detail == "legacy_log":
        warnings.append(
            f"{info.source}: layer listing from a verbose build log's 'Engine Layer Information' (no Metadata, "
            "no tactic names); export the layer information (trtexec --exportLayerInfo) for exact ONNX mapping"
        )
    if art.layer_info is None and art.profile is not None:
        warnings.append("no layer information: layers and their ONNX nodes are inferred from the profile's names")
    if art.layer_info is None and art.profile is None and len(art.kernels):
        warnings.append("no layer information: kernels are shown by NVTX range only; pass --layers (the engine's "
                        "layer information) to map them to layers and ONNX nodes")
    elif art.layer_info is None and art.profile is None and not any(s.kind == "bundle" for s in art.sources):
        # (a bundle may hold only NVML samples: a timeline is still worth showing)
        where = path if path is not None else (layers or profile or times or onnx)
        raise InputError(where, "no layer information and no per-layer profile found: nothing to analyse "
                                     "(give --layers and/or --profile)")
    return art


def _choose(
    art: Artifacts,
    sniffed: Sequence[Sniffed],
    explicit: dict[str, Sniffed],
    warnings: list[str],
    *,
    strict_pairs: bool,
) -> None:
    """Pick the layer info, profile and times among the candidates and fill ``art``.

    ``strict_pairs``: the user named the files (not a directory), so a mismatched pair is an error.
    """
    for s in sniffed:
        art.metadata.update({k: v for k, v in s.metadata.items() if k not in art.metadata})
    infos = [s for s in sniffed if s.layer_info is not None]
    profiles = [s for s in sniffed if s.profile is not None]
    times = [s for s in sniffed if s.times is not None]

    explicit_info = explicit.get("layer_info")
    explicit_prof = explicit.get("profile")
    if explicit_info is not None:
        infos = [explicit_info]
    if explicit_prof is not None:
        profiles = [explicit_prof]
    if "times" in explicit:
        times = [explicit["times"]]

    chosen_info: Sniffed | None = None
    if infos:
        best_rank = min(_DETAIL_RANK.get(s.layer_info.detail, 9) for s in infos)  # type: ignore[union-attr]
        top = [s for s in infos if _DETAIL_RANK.get(s.layer_info.detail, 9) == best_rank]  # type: ignore[union-attr]
        if len(top) > 1 and profiles:
            top.sort(key=lambda s: -max(_pair_score(s.layer_info, p) for p in profiles))  # type: ignore[arg-type]
        chosen_info = top[0]
        others = [s for s in infos if s is not chosen_info]
        if others and art.layer_info is None:
            warnings.append(
                f"using layer information from {chosen_info.path.name}; also found in "
                + ", ".join(s.path.name for s in others)
            )
    base_info = chosen_info.layer_info if chosen_info is not None else art.layer_info
    if base_info is not None and base_info.layers.empty:
        base_info = None  # nothing to pair a profile with (load_artifacts says why)

    chosen_prof: Sniffed | None = None
    if profiles:
        if base_info is not None:
            paired = [_paired(base_info, s) for s in profiles]
            notes = {id(p): note for p, note in paired}
            profiles = [p for p, _ in paired]
            scored = sorted(profiles, key=lambda s: -match_score(base_info, s.profile))  # type: ignore[arg-type]
            chosen_prof = scored[0]
            if notes[id(chosen_prof)] is not None:
                warnings.append(notes[id(chosen_prof)])  # type: ignore[arg-type]
            score = match_score(base_info, chosen_prof.profile)  # type: ignore[arg-type]
            if score < MISMATCH_THRESHOLD:
                n = len(chosen_prof.profile.times)  # type: ignore[union-attr]
                hits = round(score * n)
                problem = (
                    f"layer names do not match the layer information in {base_info.source}: only {hits} of {n} "
                    "profiled layers are in it (the two files come from different engine builds?)"
                )
                if strict_pairs or explicit_prof is not None:
                    raise InputError(chosen_prof.path, problem)
                warnings.append(f"ignoring profile {chosen_prof.path}: {problem}")
                art.metadata["ignored_profile"] = {"path": str(chosen_prof.path), "matched": hits, "profiled": n,
                                                   "layer_info": base_info.source}
                chosen_prof = None
        else:
            chosen_prof = profiles[0]
        if chosen_prof is not None and len(profiles) > 1:
            warnings.append(
                f"using the profile in {chosen_prof.path.name}; also found in "
                + ", ".join(s.path.name for s in profiles if s is not chosen_prof)
            )

    if chosen_info is not None:
        art.layer_info = chosen_info.layer_info
        art.sources.append(SourceFile(str(chosen_info.path), "layer_info", _describe(chosen_info)))
    if chosen_prof is not None:
        art.profile = chosen_prof.profile
        if chosen_prof is not chosen_info:
            art.sources.append(SourceFile(str(chosen_prof.path), "profile", _describe(chosen_prof)))
    if times:
        t = times[0]
        art.iterations = t.times
        art.iterations_source = str(t.path)
        art.sources.append(SourceFile(str(t.path), "times", _describe(t)))
        if len(times) > 1:
            warnings.append(f"using per-iteration times from {t.path.name}; ignoring "
                            + ", ".join(s.path.name for s in times[1:]))
    for s in explicit.values():
        art.metadata.update({k: v for k, v in s.metadata.items() if k not in art.metadata})
    for s in sniffed:
        if s.kinds == ["metadata"] or s.kinds == ["log"]:
            art.sources.append(SourceFile(str(s.path), s.kinds[0], ", ".join(sorted(s.metadata))))


def load(path: PathLike | None = None, *, attribution: str = "anchor", **kwargs: Any) -> Analysis:
    """Load and analyse: ``trtscope.load("dir/")`` or ``trtscope.load(layers=..., profile=..., onnx=...)``.

    ``attribution`` ("anchor" or "split") decides how layer time is derived per ONNX node and op type."""
    from trtscope.analysis.session import analyze

    with collector_paused():
        return analyze(load_artifacts(path, **kwargs), attribution=attribution)
