"""LiteLLM: `LiteGuardrail`, a pre-call guardrail for the LiteLLM proxy that prunes the request's chat messages.

In the proxy's config.yaml (the slice file must be readable by the proxy; see docs/integrations.md):

    guardrails:
      - guardrail_name: lite-prune
        litellm_params:
          guardrail: lite.integrations.litellm.LiteGuardrail
          mode: pre_call
          default_on: true
          lite_model: weights/SmolLM2-135M-Instruct.safetensors
          rate: 0.7

Before each call, `data["messages"]` is replaced by `pruner.prune_messages(messages, **options).messages`,
run in a worker thread (asyncio.to_thread), never on the proxy's event loop. Every keyword option of
prune_messages can be given (rate or target_tokens, roles, keep_last_user, method, force, ...);
system and developer messages, the last user message, tool calls and non-text parts are left as
they are (see docs/messages.md). The totals go
into the request's metadata under "lite" (origin_tokens, compressed_tokens, rate). Requests without
chat messages (embeddings, images) pass through. A payload lite cannot read is an error
(on_error="raise", the default) or is sent on unpruned with a warning (on_error="skip"). Bad options
are a one-line LiteError when the proxy starts.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from typing import Any

try:
    from litellm._logging import verbose_logger
    from litellm.integrations.custom_guardrail import CustomGuardrail
    from litellm.integrations.custom_logger import CustomLogger
    from litellm.litellm_core_utils.core_helpers import get_metadata_variable_name_from_kwargs
    from litellm.types.guardrails import GuardrailEventHooks, LitellmParams
except ImportError as err:  # pragma: no cover - the message is the point
    raise ImportError(f'lite.integrations.litellm needs litellm: pip install "lite-pruner[litellm]" ({err})') from err

from ..errors import LiteError
from ..prune import Pruner
from ..prune.options import names
from .common import check_options, resolve_pruner

ON_ERROR = ("raise", "skip")
METADATA_KEY = "lite"


def litellm_keywords() -> set[str]:
    """Keywords LiteLLM may hand a guardrail: CustomGuardrail's and CustomLogger's own, and every field of a
    guardrail's litellm_params (the proxy passes those, defaults included, to the guardrail's constructor)."""
    names = set(LitellmParams.model_fields)
    for init in (CustomGuardrail.__init__, CustomLogger.__init__):
        names.update(inspect.signature(init).parameters)
    return names - {"self", "kwargs"}


class LiteGuardrail(CustomGuardrail):
    """Prune the chat messages of every request before LiteLLM sends it (mode: pre_call).

    lite_model: a slice file or a hub repo id (or pruner=, a loaded lite.Pruner). Every keyword option
    of `Pruner.prune_messages` (rate, target_tokens, roles, keep_last_user, method, ...) is passed to it.
    on_error: "raise" (default) or "skip" for a payload lite cannot read. Anything else is LiteLLM's
    (guardrail_name, event_hook, default_on, ...); a keyword that is neither is a LiteError.
    """

    def __init__(
        self,
        lite_model: str | os.PathLike | None = None,
        pruner: Pruner | None = None,
        *,
        on_error: str = "raise",
        **kwargs: Any,
    ) -> None:
        try:
            self.pruner = resolve_pruner(lite_model, pruner)
            lite_names = names("messages")
            options = {name: kwargs.pop(name) for name in lite_names if name in kwargs}
            unknown = sorted(set(kwargs) - litellm_keywords())
            if unknown:
                raise LiteError(f"unknown option {unknown[0]!r}; lite's options are: lite_model, pruner, on_error, "
                                f"{', '.join(lite_names)}")
            if on_error not in ON_ERROR:
                raise LiteError(f"on_error must be one of {', '.join(ON_ERROR)}, got {on_error!r}")
            kwargs.setdefault("guardrail_name", "lite-prune")
            try:
                super().__init__(supported_event_hooks=[GuardrailEventHooks.pre_call], **kwargs)
            except ValueError as err:  # LiteLLM's check of the mode
                raise LiteError(f"{err} (LiteGuardrail prunes the request: mode: pre_call)") from None
            self.options = check_options(self.pruner.prune_messages, options, probe=[{"role": "user", "content": "?"}])
            self.on_error = on_error
        except LiteError as err:
            raise LiteError(f"LiteGuardrail: {err}") from None

    async def async_pre_call_hook(self, user_api_key_dict: Any, cache: Any, data: dict, call_type: Any) -> dict:
        """`data` with its messages pruned (in a worker thread) and lite's totals in its metadata."""
        messages = data.get("messages")
        if not isinstance(messages, list) or not messages:
            return data  # not a chat request: nothing to prune
        try:
            result = await asyncio.to_thread(self.pruner.prune_messages, messages, **self.options)
        except LiteError as err:
            if self.on_error == "raise":
                raise LiteError(f"LiteGuardrail: {err}") from None
            verbose_logger.warning("LiteGuardrail: messages sent unpruned: %s", err)
            return data
        bucket = get_metadata_variable_name_from_kwargs(data)
        metadata = data.get(bucket)
        totals = {key: value for key, value in result.to_dict().items()
                  if key not in ("messages", "per_message") and value is not None}
        return {**data, "messages": result.messages,
                bucket: {**(metadata if isinstance(metadata, dict) else {}), METADATA_KEY: totals}}
