"""Regenerate docs/data-model.md from the table declarations in trtscope/model/outputs.py.

    python scripts/gen_data_model.py          # write docs/data-model.md
    python scripts/gen_data_model.py --check  # exit 1 when the file is stale (what the test checks)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trtscope.model.outputs import markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-model.md"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="only check that the file is up to date")
    args = p.parse_args()
    text = markdown() + "\n"
    if args.check:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC} is stale: run python scripts/gen_data_model.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
