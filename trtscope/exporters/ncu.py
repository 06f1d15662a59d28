"""Nsight Compute command lines that profile one layer's kernels (``trtscope ncu command``).

Nsight Compute selects kernels by the NVTX ranges around their launch (``--nvtx --nvtx-include``), by name
(``--kernel-name``) and by count (``--launch-skip`` / ``--launch-count``, which count only launches that pass
the other filters). Its NVTX configuration syntax (Nsight Compute CLI guide, "NVTX Filtering"):
``Domain@Range`` matches a start/end range, ``Domain@Range/`` a push/pop range anywhere in the thread's stack;
``@ , [ ] / * +`` inside a name need a ``\\`` before them and a backslash is written ``\\\\``; several
``--nvtx-include`` options select kernels inside any of them. One configuration cannot mix domains.

What is known about the layer decides the command: a bundle's own NVTX ranges give the exact domain, text and
range type; without them trtscope assumes TensorRT's per-layer ranges (domain ``TensorRT``, text = layer name)
and includes both range types. A capture's kernels give the kernels per execution (the launch count) and their
names. Pure: no process is started here.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trtscope.analysis.executions import layer_executions
from trtscope.analysis.kernels import time_by
from trtscope.errors import TrtscopeError

if TYPE_CHECKING:
    from trtscope.analysis.session import Analysis

#: TensorRT's NVTX domain for per-layer ranges (assumed when a bundle shows none).
TENSORRT_DOMAIN = "TensorRT"
PUSH_POP = "push_pop"
START_END = "start_end"
_QUANTIFIERS = frozenset("@,[]/*+")


def escape_nvtx(name: str) -> str:
    """A domain or range name as literal text in an ``--nvtx-include`` configuration."""
    out = []
    for c in name:
        if c == "\\":
            out.append("\\\\")
        elif c in _QUANTIFIERS:
            out.append("\\" + c)
        else:
            out.append(c)
    return "".join(out)


def nvtx_configs(text: str, domain: str | None, kinds: Sequence[str]) -> list[str]:
    """``--nvtx-include`` values for a range named ``text`` in ``domain`` (None: the default domain)."""
    prefix = f"{escape_nvtx(domain)}@" if domain else ""
    body = escape_nvtx(text)
    out = []
    for k in kinds:
        out.append(f"{prefix}{body}/" if k == PUSH_POP else f"{prefix}{body}")
    return out


def kernel_name_filter(names: Sequence[str]) -> tuple[str, str] | None:
    """(``--kernel-name-base``, ``--kernel-name``) matching exactly these kernel names, or None when their
    forms differ (mangled ``_Z…``, demangled with parameters, plain C names)."""
    if not names:
        return None

    def base(n: str) -> str:
        return "mangled" if n.startswith("_Z") else "demangled" if "(" in n else "function"

    bases = {base(n) for n in names}
    if len(bases) != 1:
        return None
    uniq = list(dict.fromkeys(names))
    if len(uniq) == 1:
        return bases.pop(), uniq[0]
    return bases.pop(), "regex:^(" + "|".join(re.escape(n) for n in uniq) + ")$"


@dataclass
class LayerTarget:
    """What trtscope knows about one layer's NVTX ranges and kernels."""

    name: str
    domains: list[str | None]
    kinds: list[str]
    nvtx_source: str  # "bundle" (seen in its NVTX ranges) | "assumed" (TensorRT's per-layer ranges)
    kernels_per_execution: int | None = None
    executions_seen: int = 0
    kernel_names: list[str] = field(default_factory=list)
    varying: bool = False  # executions ran different numbers of kernels


def _layer_names(a: Analysis) -> list[str]:
    names = [str(x) for x in a.layers["name"].tolist()] if len(a.layers) else []
    if "layer_name" in a.kernels.columns:
        names += [str(x) for x in a.kernels["layer_name"].dropna().unique().tolist() if str(x) not in names]
    return names


def top_layers(a: Analysis, n: int) -> list[str]:
    """The ``n`` layers with the most time: the hotspot ranking, else GPU time per layer from the kernels."""
    if len(a.hotspots):
        return [str(x) for x in a.hotspots["name"].head(n).tolist()]
    by = time_by(a.kernels, "layer_name", n)
    return [str(x) for x in by["name"].tolist()]


def layer_target(a: Analysis, name: str, domain: str | None = None) -> LayerTarget:
    """Resolve ``name`` against the analysis: its NVTX ranges (domain, type) and its kernels."""
    if name not in _layer_names(a):
        known = _layer_names(a)
        hint = f"; layers include {', '.join(repr(x) for x in known[:5])}" if known else ""
        raise TrtscopeError(f"no layer named {name!r} in this input{hint}")
    r = a.nvtx_ranges
    domains: list[str | None] = []
    kinds: list[str] = []
    src = "assumed"
    if len(r) and "name" in r.columns:
        mine = r[r["name"].astype(object).eq(name).to_numpy()]
        if domain is not None and "domain" in mine.columns:
            mine = mine[mine["domain"].astype(object).eq(domain).to_numpy()]
        if len(mine):
            src = "bundle"
            dom = mine["domain"].astype(object).tolist() if "domain" in mine.columns else [None] * len(mine)
            domains = list(dict.fromkeys(d if isinstance(d, str) and d else None for d in dom))
            if "kind" in mine.columns:
                kinds = [k for k in dict.fromkeys(mine["kind"].astype(object).tolist()) if k in (PUSH_POP, START_END)]
    if not domains:
        domains = [domain or TENSORRT_DOMAIN]
    if not kinds:
        kinds = [PUSH_POP, START_END]
    t = LayerTarget(name, domains, kinds, src)
    ex = layer_executions(a.kernels)
    if len(ex):
        mine_ex = ex[ex["layer_name"].astype(object).eq(name).to_numpy()]
        if len(mine_ex):
            counts = Counter(int(x) for x in mine_ex["kernels"].tolist())
            t.kernels_per_execution = counts.most_common(1)[0][0]
            t.varying = len(counts) > 1
            t.executions_seen = len(mine_ex)
            k = a.kernels
            if "name" in k.columns:
                sel = k["layer_name"].astype(object).eq(name).to_numpy()
                t.kernel_names = [str(x) for x in dict.fromkeys(k.loc[sel, "name"].dropna().tolist())]
    return t


@dataclass
class NcuCommand:
    layer: str
    argv: list[str]
    notes: list[str]

    @property
    def command(self) -> str:
        return shlex.join(self.argv)

    def as_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "argv": self.argv, "command": self.command, "notes": self.notes}


def trtexec_runner(engine: str, iterations: int, tensorrt_version: str | None) -> tuple[list[str], list[str]]:
    """``trtexec --loadEngine`` with no warm-up and no timed duration, and CUDA graphs off where the version
    turns them on by default (NVTX ranges are recorded at graph capture, not at replay)."""
    argv = ["trtexec", f"--loadEngine={engine}", "--warmUp=0", "--duration=0", f"--iterations={iterations}"]
    notes: list[str] = []
    major = None
    if tensorrt_version:
        m = re.match(r"(\d+)", str(tensorrt_version))
        major = int(m.group(1)) if m else None
    if major is not None and major >= 11:
        argv.append("--noCudaGraph")
    elif major is None:
        notes.append("TensorRT version unknown: with trtexec 11 add --noCudaGraph (its default CUDA graphs hide "
                     "the per-layer NVTX ranges from Nsight Compute)")
    return argv, notes


def ncu_command(
    a: Analysis,
    layer: str,
    runner: Sequence[str],
    *,
    execution: int = 0,
    executions: int = 1,
    domain: str | None = None,
    kernel_names: bool = False,
    output: str | None = None,
    extra: Sequence[str] = (),
) -> NcuCommand:
    """The ``ncu`` command that profiles the kernels of executions ``execution .. execution+executions-1``
    (0-based, counted from the first execution in the profiled process) of ``layer``."""
    if execution < 0 or executions < 1:
        raise TrtscopeError("--execution must be >= 0 and --executions >= 1")
    if not runner:
        raise TrtscopeError("no command to profile: give --engine ENGINE or --run \"COMMAND\"")
    t = layer_target(a, layer, domain)
    notes: list[str] = []
    argv = ["ncu", "--nvtx"]
    for d in t.domains:
        for cfg in nvtx_configs(t.name, d, t.kinds):
            argv += ["--nvtx-include", cfg]
    if t.nvtx_source == "assumed":
        notes.append(f"assumed TensorRT's per-layer NVTX ranges (domain {t.domains[0]!r}, text = layer name, "
                     "either range type); an engine built with profiling verbosity NONE has none, and with "
                     "DETAILED the text may hold more than the name: check one in Nsight Systems")
    if t.kernel_names:
        f = kernel_name_filter(t.kernel_names)
        if kernel_names and f is not None:
            argv += ["--kernel-name-base", f[0], "--kernel-name", f[1]]
        elif kernel_names:
            notes.append("the layer's kernel names come in different forms (mangled / demangled): no --kernel-name")
        else:
            shown = ", ".join(t.kernel_names[:3]) + (" …" if len(t.kernel_names) > 3 else "")
            notes.append(f"kernels seen in this input: {shown}. They are not filtered on (--kernel-names adds "
                         "it): cuBLAS/TensorRT pick other kernels on other GPUs and versions, and a name that "
                         "does not match profiles nothing")
    if t.kernels_per_execution is not None:
        argv += ["--launch-skip", str(execution * t.kernels_per_execution),
                 "--launch-count", str(executions * t.kernels_per_execution)]
        if t.varying:
            notes.append(f"executions of this layer ran different numbers of kernels; counted "
                         f"{t.kernels_per_execution} per execution (the most common)")
    else:
        notes.append("kernels per execution unknown (no capture of this engine's kernels): no --launch-count, so "
                     "every matching kernel in the run is profiled; run as few inferences as possible")
    if output:
        argv += ["-o", output]
    argv += list(extra)
    return NcuCommand(layer, [*argv, *runner], notes)


__all__ = [
    "PUSH_POP", "START_END", "TENSORRT_DOMAIN", "LayerTarget", "NcuCommand", "escape_nvtx", "kernel_name_filter",
    "layer_target", "ncu_command", "nvtx_configs", "top_layers", "trtexec_runner",
]

