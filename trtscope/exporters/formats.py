"""Every format ``trtscope export`` writes, declared once: the CLI's ``--format`` choices and the TUI's export
dialog are built from :data:`EXPORT_FORMATS`, so a format added here appears in both without touching either.

Each entry says whether it writes a directory or one file, a default name, and how to write it (atomically,
through the exporter that owns the format); :func:`write_export` returns a one-line summary of what it wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from trtscope.errors import TrtscopeError
from trtscope.exporters.tables import FORMATS as TABLE_FORMATS

if TYPE_CHECKING:
    from trtscope.analysis.session import Analysis

Writer = Callable[["Analysis", Path, bool], str]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    #: "directory" (one file per table) or "file"
    target: str
    summary: str
    #: default output name, e.g. "trtscope-tables" or "trtscope-trace.json"
    default_name: str
    write: Writer


def _tables_writer(fmt: str) -> Writer:
    def write(a: Analysis, out: Path, force: bool) -> str:
        from trtscope.exporters.tables import write_tables

        res = write_tables(a, out, fmt, force=force)
        rows = sum(res.rows.values())
        return f"wrote {fmt} {'file' if fmt == 'json' else 'directory'} {out}: {len(res.rows):,} tables, " \
               f"{rows:,} rows"

    return write


def _chrome_trace(a: Analysis, out: Path, force: bool) -> str:
    from trtscope.exporters.chrome_trace import write_chrome_trace

    res = write_chrome_trace(a, out, force=force)
    parts = [f"{n:,} {k.replace('_', ' ')}" for k, n in res.counts.items() if n]
    return f"wrote chrome-trace {out}: {', '.join(parts) or 'no events'}; open it in https://ui.perfetto.dev"


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
}


def write_export(a: Analysis, fmt: str, out: str | Path, *, force: bool = False) -> str:
    """Write ``a`` in format ``fmt`` to ``out`` (refusing to replace anything without ``force``)."""
    if fmt not in EXPORT_FORMATS:
        raise TrtscopeError(f"unknown export format {fmt!r}; choose from {', '.join(EXPORT_FORMATS)}")
    return EXPORT_FORMATS[fmt].write(a, Path(out), force)
