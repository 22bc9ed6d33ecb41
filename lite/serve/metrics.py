"""Counters and a latency histogram, written in Prometheus' text format for `GET /metrics`.

    lite_requests_total{route="/v1/prune",status="200"}   requests answered, by route and status
    lite_tokens_in_total                                   pruner tokens of the text given to prune
    lite_tokens_saved_total                                pruner tokens dropped
    lite_prune_seconds_bucket{le="..."} / _sum / _count    time spent pruning one request
    lite_prune_pending                                     prune jobs waiting or running now

Updated from the event loop and from the prune threads, so every change holds a lock.
"""

from __future__ import annotations

import threading
from collections import Counter

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)  # seconds
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: Counter[tuple[str, int]] = Counter()
        self.tokens_in = 0
        self.tokens_saved = 0
        self.bucket_counts = [0] * len(BUCKETS)  # per bucket, not cumulative
        self.prune_count = 0
        self.prune_sum = 0.0
        self.pending = 0

    def request(self, route: str, status: int) -> None:
        with self.lock:
            self.requests[(route, status)] += 1

    def pruned(self, seconds: float, origin_tokens: int, compressed_tokens: int) -> None:
        with self.lock:
            self.tokens_in += origin_tokens
            self.tokens_saved += origin_tokens - compressed_tokens
            self.prune_count += 1
            self.prune_sum += seconds
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self.bucket_counts[i] += 1
                    break

    def add_pending(self, delta: int) -> None:
        with self.lock:
            self.pending += delta

    def render(self) -> str:
        with self.lock:
            lines = [
                "# HELP lite_requests_total Requests answered, by route and status.",
                "# TYPE lite_requests_total counter",
            ]
            for (route, status), count in sorted(self.requests.items()):
                lines.append(f'lite_requests_total{{route="{_label(route)}",status="{status}"}} {count}')
            lines += [
                "# HELP lite_tokens_in_total Tokens (pruner's tokenizer) of the text given to prune.",
                "# TYPE lite_tokens_in_total counter",
                f"lite_tokens_in_total {self.tokens_in}",
                "# HELP lite_tokens_saved_total Tokens (pruner's tokenizer) dropped by pruning.",
                "# TYPE lite_tokens_saved_total counter",
                f"lite_tokens_saved_total {self.tokens_saved}",
                "# HELP lite_prune_seconds Time spent pruning one request.",
                "# TYPE lite_prune_seconds histogram",
            ]
            cumulative = 0
            for bound, count in zip(BUCKETS, self.bucket_counts):
                cumulative += count
                lines.append(f'lite_prune_seconds_bucket{{le="{bound}"}} {cumulative}')
            lines += [
                f'lite_prune_seconds_bucket{{le="+Inf"}} {self.prune_count}',
                f"lite_prune_seconds_sum {self.prune_sum:.6f}",
                f"lite_prune_seconds_count {self.prune_count}",
                "# HELP lite_prune_pending Prune jobs waiting or running.",
                "# TYPE lite_prune_pending gauge",
                f"lite_prune_pending {self.pending}",
            ]
        return "\n".join(lines) + "\n"
