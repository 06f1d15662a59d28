"""``trtscope export``: the analysis tables as CSV / Parquet / JSON, or a Chrome/Perfetto trace."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from trtscope.cli.common import add_command, add_input_options, load_from_args
from trtscope.errors import OutputError, TrtscopeError
from trtscope.exporters.formats import EXPORT_FORMATS
from trtscope.exporters.tables import SUMMARY_FILE, TABLE_NAMES

TRACE_FORMAT = "chrome-trace"

EPILOG = f"""examples:
  trtscope export engine_dir/ --format csv -o tables/             every non-empty table, one CSV each
  trtscope export capture.trtscope/ --format parquet -o tables/ --table kernels --table layers
  trtscope export engine_dir/ --format json -o analysis.json     one document: summary + every table
  trtscope export capture.trtscope/ --format chrome-trace -o trace.json
                                  open it in https://ui.perfetto.dev or chrome://tracing (.json.gz works too)
  trtscope export --example --format csv -o tables/ --force      replace a previous export

tables: {", ".join(TABLE_NAMES)}
  csv/parquet write a directory: one file per table plus {SUMMARY_FILE}; json writes one file.
  In CSV, list cells (onnx_nodes, layer_indices) are JSON arrays. See docs/exports.md.
"""


def register(sub: Any, name: str, summary: str) -> None:
    p = add_command(sub, name, summary, EPILOG)
    add_input_options(p)
    # the formats are declared once, in trtscope.exporters.formats (the TUI's export dialog reads them too)
    p.add_argument("--format", "-f", required=True, choices=list(EXPORT_FORMATS), metavar="FORMAT",
                   help="; ".join(f"{f.name}: {f.summary}" for f in EXPORT_FORMATS.values()))
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="directory (csv, parquet) or file to write")
    p.add_argument("--table", dest="tables", action="append", choices=TABLE_NAMES, metavar="NAME",
                   help="export only this table (repeatable; written even when empty); default: every "
                        "table that has rows")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists (only a previous export)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if args.format == TRACE_FORMAT and args.tables:
        raise TrtscopeError("--table applies to csv, parquet and json exports, not to chrome-trace")
    # refuse before loading anything (the writers check again before they replace)
    empty_dir = out.is_dir() and not out.is_symlink() and not any(out.iterdir())
    if (out.exists() or out.is_symlink()) and not args.force and not empty_dir:
        raise OutputError(out, "already exists; pass --force to overwrite it")
    analysis = load_from_args(args)
    if args.format == TRACE_FORMAT:
        from trtscope.exporters.chrome_trace import write_chrome_trace

        res = write_chrome_trace(analysis, out, force=args.force)
        c = res.counts
        what = {
            "kernels": f"{c.get('kernels', 0)} kernels and {c.get('layer_slices', 0)} layer slices (measured)",
            "profile_means": f"{c.get('layer_slices', 0)} layers on a synthetic timeline "
            "(profile means laid end to end, not measured)",
            "none": "no layer timeline",
        }[res.timeline]
        extras = [f"{c[k]} {label}" for k, label in (("nvtx_ranges", "NVTX ranges"),
                                                     ("nvml_samples", "NVML counter samples")) if c.get(k)]
        print(f"wrote {out}: {', '.join([what, *extras])}; open it in https://ui.perfetto.dev or chrome://tracing")
        return 0
    from trtscope.exporters.tables import write_tables

    result = write_tables(analysis, out, args.format, tables=args.tables, force=args.force)
    rows = ", ".join(f"{name} ({n} rows)" for name, n in result.rows.items())
    extra = f" + {SUMMARY_FILE}" if args.format != "json" else " (with the summary)"
    kind = "directory" if args.format != "json" else "file"
    sys.stdout.write(f"wrote {args.format} {kind} {out}: {rows}{extra}\n")
    return 0
