"""``trtscope ncu``: Nsight Compute command lines that profile a layer's kernels (or the top hotspots')."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import Any

from trtscope.cli.common import add_command_group, add_input_options, load_from_args
from trtscope.errors import TrtscopeError

EPILOG = """examples:
  trtscope ncu command model_dir/ --layer "conv1 + relu1" --engine model.plan
  trtscope ncu command capture.trtscope --top 3 --engine model.plan -o hot
  trtscope ncu command capture.trtscope --layer fc2 --execution 3 --run "python3 run_model.py"
"""
COMMAND_EPILOG = """examples:
  trtscope ncu command model_dir/ --layer "conv1 + relu1" --engine model.plan
  trtscope ncu command capture.trtscope --top 3 --engine model.plan -o hot --json
  trtscope ncu command capture.trtscope --layer fc2 --execution 3 --executions 2 --run "python3 run_model.py"

The NVTX filter comes from the input's own NVTX ranges where it has them (domain, text, push/pop or start/end),
else TensorRT's per-layer ranges are assumed (domain TensorRT, text = layer name, both range types). From a
capture's kernels: --launch-skip / --launch-count (kernels per execution x executions) and, with
--kernel-names, --kernel-name (only for the same GPU and software: other GPUs run other kernels). The
profiled command: --engine ENGINE (trtexec --loadEngine, no warm-up, CUDA graphs off), or --run "COMMAND".
Each command is printed shell-quoted (layer names with spaces, +, brackets, /).
"""


def register(subparsers: Any, name: str, summary: str) -> None:
    sub = add_command_group(subparsers, name, summary, EPILOG, "ncu_command")
    cmd = sub.add_parser("command", help="print the ncu command that profiles a layer's kernels",
                         description="Print the Nsight Compute (ncu) command line that profiles the kernels of one "
                         "layer, or of each of the top N hotspot layers.", epilog=COMMAND_EPILOG,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_options(cmd)
    which = cmd.add_mutually_exclusive_group(required=True)
    which.add_argument("--layer", action="append", dest="layers_wanted", metavar="NAME",
                       help="the layer's exact name (repeatable)")
    which.add_argument("--top", type=int, metavar="N", help="the N layers with the most time")
    cmd.add_argument("--execution", type=int, default=0, metavar="K",
                     help="first execution of the layer to profile, 0-based, in the profiled run (default 0)")
    cmd.add_argument("--executions", type=int, default=1, metavar="M", help="how many executions (default 1)")
    cmd.add_argument("--domain", metavar="D", help="NVTX domain of the layer ranges (default: as seen in the "
                     "input, else TensorRT)")
    cmd.add_argument("--kernel-names", action="store_true",
                     help="also filter by the kernel names seen in the input (only when profiling on the same GPU "
                          "and software: other GPUs run other kernels)")
    run = cmd.add_mutually_exclusive_group(required=True)
    run.add_argument("--engine", metavar="ENGINE", help="profile `trtexec --loadEngine=ENGINE`")
    run.add_argument("--run", metavar='"COMMAND"', help="profile this command, quoted as one string")
    cmd.add_argument("--ncu-args", metavar='"ARGS"', default="", help="more ncu options, quoted (e.g. \"--set full\")")
    cmd.add_argument("-o", "--report", metavar="NAME", help="ncu report name (-o); with --top, NAME-1, NAME-2, ...")
    cmd.add_argument("--json", action="store_true", help="print the commands as a JSON list")
    cmd.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    from trtscope.exporters.ncu import ncu_command, top_layers, trtexec_runner

    try:
        extra = shlex.split(args.ncu_args)
        runner = shlex.split(args.run) if args.run else []
    except ValueError as err:
        raise TrtscopeError(f"cannot split the quoted arguments: {err}") from err
    a = load_from_args(args)
    if args.top is not None:
        if args.top < 1:
            raise TrtscopeError("--top must be at least 1")
        wanted = top_layers(a, args.top)
        if not wanted:
            raise TrtscopeError("no timed layers to rank (no per-layer times and no captured kernels): use --layer")
    else:
        wanted = list(args.layers_wanted)
    notes: list[str] = []
    if args.engine:
        version = a.artifacts.metadata.get("tensorrt_version")
        runner, notes = trtexec_runner(args.engine, args.execution + args.executions,
                                       version if isinstance(version, str) else None)
    cmds = []
    for i, name in enumerate(wanted, 1):
        report = args.report if args.report is None or len(wanted) == 1 else f"{args.report}-{i}"
        c = ncu_command(a, name, runner, execution=args.execution, executions=args.executions, domain=args.domain,
                        kernel_names=args.kernel_names, output=report, extra=extra)
        c.notes = [*c.notes, *notes]
        cmds.append(c)
    if args.json:
        sys.stdout.write(json.dumps([c.as_dict() for c in cmds], indent=2) + "\n")
        return 0
    lines = []
    for c in cmds:
        lines.append(f"# layer: {c.layer!r}")
        lines.extend(f"#   note: {n}" for n in c.notes)
        lines.append(c.command)
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
