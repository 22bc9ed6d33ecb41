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
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..atomic import atomic_write, check_not_an_input
from ..errors import LiteError
from ..inputs import read_bounded
from ..threads import available_cores
from .pruner import DEFAULT_MAX_TOKENS, Pruner, load


@dataclass(frozen=True)
class PruneOptions:
    """How each line's text is pruned (the keyword arguments of Pruner.prune)."""

    field: str = "text"
    rate: float | None = None
    target_tokens: int | None = None
    force: tuple[str, ...] = ()
    force_digits: bool = False
    keep_last: int = 0
    method: str = "attention"  # one of lite.METHODS
    max_tokens: int = DEFAULT_MAX_TOKENS  # per record: a longer text is that record's error (unless chunk)
    chunk: int | None = None


@dataclass
class BatchReport:
    lines: int = 0
    errors: list[str] = field(default_factory=list)  # "line N: message", in line order
    workers: int = 0  # worker processes used
    requested_workers: int | None = None  # what was asked, when more than the cores and not forced (capped)


def strict_constant(name: str):
    """json.loads' hook for NaN, Infinity and -Infinity: not JSON, refused."""
    raise ValueError(f"{name} is not valid JSON (only finite numbers are)")


def prune_line(pruner: Pruner, line_no: int, raw: bytes, options: PruneOptions) -> tuple[str, str | None]:
    """One output line (JSON, no newline) for one input line, and the error message if it failed."""
    try:
        record = json.loads(raw.decode("utf-8"), parse_constant=strict_constant)
        if not isinstance(record, dict):
            raise LiteError(f"expected a JSON object, got {type(record).__name__}")
        text = record.get(options.field)
        if not isinstance(text, str):
            found = "no such field" if options.field not in record else f"a {type(text).__name__}"
            raise LiteError(f"field {options.field!r} must be a string, found {found}")
        result = pruner.prune(
            text,
            rate=options.rate,
            target_tokens=options.target_tokens,
            force=options.force,
            force_digits=options.force_digits,
            keep_last=options.keep_last,
            method=options.method,
            max_tokens=options.max_tokens,
            chunk=options.chunk,
        )
        record[options.field] = result.text
        record["origin_tokens"] = result.origin_tokens
        record["compressed_tokens"] = result.compressed_tokens
        return json.dumps(record, ensure_ascii=False, allow_nan=False), None
    except Exception as err:  # noqa: BLE001 - one bad line (bad JSON, too deep, bad text) must not lose the rest
        text = str(err) if isinstance(err, (ValueError, LiteError)) else f"{type(err).__name__}: {err}"
        message = f"line {line_no}: {text}"
        return json.dumps({"line": line_no, "error": text}, ensure_ascii=False), message


_worker_pruner: Pruner | None = None  # one per worker process, set by init_worker
_worker_options: PruneOptions | None = None


def init_worker(model: str, options: PruneOptions, target_tokenizer: str | None = None) -> None:
    global _worker_pruner, _worker_options
    _worker_pruner = load(model, threads=1, target_tokenizer=target_tokenizer)  # the processes use the cores
    _worker_options = options


def prune_numbered_line(item: tuple[int, bytes]) -> tuple[str, str | None]:
    assert _worker_pruner is not None and _worker_options is not None, "init_worker was not run"
    return prune_line(_worker_pruner, item[0], item[1], _worker_options)


def numbered_lines(path: Path) -> list[tuple[int, bytes]]:
    """(line number from 1, raw bytes) of every non-blank line (at most MAX_INPUT_BYTES in all)."""
    data = read_bounded(path)
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark (some editors write one): not part of line 1
        data = data[3:]
    return [(i, line) for i, line in enumerate(data.splitlines(), start=1) if line.strip()]


def prune_jsonl(
    model: str | os.PathLike,
    in_path: Path,
    out_path: Path,
    options: PruneOptions,
    workers: int | None = None,
    progress: Callable[[int], Iterable] | None = None,
    target_tokenizer: str | os.PathLike | None = None,
    force_workers: bool = False,
) -> BatchReport:
    """Prune every line of `in_path` into `out_path`; returns the count and the per-line errors.

    workers: processes (default: one per core), at most one per core unless force_workers (each
    holds its own copy of the weights, ~185 MB for SmolLM2, and more cores than that only slow it).
    progress: wraps the result iterator (given its length), e.g. a progress bar.
    target_tokenizer: a tokenizer.json whose special tokens the pruned texts must not create.
    """
    cores = available_cores()
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise LiteError(f"workers must be a whole number of at least 1, got {workers!r}")
    requested = workers if workers is not None and workers > cores and not force_workers else None
    workers = cores if workers is None or requested is not None else workers
    check_not_an_input(out_path, [p for p in (in_path, model, target_tokenizer) if p is not None and str(p) != "-"])
    lines = numbered_lines(in_path)
    workers = max(1, min(workers, len(lines)))
    report = BatchReport(lines=len(lines), workers=workers, requested_workers=requested)
    with atomic_write(out_path) as out, results_of(model, lines, options, workers, target_tokenizer) as results:
        for out_line, error in progress(results, len(lines)) if progress else results:
            out.write(out_line.encode("utf-8") + b"\n")
            if error:
                report.errors.append(error)
    return report


@contextlib.contextmanager
def results_of(
    model: str | os.PathLike,
    lines: list[tuple[int, bytes]],
    options: PruneOptions,
    workers: int,
    target_tokenizer: str | os.PathLike | None = None,
) -> Iterator[Iterator[tuple[str, str | None]]]:
    """(output line, error) per input line, in input order, from `workers` processes."""
    # a slice or tokenizer that cannot load fails here, not in every worker
    pruner = load(model, threads=1 if workers > 1 else None, target_tokenizer=target_tokenizer)
    if workers == 1:
        yield (prune_line(pruner, n, raw, options) for n, raw in lines)
        return
    # spawn, not fork: a forked numba thread pool is not safe; each worker maps the slice itself
    target = None if target_tokenizer is None else str(target_tokenizer)
    with get_context("spawn").Pool(workers, init_worker, (str(model), options, target)) as pool:
        yield pool.imap(prune_numbered_line, lines, chunksize=max(1, len(lines) // (workers * 16)))
