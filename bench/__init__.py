"""Benchmarks of lite (developer tooling, not part of the library; lite/ never imports it).

- `python -m bench [--quick]`: CPU speed, memory, cold start and the machine's floor against the
  transformers reference; results land in bench/results/RESULTS.md and latency.png.
- `python -m bench.quality [--quick]`: what pruning does to a target model's answers;
  bench/results/QUALITY.md and quality.png.

Code lives in bench/, what it writes in bench/results/.
"""
