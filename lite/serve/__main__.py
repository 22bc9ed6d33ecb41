"""`python -m lite.serve`: the same as `lite-pruner serve`."""

from .cli import main

main()
