"""``trtscope export``: the analysis tables as CSV / Parquet / JSON, or a Chrome/Perfetto trace."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from trtscope.cli.common import add_command, add_input_options, load_from_args
from trtscope.errors import TrtscopeError
from trtscope.exporters.tables import FORMATS, SUMMARY_FILE, TABLE_NAMES
from trtscope.exporters.targets import check_target

TRACE_FORMAT = "chrome-trace"
NVTXT_FORMAT = "nvtxt"

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
    p.add_argument("--format", "-f", required=True, choices=[*FORMATS, TRACE_FORMAT, NVTXT_FORMAT], metavar="FORMAT",
                   help="csv or parquet (a directory of files); json, chrome-trace or nvtxt (one file)")
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


def run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if args.format in (TRACE_FORMAT, NVTXT_FORMAT) and args.tables:
        raise TrtscopeError(f"--table applies to csv, parquet and json exports, not to {args.format}")
    # refuse before loading anything (the writers check again before they replace)
    check_target(out, directory=args.format in ("csv", "parquet"), force=args.force, parent=False)
    analysis = load_from_args(args)
    if args.format == NVTXT_FORMAT:
        from trtscope.exporters.nvtxt import write_nvtxt

        nv = write_nvtxt(analysis, out, time_base=args.time_base, force=args.force)
        print(f"wrote {out}: {nv.ranges} ranges and {nv.markers} markers, TimeBase {nv.time_base}"
              f"{' (synthetic: profile means laid end to end)' if nv.timeline == 'profile_means' else ''}; "
              f"trtscope nsys merge REPORT.nsys-rep {out} -o OUT.nsys-rep lays it onto a report")
        return 0
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
