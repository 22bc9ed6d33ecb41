"""Pruning off the event loop: a bounded pool of threads sharing one Pruner (one memory-mapped slice).

The score's heavy parts (BLAS products, numba kernels, the Rust tokenizer) release the GIL, so
`workers` threads prune `workers` requests at once while the event loop keeps answering. Two
limits keep one request from starving the others: a request whose text holds more than
`max_input_tokens` tokens is refused (413) after tokenizing, before any scoring; and at most
`max_pending` jobs wait or run at once, beyond which a request is refused at once (503).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..prune.messages import text_slots
from .errors import ApiError
from .metrics import Metrics


def message_texts(messages: Any) -> list[str]:
    """The text a chat holds, as prune_messages reads it (a malformed chat: its LiteError, a 400)."""
    return [slot.text for slot in text_slots(messages, (), keep_last_user=False)]


class PrunePool:
    def __init__(self, pruner, workers: int, max_pending: int, max_input_tokens: int, metrics: Metrics):
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.pruner = pruner
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lite-prune")
        self.max_pending = max_pending
        self.max_input_tokens = max_input_tokens
        self.metrics = metrics
        self.lock = threading.Lock()
        self.pending = 0

    async def prune_text(self, text: str, kwargs: dict) -> Any:
        """pruner.prune(text, **kwargs) on a prune thread."""
        return await self.run(lambda: self.pruner.prune(text, **kwargs), [text])

    async def prune_messages(self, messages: list, kwargs: dict) -> Any:
        """pruner.prune_messages(messages, **kwargs) on a prune thread."""
        return await self.run(lambda: self.pruner.prune_messages(messages, **kwargs), message_texts(messages))

    async def prune_prompts(self, prompts: Sequence[str], kwargs: dict) -> list:
        """pruner.prune(prompt, **kwargs) for each prompt, as one job."""
        return await self.run(lambda: [self.pruner.prune(p, **kwargs) for p in prompts], prompts)

    async def run(self, job: Callable[[], Any], texts: Sequence[str]) -> Any:
        with self.lock:
            if self.pending >= self.max_pending:
                raise ApiError(503, f"server busy: {self.pending} prune jobs waiting or running; retry shortly")
            self.pending += 1
        self.metrics.add_pending(1)
        try:
            future = self.executor.submit(self.limited, job, texts)
        except BaseException:
            self.done(None)
            raise
        future.add_done_callback(self.done)  # a job runs on after its client has gone: count it until it ends
        return await asyncio.wrap_future(future)

    def done(self, _future) -> None:
        with self.lock:
            self.pending -= 1
        self.metrics.add_pending(-1)

    def limited(self, job: Callable[[], Any], texts: Sequence[str]) -> Any:
        """Run on a prune thread: refuse too many tokens, else prune and record the counts and time."""
        tokens = sum(self.pruner.count_tokens(text) for text in texts)
        if tokens > self.max_input_tokens:
            raise ApiError(413, f"the request holds {tokens} tokens of text, over this server's limit of "
                                f"{self.max_input_tokens} (--max-input-tokens)", "request_too_large")
        start = time.perf_counter()
        result = job()
        seconds = time.perf_counter() - start
        results = result if isinstance(result, list) else [result]
        self.metrics.pruned(seconds, sum(r.origin_tokens for r in results), sum(r.compressed_tokens for r in results))
        return result

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
