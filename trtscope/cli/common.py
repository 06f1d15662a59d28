"""Options and helpers shared by the commands that read artifacts (report, tui, export)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from trtscope.analysis.session import Analysis
    from trtscope.model.artifacts import Artifacts


def add_command(subparsers: Any, name: str, summary: str, epilog: str) -> argparse.ArgumentParser:
    """A subcommand's parser: its one-line summary as help and description, examples in the epilog."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=summary, description=summary[:1].upper() + summary[1:] + ".", epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def add_command_group(subparsers: Any, name: str, summary: str, epilog: str, dest: str) -> Any:
    """A command made of subcommands (``trtscope nsys import``, ``trtscope ncu command``): returns the
    subparsers to add them to; the bare command prints its help and exits 2."""
    p = add_command(subparsers, name, summary, epilog)

    def usage(_args: argparse.Namespace) -> int:
        p.print_help(sys.stderr)
        return 2

    p.set_defaults(func=usage)
    return p.add_subparsers(dest=dest, metavar="SUBCOMMAND")


def add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", metavar="PATH",
                   help="a directory of artifacts (read by content), an artifact file, or a trtscope bundle")
    p.add_argument("--layers", metavar="F", help="engine layer information (--exportLayerInfo JSON or a log)")
    p.add_argument("--profile", metavar="F", help="per-layer profile (--exportProfile JSON or a --dumpProfile log)")
    p.add_argument("--times", metavar="F", help="per-iteration times (--exportTimes JSON)")
    p.add_argument("--onnx", metavar="F", help="the ONNX model (weights are not read; external data not needed)")
    p.add_argument("--example", action="store_true",
                   help="use the bundled real example (ResNet-18, TensorRT-RTX, H100)")
    p.add_argument("--attribution", choices=("anchor", "split"), default="anchor",
                   help="how a fused layer's time is derived per ONNX node and op type: all of it to the layer's "
                   "anchor op (Conv, Gemm, MatMul, ...; default) or split evenly over its nodes")


def stderr_console() -> Console:
    from rich.console import Console  # (imported when a console is wanted: `report --json` never needs one)

    return Console(stderr=True)


@contextmanager
def progress_status(enabled: bool) -> Iterator[Callable[[str], None] | None]:
    """A spinner on stderr while artifacts load (only on a terminal); yields a callback for messages."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    console = stderr_console()
    with console.status("loading artifacts…", refresh_per_second=5) as status:
        yield lambda msg: status.update(msg)


def _is_bundle(path: str) -> bool:
    from trtscope.bundle.manifest import is_bundle

    return is_bundle(path)


def prefetch_onnx(args: argparse.Namespace, edges: bool = False) -> None:
    """Start walking a large ONNX graph in a worker before pandas and the analysis are imported: on two
    cores the walk then costs nothing on the way to the first result. Best effort; errors surface later."""
    from pathlib import Path

    from trtscope.parsers import onnx_wire

    try:
        if args.onnx:
            onnx_wire.prefetch(args.onnx, edges)
        elif args.path and Path(args.path).is_dir() and not _is_bundle(args.path):  # bundles: manifest only
            found, _ = onnx_wire.onnx_files_in(args.path)
            if found:
                onnx_wire.prefetch(found[0], edges)
    except Exception:  # an optimisation must never turn into an error of its own
        return


def require_input(args: argparse.Namespace) -> None:
    """Refuse a command line that names no input at all (one line, exit 2), before anything is read."""
    if not (args.path or args.layers or args.profile or args.times or args.onnx or args.example):
        from trtscope.errors import TrtscopeError

        command = " ".join(["trtscope", *filter(None, [getattr(args, "command", None)])])
        raise TrtscopeError(f"give a PATH (or --layers/--profile/--onnx, or --example); see {command} --help")


def _inputs(args: argparse.Namespace) -> dict[str, Any]:
    require_input(args)
    return {"layers": args.layers, "profile": args.profile, "times": args.times, "onnx": args.onnx,
            "example": args.example}


def artifacts_from_args(args: argparse.Namespace, onnx_edges: bool = False, progress: bool = True) -> Artifacts:
    """Read and check what the input options name (a bad input raises its one-line error here), without
    analysing it (see :func:`load_from_args`). ``progress``: a spinner on stderr when it is a terminal (not
    while a UI owns the terminal)."""
    prefetch_onnx(args, onnx_edges)
    from trtscope.gcpause import collector_paused
    from trtscope.loader import load_artifacts

    with progress_status(progress) as progress_cb, collector_paused():
        return load_artifacts(args.path, progress=progress_cb, **_inputs(args))


def load_from_args(args: argparse.Namespace, onnx_edges: bool = False) -> Analysis:
    """Load and analyse what the input options name. ``onnx_edges``: the command walks the ONNX graph's edges,
    so the worker that reads the graph reads them too (in parallel with the rest of the loading)."""
    prefetch_onnx(args, onnx_edges)
    from trtscope.loader import load

    with progress_status(True) as progress:
        return load(args.path, progress=progress, attribution=getattr(args, "attribution", "anchor"),
                    **_inputs(args))
