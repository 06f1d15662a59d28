"""``trtscope doctor``: what this machine has for live capture (GPU, driver, CUDA, TensorRT, NVML, CUPTI,
nvtx), what each enables and how to get what is missing."""

from __future__ import annotations

import argparse
import json
from typing import Any

from trtscope.cli.common import add_command

EPILOG = """examples:
  trtscope doctor            a table: each component, its version, what it enables, how to get it
  trtscope doctor --json     the same as JSON (capabilities.profile / nvml / kernels / nvtx are booleans)
"""


def register(subparsers: Any, name: str, summary: str) -> None:
    p = add_command(subparsers, name, summary, EPILOG)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from trtscope.capture import doctor

    report = doctor.collect()
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        doctor.render(report)
    return 0
