"""Regenerate docs/data-model.md (and the tables section of docs/diff.md) from the table declarations in
trtscope/model/outputs.py and trtscope/model/diff_outputs.py.

    python scripts/gen_data_model.py          # write the files
    python scripts/gen_data_model.py --check  # exit 1 when one is stale (what the tests check)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trtscope.model import diff_outputs
from trtscope.model.outputs import markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"
DOC = DOCS / "data-model.md"
DIFF_DOC = DOCS / "diff.md"


def _diff_doc() -> str:
    """docs/diff.md with its generated section (between diff_outputs.BEGIN and END) replaced."""
    text = DIFF_DOC.read_text(encoding="utf-8")
    start, end = text.index(diff_outputs.BEGIN), text.index(diff_outputs.END) + len(diff_outputs.END)
    return text[:start] + diff_outputs.markdown() + text[end:]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="only check that the files are up to date")
    args = p.parse_args()
    wanted = {DOC: markdown() + "\n", DIFF_DOC: _diff_doc()}
    stale = [f for f, text in wanted.items() if not f.exists() or f.read_text(encoding="utf-8") != text]
    if args.check:
        for f in stale:
            print(f"{f} is stale: run python scripts/gen_data_model.py", file=sys.stderr)
        return 1 if stale else 0
    for f in stale:
        f.write_text(wanted[f], encoding="utf-8")
        print(f"wrote {f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
