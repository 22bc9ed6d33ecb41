"""CPU benchmarks of lite against the transformers reference: `python -m bench [--quick]`.

Developer tooling (imports torch and transformers in child processes); lite/ never imports it.
Results land in bench/RESULTS.md and bench/latency.png.
"""
