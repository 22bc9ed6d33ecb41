"""`python -m lite`: the `lite-pruner` command (see lite/cli.py)."""

from .cli import entry

if __name__ == "__main__":
    entry()
