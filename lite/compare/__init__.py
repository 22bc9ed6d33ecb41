"""Compare two slices on the same texts (the paper's section 5): `lite-pruner compare SLICE_A SLICE_B FILES...`.

- metrics.py  chrF, Jaccard, RAD and cosine: pure functions
- compare.py  both pruners over the texts -> a Comparison
- cli.py      the command line (argument parsing and printing only)
"""

from .compare import Comparison, compare
from .metrics import chrf, cosine, jaccard, rad

__all__ = ["Comparison", "compare", "chrf", "cosine", "jaccard", "rad"]
