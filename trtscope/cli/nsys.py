"""``trtscope nsys``: import an Nsight Systems SQLite export into a bundle, print the capture commands, or merge
trtscope's NVTXT annotations into an Nsight Systems report."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from trtscope.cli.common import add_command_group
from trtscope.errors import TrtscopeError

EPILOG = """examples:
  trtscope nsys command --trtexec="--onnx=model.onnx --fp16" -o resnet
  nsys profile ... (as printed)   then   nsys export --type sqlite -o resnet.sqlite resnet.nsys-rep
  trtscope nsys import resnet.sqlite --layers resnet.layers.json --onnx model.onnx -o resnet.trtscope
  trtscope report resnet.trtscope
  trtscope nsys merge resnet.nsys-rep resnet.trtscope -o resnet+layers.nsys-rep   layer/ONNX annotations on it
"""
IMPORT_EPILOG = """examples:
  trtscope nsys import run.sqlite -o run.trtscope
  trtscope nsys import run.sqlite --layers model.layers.json --onnx model.onnx -o run.trtscope --force
  trtscope nsys import run.sqlite -o run.trtscope --json | jq .counts

The report must be an `nsys export --type sqlite` file of a capture with --trace=cuda,nvtx; kernels are tied to
the innermost NVTX range around their launch on the launching thread, and to an engine layer when a range names
one (pass the engine's layer information with --layers).
"""
COMMAND_EPILOG = """examples:
  trtscope nsys command --trtexec="--onnx=model.onnx --fp16 --shapes=input:1x3x224x224" -o resnet
  trtscope nsys command --trtscope-profile="model.onnx --fp16 -o resnet.trtscope" -o resnet --json

Write --trtexec="ARGS" with "=": argparse would otherwise take "--onnx=..." for an option of its own.
"""
MERGE_EPILOG = """examples:
  trtscope nsys merge run.nsys-rep capture.nvtxt -o run+trtscope.nsys-rep
  trtscope nsys merge run.nsys-rep run.trtscope/ -o run+trtscope.nsys-rep      export the NVTXT, then merge
  trtscope nsys merge run.nsys-rep resnet_dir/ -o out.nsys-rep --at 2500000000   place a synthetic timeline
  trtscope nsys merge run.nsys-rep capture.nvtxt -o out.nsys-rep --print        only print the command

Runs Nsight Systems' ImportNvtxt (--cmd merge): $TRTSCOPE_IMPORTNVTXT, else ImportNvtxt on PATH, else a standard
install (/opt/nvidia/nsight-systems/*/host-linux-x64). Where none is found, the exact command is printed and
the exit code is 2. Events outside the report's time window are skipped by ImportNvtxt unless
--update-report-time; the count it imported is compared with the count written. A capture's file (TimeBase
ClockMonotonicRaw) needs the report's machine (--target HW:VM, found from ImportNvtxt's message when the report
has one) and its times moved by the report's analysis start, which ImportNvtxt places them early by
(docs/exports.md: checked with Nsight Systems 2022.4 on a report nsys profile made).
"""


def register(subparsers: Any, name: str, summary: str) -> None:
    sub = add_command_group(subparsers, name, summary, EPILOG, "nsys_command")

    imp = sub.add_parser("import", help="read an nsys SQLite export and write a trtscope bundle",
                         description="Read an `nsys export --type sqlite` file and write a trtscope bundle: kernels "
                         "(with their launching thread, innermost NVTX range and engine layer), NVTX ranges and "
                         "CUDA API calls.", epilog=IMPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    imp.add_argument("report", type=Path, metavar="REPORT.sqlite", help="the SQLite export (read-only)")
    imp.add_argument("--layers", type=Path, metavar="F",
                     help="engine layer information (--exportLayerInfo JSON or a log), copied into the bundle")
    imp.add_argument("--onnx", type=Path, metavar="F", help="the ONNX model, copied into the bundle")
    imp.add_argument("-o", "--output", type=Path, required=True, metavar="BUNDLE", help="bundle directory to write")
    imp.add_argument("--force", action="store_true", help="replace BUNDLE if it is a previous trtscope bundle "
                     "(anything else is refused); the old one stays until the new one is complete")
    imp.add_argument("--json", action="store_true", help="print one JSON document instead of the summary")
    imp.set_defaults(func=run_import)

    cmd = sub.add_parser("command", help="print the nsys commands that capture what trtscope needs",
                         description="Print the `nsys profile`, `nsys export` and `trtscope nsys import` command "
                         "lines for a trtexec run or a `trtscope profile` run.", epilog=COMMAND_EPILOG,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    what = cmd.add_mutually_exclusive_group(required=True)
    what.add_argument("--trtexec", metavar='"ARGS"', help="trtexec arguments, quoted as one string")
    what.add_argument("--trtscope-profile", metavar='"ARGS"', help="`trtscope profile` arguments, quoted")
    cmd.add_argument("-o", "--output", default="capture", metavar="NAME",
                     help="report name: NAME.nsys-rep, NAME.sqlite, NAME.trtscope (default: capture)")
    cmd.add_argument("--osrt", action="store_true", help="also trace OS runtime calls (--trace=cuda,nvtx,osrt)")
    cmd.add_argument("--json", action="store_true", help="print the commands as a JSON list")
    cmd.set_defaults(func=run_command)

    mrg = sub.add_parser("merge", help="merge trtscope's NVTXT annotations into an Nsight Systems report",
                         description="Lay an NVTXT file (or any trtscope input, exported to NVTXT first) onto an "
                         "existing .nsys-rep with Nsight Systems' ImportNvtxt --cmd merge.", epilog=MERGE_EPILOG,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    mrg.add_argument("report", type=Path, metavar="REPORT.nsys-rep", help="the report to merge into (read-only)")
    mrg.add_argument("input", metavar="INPUT", help="an .nvtxt file, or a bundle / artifact directory / file")
    mrg.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.nsys-rep", help="report to write")
    mrg.add_argument("--at", type=int, metavar="NS", help="place the file's first time value at NS ns of the "
                     "report (ImportNvtxt --mode lin); for Manual time bases")
    mrg.add_argument("--update-report-time", action="store_true",
                     help="extend the report's time window to the merged events instead of dropping those outside")
    mrg.add_argument("--time-base", default="auto", choices=("auto", "manual", "relative", "monotonic-raw"),
                     help="when INPUT is not an .nvtxt file: the time base of the NVTXT written beside OUT")
    mrg.add_argument("--target", metavar="HW:VM", help="the report's machine a ClockMonotonicRaw file's times "
                     "are converted on (ImportNvtxt --target; found by default when the report has one)")
    mrg.add_argument("--print", dest="print_only", action="store_true", help="print the command, run nothing")
    mrg.add_argument("--force", action="store_true", help="overwrite OUT (and the NVTXT written beside it)")
    mrg.set_defaults(func=run_merge)


# --- import ------------------------------------------------------------------------------------------------
@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str], None]]:
    """Rich progress on stderr (only on a terminal, so --json output and pipes stay clean)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda _msg: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as prog:
        task = prog.add_task("opening the report…", total=None)
        yield lambda msg: prog.update(task, description=msg + "…")


def run_import(args: argparse.Namespace) -> int:
    from trtscope.importers.nsys import import_nsys

    with _progress(not args.json) as step:
        res = import_nsys(args.report, args.output, layers=args.layers, onnx=args.onnx, force=args.force,
                          progress=step)
    doc = {"bundle": str(res.bundle), **res.run, "warnings": res.notes, "top_ranges": res.top_ranges}
    if res.top_layers is not None:
        doc["top_layers"] = res.top_layers
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
    else:
        _print_summary(doc)
    return 0


def _print_summary(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    c = doc["counts"]
    t = Table(title=f"nsys import → {escape(doc['bundle'])}", show_header=False, title_justify="left")
    t.add_column(style="bold", no_wrap=True)
    t.add_column(overflow="fold")
    t.add_row("report", escape(str(doc["source_file"])))
    t.add_row("nsys", escape(f"{doc.get('nsys_version') or '?'} (schema {doc.get('nsys_schema_version') or '?'})"))
    t.add_row("GPU", escape(str(doc.get("gpu") or "?")))
    if doc.get("command"):
        t.add_row("command", escape(str(doc["command"])))
    t.add_row("kernels", f"{c['kernels']:,} ({c['kernel_gpu_ns'] / 1e6:,.3f} ms GPU)")
    t.add_row("in an NVTX range", f"{c['kernels_in_range']:,}")
    t.add_row("on an engine layer", f"{c['kernels_on_layer']:,}" if "top_layers" in doc else "– (no --layers)")
    if c["kernels_from_graphs"]:
        unattributed = c["kernels_graph_unattributed"]
        t.add_row("from CUDA graphs", f"{c['kernels_from_graphs']:,} ({unattributed:,} unattributed)")
    if c["graph_level_launches"]:
        gpu_ms = c["graph_level_gpu_ns"] / 1e6
        launches = c["graph_level_launches"]
        t.add_row("graph-level only", f"{launches:,} launches, {gpu_ms:,.3f} ms GPU without kernel detail")
    console.print(t)
    top = doc.get("top_layers") or doc.get("top_ranges")
    if top:
        tt = Table(title="top layers" if doc.get("top_layers") else "top NVTX ranges (innermost)", title_justify="left")
        tt.add_column("name", overflow="fold")
        tt.add_column("kernels", justify="right")
        tt.add_column("GPU ms", justify="right")
        for row in top:
            tt.add_row(escape(row["name"]), f"{row['kernels']:,}", f"{row['gpu_ms']:,.3f}")
        console.print(tt)
    for w in doc["warnings"]:
        console.print(f"[yellow]warning:[/] {escape(w)}")


# --- command -----------------------------------------------------------------------------------------------
def _has_flag(argv: list[str], *flags: str) -> str | None:
    """The value of ``--flag=V`` / ``--flag V`` in argv ("" when present without a value), else None."""
    for i, a in enumerate(argv):
        for f in flags:
            if a == f:
                return argv[i + 1] if i + 1 < len(argv) and not argv[i + 1].startswith("-") else ""
            if a.startswith(f + "="):
                return a[len(f) + 1:]
    return None


def build_commands(*, trtexec: str | None = None, trtscope_profile: str | None = None, name: str = "capture",
                   osrt: bool = False) -> list[dict[str, Any]]:
    """The capture / export / import steps as ``{"step", "argv", "command", "note"}`` dicts."""
    if not name or name.startswith("-"):
        raise TrtscopeError(f"invalid report name {name!r}")
    trace = "cuda,nvtx,osrt" if osrt else "cuda,nvtx"
    # --cuda-graph-trace=node: kernels replayed from CUDA graphs (trtexec 11 uses graphs by default) keep their
    # node ids, so trtscope can attribute them through the capture-time graph-node events
    nsys = ["nsys", "profile", f"--trace={trace}", "--cuda-graph-trace=node", "--force-overwrite=true", "-o", name]
    layers: str | None = None
    onnx: str | None = None
    notes: list[str] = []
    try:
        if trtexec is not None:
            app = shlex.split(trtexec)
            if _has_flag(app, "--profilingVerbosity") is None:
                app.append("--profilingVerbosity=detailed")
            elif _has_flag(app, "--profilingVerbosity") != "detailed":
                notes.append("--profilingVerbosity is not detailed: NVTX ranges carry bare layer names only, and "
                             "with none there are no layer ranges at all")
            layers = _has_flag(app, "--exportLayerInfo") or None
            if layers is None:
                layers = f"{name}.layers.json"
                app.append(f"--exportLayerInfo={layers}")
            onnx = _has_flag(app, "--onnx") or None
            if _has_flag(app, "--loadEngine") is not None:
                notes.append("--loadEngine: profiling verbosity is fixed when the engine is built; build it with "
                             "--profilingVerbosity=detailed for layer-named NVTX ranges")
            app = ["trtexec", *app]
            capture_note = ("trtexec builds with --profilingVerbosity=detailed, so each layer gets an NVTX range "
                            "and --exportLayerInfo writes the layer information trtscope matches them with")
        else:
            assert trtscope_profile is not None
            app = shlex.split(trtscope_profile)
            positional = [a for a in app if not a.startswith("-")]
            bundle = _has_flag(app, "-o", "--output") or (positional[0] + ".trtscope" if positional else None)
            if bundle:
                layers = str(Path(bundle) / "raw" / "layers.json")
            if _has_flag(app, "--kernels") is not None:
                notes.append("drop --kernels under nsys: nsys already traces every kernel, and two CUPTI clients "
                             "in one process interfere")
            app = ["trtscope", "profile", *app]
            capture_note = "trtscope profile opens an NVTX range per iteration; TensorRT adds one per layer"
    except ValueError as err:
        raise TrtscopeError(f"cannot split the quoted arguments: {err}") from err
    bundle_out = f"{name}.trtscope"
    if layers and Path(layers).parts[:1] == (bundle_out,):
        bundle_out = f"{name}.nsys.trtscope"  # never write over the profile's own bundle
    imp = ["trtscope", "nsys", "import", f"{name}.sqlite"]
    if layers:
        imp += ["--layers", layers]
    if onnx:
        imp += ["--onnx", onnx]
    imp += ["-o", bundle_out]
    steps = [
        ("capture", [*nsys, *app], capture_note),
        ("export", ["nsys", "export", "--type", "sqlite", "--force-overwrite=true", "-o", f"{name}.sqlite",
                    f"{name}.nsys-rep"], "nsys writes NAME.nsys-rep; trtscope reads its SQLite export"),
        ("import", imp, "kernels -> launching thread -> innermost NVTX range -> engine layer"),
    ]
    out = [{"step": s, "argv": argv, "command": shlex.join(argv), "note": note} for s, argv, note in steps]
    if notes:
        out[0]["warnings"] = notes
    return out


def run_command(args: argparse.Namespace) -> int:
    steps = build_commands(trtexec=args.trtexec, trtscope_profile=args.trtscope_profile, name=args.output,
                           osrt=args.osrt)
    if args.json:
        sys.stdout.write(json.dumps(steps, indent=2) + "\n")
        return 0
    lines = []
    for i, s in enumerate(steps, 1):
        lines.append(f"# {i}. {s['step']}: {s['note']}")
        lines.extend(f"#    note: {w}" for w in s.get("warnings", []))
        lines.append(s["command"])
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


# --- merge -------------------------------------------------------------------------------------------------
def _is_nvtxt(path: str) -> bool:
    return Path(path).suffix.lower() == ".nvtxt" and Path(path).is_file()


def run_merge(args: argparse.Namespace) -> int:
    import os
    import tempfile

    from trtscope.atomic import check_writable
    from trtscope.errors import InputError, MissingDependencyError, OutputError
    from trtscope.exporters import nvtxt

    out: Path = args.output
    if out.suffix != ".nsys-rep":
        raise OutputError(out, "give the merged report a .nsys-rep name")
    if not args.print_only:
        if not args.report.is_file():
            raise InputError(args.report, "no such report (an .nsys-rep file)")
        if out.exists() and out.resolve() == args.report.resolve():  # (--force or not: the input is the user's)
            raise OutputError(out, "is the report being merged into; write the merged report under another name")
        check_writable(out, force=args.force)
    source = args.input
    if not _is_nvtxt(source):
        if Path(source).suffix.lower() == ".nvtxt":
            raise InputError(source, "no such file")
        from trtscope.loader import load

        target = out.with_suffix(".nvtxt")
        res = nvtxt.write_nvtxt(load(source), target, time_base=args.time_base, force=args.force)
        print(f"wrote {target}: {res.ranges} ranges and {res.markers} markers, TimeBase {res.time_base}",
              file=sys.stderr)
        source = str(target)
    tool = nvtxt.find_importnvtxt()
    raw = "ClockMonotonicRaw" in nvtxt.time_bases(source)
    machine: str | None = args.target  # ImportNvtxt --target HW:VM

    def command(output: str, nvtxt_file: str = source) -> list[str]:
        return nvtxt.importnvtxt_argv(str(tool) if tool else "ImportNvtxt", "merge", report=str(args.report),
                                      nvtxt=nvtxt_file, output=output, at_ns=args.at,
                                      update_report_time=args.update_report_time, target=machine)

    shown = command(str(out))
    if args.print_only or tool is None:
        print(shlex.join(shown))
        if raw:
            print("# TimeBase ClockMonotonicRaw: ImportNvtxt needs --target HW:VM (the report's machine; its error "
                  "message lists them) and places the events early by the report's analysis start (ImportNvtxt "
                  "--cmd info): trtscope nsys merge adds it to the file's times first", file=sys.stderr)
        if tool is None and not args.print_only:
            raise MissingDependencyError(
                "ImportNvtxt (Nsight Systems)", "set TRTSCOPE_IMPORTNVTXT to it or put it on PATH; the command "
                "above (run where Nsight Systems is installed) does the merge")
        return 0
    # ImportNvtxt writes the report itself: under a temporary name beside OUT, moved into place when complete
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".nsys-rep", dir=out.parent)
    os.close(fd)
    os.unlink(tmp)
    if raw and args.at is not None:
        print("warning: --at places a Manual time base; ImportNvtxt ignores it for this ClockMonotonicRaw file "
              "(its times are on the report's clock already)", file=sys.stderr)
    fed = source  # the file ImportNvtxt reads: for ClockMonotonicRaw, a copy moved by the analysis start
    try:
        if raw:
            start = nvtxt.analysis_start(str(tool), args.report)
            if start is None:
                print(f"warning: ImportNvtxt --cmd info gave no analysis start for {args.report}: {source}'s times "
                      "are merged unmoved (ImportNvtxt 2022.4 places such events that much early)", file=sys.stderr)
            if start:
                fed = tmp[: -len(".nsys-rep")] + ".nvtxt"
                nvtxt.write_shifted(source, fed, start)
                print(f"TimeBase ClockMonotonicRaw: times moved by the report's analysis start, {start:,} ns "
                      "(ImportNvtxt places such events that much early)", file=sys.stderr)
        run = nvtxt.run_importnvtxt(command(tmp, fed))
        if nvtxt.needs_target(run) and machine is None:
            found = nvtxt.conversion_targets(run.output)
            if len(found) != 1:
                raise TrtscopeError(
                    f"ImportNvtxt cannot convert {source}'s TimeBase to this report's clock without --target; "
                    + (f"the report's machines: {', '.join(found)}: pick one with --target HW:VM" if found else
                       "it names no machine to convert to (a report from another machine or boot?)"))
            machine = found[0]
            run = nvtxt.run_importnvtxt(command(tmp, fed))
        shown = command(str(out))
        if run.returncode != 0 or not Path(tmp).is_file():
            if nvtxt.needs_target(run):  # a --target the report has no conversion for
                found = nvtxt.conversion_targets(run.output)
                raise TrtscopeError(
                    f"ImportNvtxt cannot convert {source}'s TimeBase on machine {machine} (--target): "
                    + (f"the report's machines: {', '.join(found)}" if found else "the report names no machine"))
            lines = run.output.replace(fed, source).strip().splitlines()  # (the user's file, not the copy)
            said = [ln for ln in lines if "error" in ln.lower()] or lines[-1:]
            last = " ".join(said[:1]) or f"exit code {run.returncode}"
            hint = (" — every event lies outside the report's time window: place them with --at NS or pass "
                    "--update-report-time" if "no events were imported" in run.output else "")
            raise TrtscopeError(f"ImportNvtxt failed: {last[:400]}{hint} (command: {shlex.join(shown)})")
        os.replace(tmp, out)
    finally:
        for left in {tmp, fed} - {source}:
            if os.path.exists(left):
                os.unlink(left)
    written = nvtxt.written_events(source)
    print(shlex.join(shown))
    got = "?" if run.imported is None else f"{run.imported:,}"
    print(f"merged {source} into {out}: {got} events imported"
          + (f" of {written:,} written" if written is not None else ""))
    if written is not None and run.imported is not None and run.imported < written:
        print(f"warning: {written - run.imported:,} events lay outside the report's time window and were "
              "skipped: pass --update-report-time, or --at NS for a Manual time base", file=sys.stderr)
        return 1
    return 0
