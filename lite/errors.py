"""The one exception type a user of lite sees for a mistake of theirs or of the input.

Every message is one line that says what is wrong and, where there is one, what to do.
The command-line entry points (lite/cli.py) print it as `error: ...` and exit 2, without a traceback.
"""

from __future__ import annotations


class LiteError(Exception):
    """A user-facing error: bad input, an unsupported model, a missing or broken file."""
