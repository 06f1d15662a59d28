"""``trtscope`` entry point: dispatches to subcommands and turns user errors into one-line messages.

Subcommand modules are imported only when their command runs, so ``trtscope --help`` stays instant and a
missing optional dependency (textual, TensorRT, NVML) only matters to the command that needs it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from trtscope._version import __version__
from trtscope.errors import TrtscopeError

#: subcommand -> (module under trtscope.cli, one-line summary)
COMMANDS: dict[str, tuple[str, str]] = {
    "report": ("report", "fusion coverage and hotspots as a console report (or --json)"),
    "lint": ("lint", "findings that explain why nodes did not fuse or run fast, with evidence and advice"),
    "tui": ("tui", "browse layers, fusion groups, hotspots and GPU activity in a terminal UI, or compare two inputs"),
    "profile": ("profile", "build or load an engine on this GPU, time it and write a capture bundle"),
    "diff": ("diff", "compare two engines of one model node by node (fusion, precision, reformats, time), CI gate"),
    "export": ("export", "export tables (CSV/Parquet/JSON) or a Chrome/Perfetto trace"),
    "nsys": ("nsys", "Nsight Systems: import an `nsys export --type sqlite` report, print nsys commands, merge "
             "NVTXT"),
    "ncu": ("ncu", "Nsight Compute: print the ncu command that profiles a layer's (or the hotspots') kernels"),
    "doctor": ("doctor", "what this machine has (GPU, driver, CUDA, TensorRT, NVML, CUPTI, nvtx)"),
}

#: Exit code of an internal error (a bug), distinct from 1 (a CI gate tripped) and 2 (bad input).
INTERNAL_ERROR = 3

#: Commands that only read inputs and write their output: after success the process may end without the
#: interpreter's teardown (see :func:`entry`).
READ_ONLY = frozenset({"report", "export", "lint", "diff"})
#: Large results kept alive until the process ends, so their deallocation is skipped by a fast exit.
RETAINED: list[object] = []

EPILOG = """examples:
  trtscope report --example                 the bundled real example (no GPU needed)
  trtscope report engine_dir/               every artifact in a directory, recognised by content
  trtscope report --layers model.layers.json --profile model.profile.json --onnx model.onnx --top 20
  trtscope tui capture.trtscope/
"""


class OneLineParser(argparse.ArgumentParser):
    """argparse with its errors (an unknown option, a bad value, options that exclude each other) as one line
    on stderr, exit 2, like every other bad input: no usage block above it (``--help`` has that).
    Subcommand parsers are built from the same class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser(wanted: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with ``wanted`` (the command on the line) only that command's module is imported."""
    parser = OneLineParser(
        prog="trtscope",
        description="What your TensorRT engine really does on the GPU, mapped back to the ONNX model.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"trtscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, summary) in COMMANDS.items():
        if wanted != name:
            # Only the chosen command's module is imported; the others get a bare entry for --help.
            sub.add_parser(name, help=summary)
            continue
        mod = importlib.import_module(f"trtscope.cli.{module}")
        mod.register(sub, name, summary)
    return parser


def _debug() -> bool:
    return os.environ.get("TRTSCOPE_DEBUG", "") not in ("", "0")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(argv[0] if argv else None)
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except TrtscopeError as err:
        if _debug() and err.__cause__ is not None:  # what a reader's boundary caught, for a bug report
            traceback.print_exception(err.__cause__, file=sys.stderr)
        print(f"trtscope: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("trtscope: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `trtscope report --json | head`: the reader went away; not an error worth a message.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep interpreter shutdown quiet
        return 0
    except Exception as err:  # a bug in trtscope, not in the user's input
        if _debug():
            raise
        detail = " ".join(str(err).split())[:300]
        print(
            f"trtscope: internal error: {type(err).__name__}: {detail} "
            "(a bug in trtscope: set TRTSCOPE_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return INTERNAL_ERROR


def entry() -> None:  # pragma: no cover - the console script; tests call main()
    """Run, flush, exit. A read-only command that succeeded ends with ``os._exit``: tearing down the
    interpreter frees millions of small objects of a large analysis one by one (up to half a second on a
    20,000-layer engine) for nothing, since the process is ending. Nothing is left unwritten: output is
    flushed first, and these commands start no threads or child processes that outlive them."""
    argv = sys.argv[1:]
    rc = main(argv)
    if rc == 0 and argv and argv[0] in READ_ONLY:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (BrokenPipeError, OSError):
            pass
        os._exit(rc)
    sys.exit(rc)


if __name__ == "__main__":  # pragma: no cover
    entry()
