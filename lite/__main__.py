"""`python -m lite`: the `lite-pruner` command (see lite/commands.py)."""

from .commands import entry

if __name__ == "__main__":
    entry()
