"""Every format ``trtscope export`` writes, declared once: the CLI's ``--format`` choices and the TUI's export
dialog are built from :data:`EXPORT_FORMATS`, so a format added here appears in both without touching either.

Each entry says whether it writes a directory or one file, a default name, and how to write it (atomically,
through the exporter that owns the format); :func:`write_export` returns a one-line summary of what it wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trtscope.errors import TrtscopeError
from trtscope.exporters.tables import FORMATS as TABLE_FORMATS

if TYPE_CHECKING:
    from trtscope.analysis.session import Analysis

#: (analysis, output path, force, format options) -> one line saying what was written
Writer = Callable[["Analysis", Path, bool, dict[str, Any]], str]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    #: "directory" (one file per table) or "file"
    target: str
    summary: str
    #: default output name, e.g. "trtscope-tables" or "trtscope-trace.json"
    default_name: str
    write: Writer
    #: the options this format takes (``tables`` for table formats, ``time_base`` for nvtxt)
    options: tuple[str, ...] = ()


def _tables_writer(fmt: str) -> Writer:
    def write(a: Analysis, out: Path, force: bool, options: dict[str, Any]) -> str:
        from trtscope.exporters.tables import SUMMARY_FILE, write_tables

        res = write_tables(a, out, fmt, tables=options.get("tables"), force=force)
        rows = ", ".join(f"{name} ({n:,} rows)" for name, n in res.rows.items())
        extra = f" + {SUMMARY_FILE}" if fmt != "json" else " (with the summary)"
        return f"wrote {fmt} {'file' if fmt == 'json' else 'directory'} {out}: {rows}{extra}"

    return write


def _chrome_trace(a: Analysis, out: Path, force: bool, options: dict[str, Any]) -> str:
    from trtscope.exporters.chrome_trace import write_chrome_trace

    res = write_chrome_trace(a, out, force=force)
    c = res.counts
    what = {
        "kernels": f"{c.get('kernels', 0):,} kernels and {c.get('layer_slices', 0):,} layer slices (measured)",
        "profile_means": f"{c.get('layer_slices', 0):,} layers on a synthetic timeline (profile means laid end to "
        "end, not measured)",
        "none": "no layer timeline",
    }[res.timeline]
    extras = [f"{c[k]:,} {label}" for k, label in (("nvtx_ranges", "NVTX ranges"),
                                                   ("nvml_samples", "NVML samples")) if c.get(k)]
    return (f"wrote chrome-trace {out}: {', '.join([what, *extras])}; open it in https://ui.perfetto.dev or "
            "chrome://tracing")


def _nvtxt(a: Analysis, out: Path, force: bool, options: dict[str, Any]) -> str:
    from trtscope.exporters.nvtxt import write_nvtxt

    nv = write_nvtxt(a, out, time_base=options.get("time_base") or "auto", force=force)
    synthetic = " (synthetic: profile means laid end to end)" if nv.timeline == "profile_means" else ""
    return (f"wrote nvtxt {out}: {nv.ranges:,} ranges and {nv.markers:,} markers, TimeBase {nv.time_base}"
            f"{synthetic}; trtscope nsys merge REPORT.nsys-rep {out} -o OUT.nsys-rep lays it onto a report")


_TABLE_SUMMARY = {
    "csv": "every table as CSV, one file each, plus summary.json (a directory)",
    "parquet": "every table as Parquet, one file each, plus summary.json (a directory)",
    "json": "one JSON document: the summary and every table",
}

EXPORT_FORMATS: dict[str, ExportFormat] = {
    **{f: ExportFormat(f, "file" if f == "json" else "directory", _TABLE_SUMMARY.get(f, f"every table as {f}"),
                       "trtscope-export.json" if f == "json" else f"trtscope-{f}", _tables_writer(f))
       for f in TABLE_FORMATS},
    "chrome-trace": ExportFormat("chrome-trace", "file", "a Chrome/Perfetto trace of kernels, layers, NVTX ranges "
                                 "and NVML counters", "trtscope-trace.json", _chrome_trace),
    "nvtxt": ExportFormat("nvtxt", "file", "an NVTXT file for Nsight Systems' ImportNvtxt: one range per layer "
                          "execution with its ONNX nodes", "trtscope.nvtxt", _nvtxt, ("time_base",)),
}
for _f in TABLE_FORMATS:
    EXPORT_FORMATS[_f] = ExportFormat(**{**EXPORT_FORMATS[_f].__dict__, "options": ("tables",)})


def write_export(a: Analysis, fmt: str, out: str | Path, *, force: bool = False, **options: Any) -> str:
    """Write ``a`` in format ``fmt`` to ``out`` (refusing to replace anything without ``force``); ``options``
    the format takes (see ``ExportFormat.options``); others given a value are an error."""
    if fmt not in EXPORT_FORMATS:
        raise TrtscopeError(f"unknown export format {fmt!r}; choose from {', '.join(EXPORT_FORMATS)}")
    spec = EXPORT_FORMATS[fmt]
    unused = [k for k, v in options.items() if v and k not in spec.options]
    if unused:
        raise TrtscopeError(f"--{unused[0].replace('_', '-')} does not apply to {fmt} exports")
    return spec.write(a, Path(out), force, options)
