"""Corpus pruning on Ray Data: one pruner per actor, as many actors as the cluster has CPUs.

    import ray, lite.ray
    ds = ray.data.read_parquet("s3://bucket/corpus/")
    pruned = lite.ray.prune_dataset(ds, "weights/SmolLM2-135M-Instruct.safetensors", column="text", rate=0.6)
    pruned.write_parquet("s3://bucket/pruned/")

`prune_dataset` adds to every row: `pruned_<column>` (or `output_column`), the pruned text;
`kept_spans`, the [start, end) character spans of the original text that were kept (adjacent units
merged), so the pruned text can be rebuilt from, or traced back to, the original; `origin_tokens`
and `compressed_tokens` (and `target_origin_tokens`, `target_compressed_tokens` with a target
tokenizer); and `error`, null unless the row could not be pruned (its text missing or null): then the
other new columns are null and the job goes on. The input columns are kept.

It runs `map_batches` with a callable class on an actor pool (`ActorPoolStrategy`, growing from one
actor to one per CPU of the cluster, or to `actors`), one CPU and one scoring thread per actor: each
actor loads the slice once, memory-mapped, so the actors on one node share its pages through the page
cache (docs/integrations.md has what an actor costs and how throughput grows with actors). The slice
path must be readable on every node (a shared filesystem), or a hub repo id that each node slices
into its own cache on first use.

The command line (`lite-pruner prune --engine ray`, lite/prune/__main__.py) uses `prune_jsonl`, which
runs the JSONL batch's own `prune_line` on the actors, so its output file is byte-identical to the
process pool's, and `prune_parquet`, which is `prune_dataset` from Parquet files to Parquet files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

try:
    import pyarrow as pa
    import ray
    import ray.data
except ImportError as err:  # pragma: no cover - the message is the point
    raise ImportError(f'lite.ray needs Ray Data: pip install "lite-pruner[ray]" ({err})') from err

from .errors import LiteError
from .prune.batch import (
    BatchReport,
    error_text,
    numbered_lines,
    prune_line,
    prune_record,
    result_counts,
    write_results,
)
from .prune.options import PruneOptions, check_question_for_auto, make_options
from .prune.pruner import PruneResult, load

COUNTS = ("origin_tokens", "compressed_tokens")
TARGET_COUNTS = ("target_origin_tokens", "target_compressed_tokens")  # only with a target tokenizer
SPANS, ERROR = "kept_spans", "error"
BATCH_SIZE = 32  # rows per map_batches call: small enough to spread a small corpus over every actor


def kept_spans(result: PruneResult) -> list[list[int]]:
    """The [start, end) character spans of the original text that the pruned text is made of, adjacent ones merged."""
    spans: list[list[int]] = []
    at = 0
    for piece, kept in result.pieces:
        if kept and piece:
            if spans and spans[-1][1] == at:
                spans[-1][1] = at + len(piece)
            else:
                spans.append([at, at + len(piece)])
        at += len(piece)
    return spans


class PruneColumn:
    """map_batches' callable class: one Pruner per actor (the slice mapped once, one thread); a batch in, the
    same batch with the pruned text, kept spans, counts and error columns out."""

    def __init__(self, model: str, options: PruneOptions, column: str, output_column: str,
                 question_column: str | None = None):
        self.pruner = load(model, threads=1)  # the actors use the CPUs, not threads inside each
        self.options, self.column, self.output_column = options, column, output_column
        self.question_column = question_column
        self.counts = COUNTS + (TARGET_COUNTS if options.target_tokenizer is not None else ())

    def __call__(self, batch: pa.Table) -> pa.Table:
        names = [n for n in (self.column, self.question_column) if n is not None and n in batch.column_names]
        columns = {name: batch.column(name).to_pylist() for name in names}
        rows: list[dict[str, Any]] = []
        for i in range(batch.num_rows):
            record = {name: values[i] for name, values in columns.items()}
            try:
                result = prune_record(self.pruner, record, self.options, self.column, self.question_column)
                rows.append({self.output_column: result.text, SPANS: kept_spans(result), **result_counts(result)})
            except Exception as err:  # a bad row becomes an error row; the job goes on
                rows.append({ERROR: error_text(err)})
        new = {
            self.output_column: pa.array([r.get(self.output_column) for r in rows], pa.string()),
            SPANS: pa.array([r.get(SPANS) for r in rows], pa.list_(pa.list_(pa.int64()))),
            **{name: pa.array([r.get(name) for r in rows], pa.int64()) for name in self.counts},
            ERROR: pa.array([r.get(ERROR) for r in rows], pa.string()),
        }
        for name, array in new.items():
            where = batch.schema.get_field_index(name)
            batch = batch.set_column(where, name, array) if where >= 0 else batch.append_column(name, array)
        return batch


class PruneLines:
    """map_batches' callable class for JSONL: the process pool's own `prune_line` on each (line number, bytes)."""

    def __init__(self, model: str, options: PruneOptions, key: str, question_key: str | None = None):
        self.pruner = load(model, threads=1)
        self.options, self.key, self.question_key = options, key, question_key

    def __call__(self, batch: pa.Table) -> pa.Table:
        done = [prune_line(self.pruner, n, raw, self.options, self.key, self.question_key)
                for n, raw in zip(batch.column("line").to_pylist(), batch.column("raw").to_pylist())]
        return pa.table({"line": batch.column("line"), "out": pa.array([out for out, _ in done], pa.string()),
                         ERROR: pa.array([error for _, error in done], pa.string())})


def actor_pool(actors: int | None, rows: int | None = None) -> ray.data.ActorPoolStrategy:
    """An actor pool that grows from one actor to `actors` (default: one per CPU of the cluster; never more
    than `rows`). It grows as CPUs are free: a pool of fixed size holding every CPU would starve the read and
    write tasks of the same dataset (on 2 CPUs, read_parquet -> 2 actors -> write_parquet never ends)."""
    most = actor_count(actors)
    return ray.data.ActorPoolStrategy(min_size=1, max_size=max(1, min(most, rows or most)))


def actor_count(actors: int | None) -> int:
    """`actors` if given, else one per CPU of the cluster (Ray is started locally if it is not yet)."""
    if actors is not None:
        if isinstance(actors, bool) or not isinstance(actors, int) or actors < 1:
            raise LiteError(f"actors must be a whole number of at least 1, got {actors!r}")
        return actors
    if not ray.is_initialized():
        ray.init()
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def options_of(options: dict[str, Any]) -> PruneOptions:
    """prune's keyword options as a PruneOptions, checked; a LiteError for an unknown name."""
    return make_options("text", options)


def checked_model(model: str | os.PathLike) -> str:
    """The model as a string, loaded once here so that a slice that cannot load fails now, not in every actor."""
    load(model)
    return str(model)


def prune_dataset(
    ds: ray.data.Dataset,
    model: str | os.PathLike,
    column: str = "text",
    *,
    output_column: str | None = None,
    question_column: str | None = None,
    actors: int | None = None,
    batch_size: int = BATCH_SIZE,
    **options: Any,
) -> ray.data.Dataset:
    """The dataset with `column` of every row pruned into `output_column` (default `pruned_<column>`), plus
    kept_spans, the counts and error (see the module docstring). Lazy, like every Ray Data transform.

    options: Pruner.prune's options (lite.PruneOptions' fields, docs/options.md), checked here, before
    anything runs.
    question_column: prune each row's text for the question in this column. actors: the most actors
    (default: the cluster's CPUs). Rows keep their order only with Ray Data's `preserve_order`.
    """
    if not isinstance(ds, ray.data.Dataset):
        raise LiteError(f"prune_dataset takes a ray.data.Dataset, got {type(ds).__name__}")
    prune_options = options_of(options)
    check_question_for_auto(prune_options, prune_options.question is not None or question_column is not None)
    output_column = output_column or f"pruned_{column}"
    if output_column in (SPANS, ERROR, *COUNTS, *TARGET_COUNTS):
        raise LiteError(f"output_column {output_column!r} is one of the columns prune_dataset adds")
    pool = actor_pool(actors)
    return ds.map_batches(
        PruneColumn,
        fn_constructor_kwargs={"model": checked_model(model), "options": prune_options, "column": column,
                               "output_column": output_column, "question_column": question_column},
        batch_format="pyarrow",
        batch_size=batch_size,
        compute=pool,
        num_cpus=1,
    )


def prune_jsonl(
    model: str | os.PathLike,
    data: bytes,
    out_path: Path,
    options: PruneOptions,
    key: str = "text",
    actors: int | None = None,
    progress: Callable[[int], None] | None = None,
    question_key: str | None = None,
) -> BatchReport:
    """lite.prune.batch.prune_jsonl on Ray actors: the same lines out (byte for byte), in input order."""
    lines = numbered_lines(data)
    report = BatchReport(lines=len(lines))
    return write_results(out_path, ray_lines(checked_model(model), lines, options, key, question_key, actors), report,
                         progress)


def ray_lines(
    model: str, lines: list[tuple[int, bytes]], options: PruneOptions, key: str, question_key: str | None,
    actors: int | None,
) -> Iterator[tuple[str, str | None]]:
    """(output line, error) per input line, in input order, from the actor pool."""
    if not lines:
        return
    context = ray.data.DataContext.get_current()
    was = context.execution_options.preserve_order
    context.execution_options.preserve_order = True  # the output file is in input order
    try:
        ds = ray.data.from_items([{"line": n, "raw": raw} for n, raw in lines])
        done = ds.map_batches(
            PruneLines,
            fn_constructor_kwargs={"model": model, "options": options, "key": key, "question_key": question_key},
            batch_format="pyarrow",
            batch_size=BATCH_SIZE,
            compute=actor_pool(actors, len(lines)),
            num_cpus=1,
        )
        for batch in done.iter_batches(batch_format="pyarrow", batch_size=None):
            yield from zip(batch.column("out").to_pylist(), batch.column(ERROR).to_pylist())
    finally:
        context.execution_options.preserve_order = was


def prune_parquet(
    model: str | os.PathLike, source: str, out_dir: str, options: PruneOptions, key: str = "text",
    actors: int | None = None, question_key: str | None = None,
) -> BatchReport:
    """Parquet file(s) in, a directory of Parquet files out (`prune_dataset`'s columns); the error rows' messages."""
    import pyarrow.dataset as pads

    if os.path.exists(out_dir) and (not os.path.isdir(out_dir) or os.listdir(out_dir)):
        raise LiteError(f"{out_dir} already exists and is not an empty folder; give a new folder for the Parquet files")
    pruned = prune_dataset(ray.data.read_parquet(source), model, key, question_column=question_key, actors=actors,
                           **options.given())
    pruned.write_parquet(out_dir)
    table = pads.dataset(out_dir, format="parquet").to_table(columns=[ERROR])
    errors = [f"a row: {e}" for e in table.column(ERROR).to_pylist() if e is not None]
    return BatchReport(lines=table.num_rows, errors=errors)


def connect(address: str | None) -> None:
    """Join the Ray cluster at `address` ("auto": the one this machine is part of), or start a local one."""
    if ray.is_initialized():
        return
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    except ConnectionError as err:
        raise LiteError(f"could not connect to Ray at {address}: {err}") from None

