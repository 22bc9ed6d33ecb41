"""Benchmarks of lite (not part of the library): `python -m bench.quality` measures pruning quality."""
