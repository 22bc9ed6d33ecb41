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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from ..errors import LiteError
from ..score.threads import available_cores
from ..store.atomic import atomic_write
from .options import PruneOptions
from .pruner import Pruner, load
from .results import PruneResult


@dataclass
class BatchReport:
    lines: int = 0
    errors: list[str] = field(default_factory=list)  # "line N: message", in line order
    workers: int = 0  # worker processes used
    requested_workers: int | None = None  # what was asked, when more than the cores and not forced (capped)


def strict_constant(name: str):
    """json.loads' hook for NaN, Infinity and -Infinity: not JSON, refused."""
    raise ValueError(f"{name} is not valid JSON (only finite numbers are)")


def string_field(record: dict, key: str) -> str:
    """record[key] if it is a string, else a LiteError saying what is there instead."""
    value = record.get(key)
    if not isinstance(value, str):
        found = "no such field" if key not in record else f"a {type(value).__name__}"
        raise LiteError(f"field {key!r} must be a string, found {found}")
    return value


def prune_record(
    pruner: Pruner, record: object, options: PruneOptions, key: str, question_key: str | None = None
) -> PruneResult:
    """The `key` field of one record pruned (for the question in its `question_key` field, when given), or a
    LiteError if the record is not an object with strings there."""
    if not isinstance(record, dict):
        raise LiteError(f"expected a JSON object, got {type(record).__name__}")
    text = string_field(record, key)
    if question_key is not None:
        options = options.replace(question=string_field(record, question_key))
    return pruner.prune(text, **options.given())


def result_counts(result: PruneResult) -> dict[str, int]:
    """The counts a batch adds to each record: origin and compressed tokens (and the target's, when given)."""
    counts = {"origin_tokens": result.origin_tokens, "compressed_tokens": result.compressed_tokens}
    if result.target_origin_tokens is not None:
        counts["target_origin_tokens"] = result.target_origin_tokens
        counts["target_compressed_tokens"] = result.target_compressed_tokens
    return counts


def error_text(err: Exception) -> str:
    """What a batch records for a record that failed: lite's message, or the exception's type and message."""
    return str(err) if isinstance(err, (ValueError, LiteError)) else f"{type(err).__name__}: {err}"


def prune_line(pruner: Pruner, line_no: int, raw: bytes, options: PruneOptions, key: str,
               question_key: str | None = None) -> tuple[str, str | None]:
    """One output line (JSON, no newline) for one input line (its `key` field pruned), and the error if it failed.

    question_key: prune the text for the question in this field of the line (see passages.py).
    """
    try:
        record = json.loads(raw.decode("utf-8"), parse_constant=strict_constant)
        result = prune_record(pruner, record, options, key, question_key)
        record[key] = result.text
        record.update(result_counts(result))
        return json.dumps(record, ensure_ascii=False, allow_nan=False), None
    except Exception as err:
        text = error_text(err)
        return json.dumps({"line": line_no, "error": text}, ensure_ascii=False), f"line {line_no}: {text}"


_worker: tuple[Pruner, PruneOptions, str, str | None] | None = None  # one per worker process, set by init_worker


def init_worker(model: str, options: PruneOptions, key: str, question_key: str | None = None) -> None:
    global _worker
    _worker = (load(model, threads=1), options, key, question_key)  # the processes use the cores, not threads


def prune_numbered_line(item: tuple[int, bytes]) -> tuple[str, str | None]:
    assert _worker is not None, "init_worker was not run"
    pruner, options, key, question_key = _worker
    return prune_line(pruner, item[0], item[1], options, key, question_key)


def numbered_lines(data: bytes) -> list[tuple[int, bytes]]:
    """(line number from 1, raw bytes) of every non-blank line; a UTF-8 byte order mark before line 1 is skipped."""
    if data.startswith(b"\xef\xbb\xbf"):  # some editors write one: it is not part of line 1
        data = data[3:]
    return [(i, line) for i, line in enumerate(data.splitlines(), start=1) if line.strip()]


def prune_jsonl(
    model: str | os.PathLike,
    data: bytes,
    out_path: Path,
    options: PruneOptions,
    key: str = "text",
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    question_key: str | None = None,
    force_workers: bool = False,
) -> BatchReport:
    """Prune the `key` field of every JSON line of `data` into `out_path`; returns the count and the per-line errors.

    workers: processes (default: one per core), at most one per core unless force_workers (each maps the
    slice and widens its own layer-0 weights; more processes than cores only slow the batch down).
    progress: called with 1 as each line is done, e.g. a progress bar's update. question_key: each
    line's text is pruned for the question in this field.
    """
    cores = available_cores()
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise LiteError(f"workers must be a whole number of at least 1, got {workers!r}")
    requested = workers if workers is not None and workers > cores and not force_workers else None
    workers = cores if workers is None or requested is not None else workers
    lines = numbered_lines(data)
    workers = max(1, min(workers, len(lines)))
    report = BatchReport(lines=len(lines), workers=workers, requested_workers=requested)
    with results_of(model, lines, options, key, workers, question_key) as results:
        return write_results(out_path, results, report, progress)


def write_results(out_path: Path, results: Iterable[tuple[str, str | None]], report: BatchReport,
                  progress: Callable[[int], None] | None = None) -> BatchReport:
    """Write each (output line, error) to `out_path` atomically, in order, noting the errors in `report`."""
    with atomic_write(out_path) as out:
        for out_line, error in results:
            out.write(out_line.encode("utf-8") + b"\n")
            if error:
                report.errors.append(error)
            if progress:
                progress(1)
    return report


@contextlib.contextmanager
def results_of(
    model: str | os.PathLike, lines: list[tuple[int, bytes]], options: PruneOptions, key: str, workers: int,
    question_key: str | None = None,
) -> Iterator[Iterator[tuple[str, str | None]]]:
    """(output line, error) per input line, in input order, from `workers` processes."""
    pruner = load(model, threads=1 if workers > 1 else None)  # a slice that cannot load fails here, not in every worker
    if workers == 1:
        yield (prune_line(pruner, n, raw, options, key, question_key) for n, raw in lines)
        return
    # spawn, not fork: a forked numba thread pool is not safe; each worker maps the slice itself
    with get_context("spawn").Pool(workers, init_worker, (str(model), options, key, question_key)) as pool:
        yield pool.imap(prune_numbered_line, lines, chunksize=max(1, len(lines) // (workers * 16)))
