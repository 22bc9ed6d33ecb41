"""JSONL batch pruning: one JSON object per line, the text field pruned, on every core.

Each worker process loads the slice once; the slice is memory-mapped, so the operating system
shares its pages among the workers. Lines come back in input order. A line that cannot be
pruned (not JSON, not an object, no such string field) becomes `{"line": N, "error": "..."}` in
the output and a message on stderr, and the other lines go on. The output file is written
atomically: it appears complete or not at all.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from ..errors import LiteError
from ..store.atomic import atomic_write
from .options import PruneOptions
from .pruner import Pruner, load


@dataclass
class BatchReport:
    lines: int = 0
    errors: list[str] = field(default_factory=list)  # "line N: message", in line order


def prune_line(pruner: Pruner, line_no: int, raw: bytes, options: PruneOptions, key: str) -> tuple[str, str | None]:
    """One output line (JSON, no newline) for one input line (its `key` field pruned), and the error if it failed."""
    try:
        record = json.loads(raw.decode("utf-8"))
        if not isinstance(record, dict):
            raise LiteError(f"expected a JSON object, got {type(record).__name__}")
        text = record.get(key)
        if not isinstance(text, str):
            found = "no such field" if key not in record else f"a {type(text).__name__}"
            raise LiteError(f"field {key!r} must be a string, found {found}")
        result = pruner.run(text, options)
        record[key] = result.text
        record["origin_tokens"] = result.origin_tokens
        record["compressed_tokens"] = result.compressed_tokens
        return json.dumps(record, ensure_ascii=False), None
    except Exception as err:
        text = str(err) if isinstance(err, (ValueError, LiteError)) else f"{type(err).__name__}: {err}"
        message = f"line {line_no}: {text}"
        return json.dumps({"line": line_no, "error": text}, ensure_ascii=False), message


_worker: tuple[Pruner, PruneOptions, str] | None = None  # one per worker process, set by init_worker


def init_worker(model: str, options: PruneOptions, key: str) -> None:
    global _worker
    _worker = (load(model, threads=1), options, key)  # the processes use the cores, not threads inside each


def prune_numbered_line(item: tuple[int, bytes]) -> tuple[str, str | None]:
    assert _worker is not None, "init_worker was not run"
    pruner, options, key = _worker
    return prune_line(pruner, item[0], item[1], options, key)


def numbered_lines(data: bytes) -> list[tuple[int, bytes]]:
    """(line number from 1, raw bytes) of every non-blank line."""
    return [(i, line) for i, line in enumerate(data.splitlines(), start=1) if line.strip()]


def prune_jsonl(
    model: str | os.PathLike,
    data: bytes,
    out_path: Path,
    options: PruneOptions,
    key: str = "text",
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> BatchReport:
    """Prune the `key` field of every JSON line of `data` into `out_path`; returns the count and the per-line errors.

    progress: called with 1 as each line is done, e.g. a progress bar's update.
    """
    lines = numbered_lines(data)
    workers = max(1, min(workers or os.cpu_count() or 1, len(lines)))
    report = BatchReport(lines=len(lines))
    with atomic_write(out_path) as out, results_of(model, lines, options, key, workers) as results:
        for out_line, error in results:
            out.write(out_line.encode("utf-8") + b"\n")
            if error:
                report.errors.append(error)
            if progress:
                progress(1)
    return report


@contextlib.contextmanager
def results_of(
    model: str | os.PathLike, lines: list[tuple[int, bytes]], options: PruneOptions, key: str, workers: int
) -> Iterator[Iterator[tuple[str, str | None]]]:
    """(output line, error) per input line, in input order, from `workers` processes."""
    pruner = load(model, threads=1 if workers > 1 else None)  # a slice that cannot load fails here, not in every worker
    if workers == 1:
        yield (prune_line(pruner, n, raw, options, key) for n, raw in lines)
        return
    # spawn, not fork: a forked numba thread pool is not safe; each worker maps the slice itself
    with get_context("spawn").Pool(workers, init_worker, (str(model), options, key)) as pool:
        yield pool.imap(prune_numbered_line, lines, chunksize=max(1, len(lines) // (workers * 16)))
