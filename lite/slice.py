"""Make a slice: `python -m lite.slice SOURCE [--out FILE]`.

SOURCE is a local Hugging Face-style folder or a hub repo id. From it we take config.json
and tokenizer.json, find which shard holds each needed tensor, read each shard's header,
and fetch only the needed tensors' bytes (adjacent tensors in one range), then write one
safetensors file atomically.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .atomic import check_not_an_input, check_writable
from .errors import LiteError, exit_on_error
from .slicefile import CONFIG_KEY, TOKENIZER_CONFIG_KEY, TOKENIZER_KEY, RawTensor, write_slice
from .sources import Limits, LocalFolder, Progress, Source, check_file_name, open_source
from .spec import AttentionSpec
from .stformat import Header, TensorEntry, read_header

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"


@dataclass(frozen=True)
class SliceReport:
    path: Path
    size: int  # bytes of the slice file
    tensor_bytes: int  # bytes of tensor data fetched
    tensors: list[str]
    spec: AttentionSpec


def read_text(source: Source, filename: str) -> str | None:
    """A small file of the source as UTF-8 text, or None when there is no such file."""
    raw = source.read_file(filename)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LiteError(f"{source.name}/{filename} is not UTF-8 text (byte {err.start})") from None


def read_json(source: Source, filename: str):
    """A small JSON file of the source, or None when there is no such file; a one-line error when it is broken."""
    text = read_text(source, filename)
    return None if text is None else parse_json(text, f"{source.name}/{filename}")


def parse_json(text: str, where: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise LiteError(f"{where} is not valid JSON: {err}") from None
    except RecursionError:
        raise LiteError(f"{where} is nested too deeply to be a model's JSON file") from None
    except ValueError as err:  # e.g. an integer with more digits than Python converts
        raise LiteError(f"{where} is not usable JSON: {str(err).splitlines()[0]}") from None


def shard_of_each_tensor(source: Source) -> tuple[dict[str, str], dict[str, Header]]:
    """Which shard file holds each tensor; headers already read on the way (single-file case)."""
    index = read_json(source, INDEX_FILE)
    if index is not None:
        if not isinstance(index, dict):
            raise LiteError(f"{source.name}/{INDEX_FILE} is not a JSON object")
        weight_map = index.get("weight_map")
        if not isinstance(weight_map, dict):
            raise LiteError(f"{source.name}/{INDEX_FILE} has no weight_map object")
        for name, shard in weight_map.items():  # every name, not only the needed ones: a hostile index is refused whole
            check_file_name(shard, f"{source.name}/{INDEX_FILE}: the weight_map entry of {name!r}")
        return dict(weight_map), {}
    header = shard_header(source, SINGLE_FILE)
    return {name: SINGLE_FILE for name in header.entries}, {SINGLE_FILE: header}


def shard_header(source: Source, shard: str) -> Header:
    def read(start: int, end: int) -> bytes:
        return source.read_ranges(shard, [(start, end)])[0]

    return read_header(read, f"{source.name}/{shard}")


def coalesce(entries: list[TensorEntry], data_start: int) -> list[tuple[int, int, list[TensorEntry]]]:
    """Absolute byte ranges covering the entries, adjacent tensors merged into one range."""
    ranges: list[tuple[int, int, list[TensorEntry]]] = []
    for entry in sorted(entries, key=lambda e: e.start):
        start, end = data_start + entry.start, data_start + entry.end
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end, ranges[-1][2] + [entry])
        else:
            ranges.append((start, end, [entry]))
    return ranges


def fetch_tensors(source: Source, spec: AttentionSpec, progress: Progress | None = None) -> dict[str, RawTensor]:
    """The bytes of every tensor the slice holds, and nothing more."""
    shard_by_name, headers = shard_of_each_tensor(source)
    spec = spec.locate(shard_by_name)
    wanted = sorted(name for name in shard_by_name if spec.wants_tensor(name))
    missing = [name for name in spec.required_tensors() if name not in shard_by_name]
    if missing:
        raise LiteError(f"{source.name} has no tensor {missing[0]!r} (model_type {spec.family!r})")
    tensors: dict[str, RawTensor] = {}
    for shard in sorted({shard_by_name[name] for name in wanted}):
        header = headers.get(shard) or shard_header(source, shard)
        spec.check_shapes({name: entry.shape for name, entry in header.entries.items()}, f"{source.name}/{shard}")
        entries = []
        for name in (n for n in wanted if shard_by_name[n] == shard):
            if name not in header.entries:
                raise LiteError(f"{source.name}/{shard} does not hold {name!r} as its index says")
            entries.append(header.entries[name])
        ranges = coalesce(entries, header.data_start)
        chunks = source.read_ranges(shard, [(start, end) for start, end, _ in ranges], progress)
        for (start, _, members), chunk in zip(ranges, chunks):
            view = memoryview(chunk)
            for entry in members:
                offset = header.data_start + entry.start - start
                tensors[entry.name] = RawTensor(entry.dtype, entry.shape, view[offset : offset + entry.nbytes])
    return tensors


def make_slice(source: Source, out: str | Path, progress: Progress | None = None) -> SliceReport:
    """Fetch what the pruner needs from `source` and write it to `out` as one slice file."""
    config = read_json(source, "config.json")
    if config is None:
        raise LiteError(f"{source.name} has no config.json")
    spec = AttentionSpec.from_config(config)  # unsupported models fail here, before any tensor bytes
    tokenizer = read_text(source, "tokenizer.json")
    if tokenizer is None:
        raise LiteError(f"{source.name} has no tokenizer.json (lite reads fast tokenizers only)")
    metadata = {CONFIG_KEY: json.dumps(config), TOKENIZER_KEY: tokenizer, **source.provenance()}
    tokenizer_config = read_text(source, "tokenizer_config.json")
    if tokenizer_config is not None:
        parse_json(tokenizer_config, f"{source.name}/tokenizer_config.json")  # it must at least be JSON
        metadata[TOKENIZER_CONFIG_KEY] = tokenizer_config
    tensors = fetch_tensors(source, spec, progress)
    size = write_slice(out, tensors, metadata)
    tensor_bytes = sum(len(t.data) for t in tensors.values())
    return SliceReport(Path(out), size, tensor_bytes, sorted(tensors), spec)


@contextlib.contextmanager
def byte_progress(enabled: bool) -> Iterator[Progress | None]:
    """A progress bar on stderr for tensor bytes, or None when quiet."""
    if not enabled:
        yield None
        return
    from huggingface_hub.utils import tqdm

    with tqdm(unit="B", unit_scale=True, unit_divisor=1024, desc="tensors", file=sys.stderr) as bar:
        yield bar.update


def default_out(source: Source) -> Path:
    return Path("weights") / f"{source.model_name()}.safetensors"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m lite.slice",
        description="Fetch the embedding and layer-0 attention of a model into one small slice file.",
    )
    parser.add_argument("source", help="a hub repo id (meta-llama/Llama-3.2-1B) or a local model folder")
    parser.add_argument("--out", type=Path, help="output file (default: weights/<model name>.safetensors)")
    parser.add_argument("--revision", help="branch, tag or commit on the hub (default: main)")
    parser.add_argument("--token", help="hub access token (default: HF_TOKEN or `hf auth login`)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    patience = parser.add_argument_group("patience with the hub")
    patience.add_argument("--timeout", type=float, default=30.0, metavar="S",
                          help="give up on a request after S seconds without a byte (default 30)")
    patience.add_argument("--deadline", type=float, default=600.0, metavar="S",
                          help="give up on one transfer (a file, or a 16 MiB part) after S seconds, retries included "
                               "(default 600)")
    patience.add_argument("--retries", type=int, default=5, metavar="N",
                          help="retry a busy answer (429, 5xx) or a broken connection N times (default 5)")
    patience.add_argument("--max-wait", type=float, default=60.0, metavar="S",
                          help="wait at most S seconds before a retry; a longer Retry-After is an error (default 60)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    limits = Limits(timeout=args.timeout, deadline=args.deadline, retries=args.retries, max_wait=args.max_wait)
    source = open_source(args.source, revision=args.revision, token=args.token, limits=limits)
    out = check_writable(args.out or default_out(source))  # before any byte is fetched
    if isinstance(source, LocalFolder):  # a local folder, or a snapshot in the Hugging Face cache
        check_not_an_input(out, source.root.rglob("*"))
    with byte_progress(enabled=not args.quiet and sys.stderr.isatty()) as progress:
        report = make_slice(source, out, progress)
    mib = 1024 * 1024
    print(
        f"wrote {report.path} ({report.size / mib:.1f} MiB: {len(report.tensors)} tensors, "
        f"{report.tensor_bytes / mib:.1f} MiB of tensor data; {report.spec.family}, "
        f"{report.spec.n_heads} heads, {report.spec.n_kv_heads} kv heads, head_dim {report.spec.head_dim})"
    )
    return 0


if __name__ == "__main__":
    exit_on_error(main)
