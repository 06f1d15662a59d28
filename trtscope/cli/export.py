"""``trtscope export``: the analysis tables as CSV / Parquet / JSON, or a Chrome/Perfetto trace."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from trtscope.cli.common import add_command, add_input_options, load_from_args
from trtscope.errors import TrtscopeError
from trtscope.exporters.formats import EXPORT_FORMATS
from trtscope.exporters.tables import SUMMARY_FILE, TABLE_NAMES
from trtscope.exporters.targets import check_target

EPILOG = f"""examples:
  trtscope export engine_dir/ --format csv -o tables/             every non-empty table, one CSV each
  trtscope export capture.trtscope/ --format parquet -o tables/ --table kernels --table layers
  trtscope export engine_dir/ --format json -o analysis.json     one document: summary + every table
  trtscope export capture.trtscope/ --format chrome-trace -o trace.json
                                  open it in https://ui.perfetto.dev or chrome://tracing (.json.gz works too)
  trtscope export capture.trtscope/ --format nvtxt -o capture.nvtxt
                                  Nsight Systems annotations; then: trtscope nsys merge run.nsys-rep capture.nvtxt
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
    p.add_argument("--force", action="store_true",
                   help="replace OUT if it is a previous trtscope export (anything else is refused)")
    p.add_argument("--time-base", default="auto", choices=("auto", "manual", "relative", "monotonic-raw"),
                   help="nvtxt only: auto (default) = ClockMonotonicRaw for captures that recorded the clock "
                        "pairing, Relative for nsys imports, Manual otherwise; manual for a stand-alone report")
    p.set_defaults(func=run)


#: Output names that say "a file" (a directory format given one is a mistake, not a wish)
_FILE_SUFFIXES = frozenset({".csv", ".parquet", ".pq", ".json", ".gz", ".txt", ".tsv"})


def run(args: argparse.Namespace) -> int:
    from trtscope.exporters.formats import write_export

    out = Path(args.output)
    spec = EXPORT_FORMATS[args.format]
    if args.tables and "tables" not in spec.options:
        raise TrtscopeError(f"--table applies to csv, parquet and json exports, not to {args.format}")
    if spec.target == "directory" and out.suffix.lower() in _FILE_SUFFIXES and not os.path.lexists(out):
        # `-o tables.csv` (nothing there yet) would become a directory of that name holding one file per table
        from trtscope.errors import OutputError

        raise OutputError(out, f"--format {args.format} writes a directory (one file per table, plus summary.json): "
                               "give a directory name")
    # refuse before loading anything (the writers check again before they replace)
    check_target(out, directory=spec.target == "directory", force=args.force, parent=False)
    analysis = load_from_args(args)
    time_base = args.time_base if args.time_base != "auto" else None
    sys.stdout.write(write_export(analysis, args.format, out, force=args.force, tables=args.tables,
                                  time_base=time_base) + "\n")
    return 0
