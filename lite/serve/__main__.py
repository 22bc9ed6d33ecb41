"""`python -m lite.serve`: the same as `lite-pruner serve`."""

from ..cli import run_cli
from .cli import main

run_cli(main)
