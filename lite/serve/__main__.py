"""`python -m lite.serve`: the same as `lite-pruner serve`."""

from ..errors import exit_on_error
from .cli import main

exit_on_error(main)
