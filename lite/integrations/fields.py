"""`PruneFields`: the pydantic fields and checks that the pydantic-based adapters (LangChain, LlamaIndex) share.

A mixin before the framework's base class: `class LiteCompressor(PruneFields, BaseDocumentCompressor)`.
It holds the slice (model or pruner) and every option of `Pruner.prune` as a field of the same name
(made from lite.PruneOptions, so a new option is a new field), loads and checks them once when the
adapter is made, and turns any mistake (an unknown field, a bad value) into one line:
`LiteError("LiteCompressor: ...")`. The adapter then calls `self.prune(text, query)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, create_model

from ..errors import LiteError
from ..prune import Pruner, PruneResult
from ..prune.options import SPEC, names
from .common import check_options, prune_text, prune_together, resolve_pruner, validation_error_line

# prune's options as fields, unset (None) by default: the library checks them and gives their defaults
OptionFields = create_model(
    "OptionFields", __base__=BaseModel,
    **{name: (Any, Field(default=None, description=SPEC[name].help)) for name in names("text")},
)


class PruneFields(OptionFields):
    """model: a slice file or a hub repo id (or pruner=, a loaded lite.Pruner, to share one); every option
    of `Pruner.prune` (rate, target_tokens, method, granularity, question, force, ...; lite.PruneOptions),
    per text; use_query: pass the query as the question (question-aware pruning)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    model: str | Path | None = None
    pruner: Any = None
    use_query: bool = True

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
        self._options = check_options(self._pruner.prune, {name: getattr(self, name) for name in names("text")})

    def prune(self, text: str, query: str | None = None) -> PruneResult:
        """One text pruned with this adapter's options, for `query` if use_query (see common.prune_text)."""
        return prune_text(self._pruner, text, self._options, query if self.use_query else None)

    def prune_all(self, texts: list[str], query: str | None = None) -> list[PruneResult | None]:
        """The texts pruned with this adapter's options (see common.prune_together): with rate auto and a query,
        ranked together for it, None for a text that keeps nothing."""
        return prune_together(self._pruner, texts, self._options, query if self.use_query else None)
