"""`PruneFields`: the pydantic fields and checks that the pydantic-based adapters (LangChain, LlamaIndex) share.

A mixin before the framework's base class: `class LiteCompressor(PruneFields, BaseDocumentCompressor)`.
It holds the slice (model or pruner) and prune's options as fields, loads and checks them once when
the adapter is made, and turns any mistake (an unknown field, a value of the wrong type, a bad rate)
into one line: `LiteError("LiteCompressor: ...")`. The adapter then calls `self.prune(text, query)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from ..errors import LiteError
from ..prune import Pruner, PruneResult
from .common import check_options, prune_text, resolve_pruner, validation_error_line

OWN_FIELDS = ("rate", "target_tokens", "method", "force", "force_digits", "keep_last")  # prune's, as fields


class PruneFields(BaseModel):
    """model: a slice file or a hub repo id (or pruner=, a loaded lite.Pruner, to share one).
    rate / target_tokens / method / force / force_digits / keep_last: as in `Pruner.prune`, per text;
    options: any other keyword of `Pruner.prune`. use_query: pass the query as the question when this
    lite's prune takes one."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    model: str | Path | None = None
    pruner: Any = None
    rate: float | None = None
    target_tokens: int | None = None
    method: str | None = None
    force: tuple[str, ...] | None = None
    force_digits: bool | None = None
    keep_last: int | None = None
    use_query: bool = True
    options: dict[str, Any] = {}

    _pruner: Pruner = PrivateAttr()
    _options: dict[str, Any] = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        name = type(self).__name__
        try:
            super().__init__(**data)
        except ValidationError as err:
            raise LiteError(f"{name}: {validation_error_line(err, list(type(self).model_fields))}") from None
        except LiteError as err:
            raise LiteError(f"{name}: {err}") from None

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        self._pruner = resolve_pruner(self.model, self.pruner)
        given = {name: getattr(self, name) for name in OWN_FIELDS}
        clash = sorted(set(given) & set(self.options))
        if clash:
            raise LiteError(f"give {clash[0]} as its own argument, not in options")
        self._options = check_options(self._pruner.prune, {**given, **self.options})

    def prune(self, text: str, query: str | None = None) -> PruneResult:
        """One text pruned with this adapter's options, for `query` if use_query (see common.prune_text)."""
        return prune_text(self._pruner, text, self._options, query if self.use_query else None)
