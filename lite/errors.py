"""The one exception type a user of lite sees for a mistake of theirs or of the input.

Every message is one line that says what is wrong and, where there is one, what to do.
The command-line entry points print it as `error: ...` and exit non-zero, without a traceback.
"""

from __future__ import annotations

import sys
from typing import Callable, NoReturn


class LiteError(Exception):
    """A user-facing error: bad input, an unsupported model, a missing or broken file."""


def exit_on_error(main: Callable[[], int | None]) -> NoReturn:
    """Run a CLI `main`; turn a LiteError or Ctrl-C into a one-line message and an exit code."""
    try:
        code = main() or 0
    except BrokenPipeError:  # `... | head`: the reader left; not an error
        code = 0
    except LiteError as err:
        print(f"error: {err}", file=sys.stderr)
        code = 2
    except OSError as err:  # a file the user named that cannot be read or written
        where = f" {err.filename}" if err.filename else ""
        print(f"error: cannot access{where}: {err.strerror or err}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)
