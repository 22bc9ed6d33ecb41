"""Write docs/options.md's table of options from lite.PruneOptions: `python -m tools.options_doc`."""

from __future__ import annotations

from pathlib import Path

from bench.quality.report import write_docs
from lite.prune.options import options_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "options.md"

if __name__ == "__main__":
    print(write_docs({"options": options_table()}, files=[DOC]).changed or "docs/options.md is current")
