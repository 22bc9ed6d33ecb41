"""lite.ray on a local Ray (2 CPUs, started once for this module: Ray starts slowly): prune_dataset, the
--engine ray JSONL batch and Parquet in and out, each against the process-pool batch on the same input."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import ray

import lite.ray
from lite.errors import LiteError
from lite.prune import PruneOptions
from lite.prune import __main__ as prune_cli
from lite.prune.batch import prune_jsonl
from tests.helpers import PASSAGES


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def corpus() -> list[dict]:
    """Records with a text each (some long, some repeated, one empty), and one whose text is null."""
    texts = [PASSAGES[i % 3] * (1 + i % 4) for i in range(10)] + ["", "¿Dónde está el río? 東京は日本の首都です。"]
    records = [{"id": i, "source": f"doc{i}", "text": text} for i, text in enumerate(texts)]
    records.insert(5, {"id": 99, "source": "broken", "text": None})
    return records


def jsonl(records: list[dict], extra_lines: tuple[str, ...] = ()) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode() + "".join(extra_lines).encode()


def pool_records(tmp_path, model, records: list[dict], options: PruneOptions) -> list[dict]:
    out = tmp_path / "pool.jsonl"
    prune_jsonl(model, jsonl(records), out, options, "text", workers=2)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_prune_dataset_matches_the_process_pool_record_for_record(local_ray, smollm2_slice, tmp_path):
    records = corpus()
    pool = pool_records(tmp_path, smollm2_slice, records, PruneOptions(rate=0.5, force_digits=True))
    rows = lite.ray.prune_dataset(ray.data.from_items(records), smollm2_slice, "text", rate=0.5,
                                  force_digits=True, actors=2).take_all()
    rows.sort(key=lambda row: records.index(next(r for r in records if r["id"] == row["id"])))
    assert len(rows) == len(records) == len(pool)
    for line_no, (record, row, pooled) in enumerate(zip(records, rows, pool), start=1):
        assert (row["id"], row["source"], row["text"]) == (record["id"], record["source"], record["text"])
        if record["text"] is None:  # a bad record is an error record, in both
            assert pooled == {"line": line_no, "error": "field 'text' must be a string, found a NoneType"}
            assert row["error"] == pooled["error"]
            assert row["pruned_text"] is row["kept_spans"] is row["origin_tokens"] is None
            continue
        assert row["error"] is None
        assert row["pruned_text"] == pooled["text"]
        assert (row["origin_tokens"], row["compressed_tokens"]) == (pooled["origin_tokens"],
                                                                    pooled["compressed_tokens"])
        assert "".join(record["text"][a:b] for a, b in row["kept_spans"]) == row["pruned_text"]
        assert all(b < c for (_, b), (c, _) in zip(row["kept_spans"], row["kept_spans"][1:]))  # merged, in order
    assert sum(row["origin_tokens"] or 0 for row in rows) > 500


def test_engine_ray_writes_the_same_file_as_the_process_pool(local_ray, smollm2_slice, tmp_path):
    data = jsonl(corpus(), ('{"id": "int", "text": 5}\n', "not json\n", "\n", '{"id": "no text"}\n'))
    options = PruneOptions(target_tokens=20, method="rarity_mix")
    prune_jsonl(smollm2_slice, data, tmp_path / "pool.jsonl", options, workers=2)
    report = lite.ray.prune_jsonl(smollm2_slice, data, tmp_path / "ray.jsonl", options, actors=2)
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "pool.jsonl").read_bytes()
    assert report.lines == 16 and report.errors == [
        "line 6: field 'text' must be a string, found a NoneType",
        "line 14: field 'text' must be a string, found a int",
        "line 15: Expecting value: line 1 column 1 (char 0)",
        "line 17: field 'text' must be a string, found no such field",
    ]
    # the command line, on the Ray this module started
    (tmp_path / "in.jsonl").write_bytes(data)
    args = ["--model", str(smollm2_slice), "--target-tokens", "20", "--method", "rarity_mix", "--jsonl",
            str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "cli.jsonl"), "--engine", "ray", "--workers", "2",
            "--quiet"]
    assert prune_cli.main(args) == 1  # some lines failed
    assert (tmp_path / "cli.jsonl").read_bytes() == (tmp_path / "pool.jsonl").read_bytes()


def test_engine_ray_prunes_for_each_lines_question_as_the_pool_does(local_ray, smollm2_slice, pruner, tmp_path):
    questions = ["How much does Janet make?", "Where is Paris?", "Wo mündet der Rhein?"]
    records = [{"text": PASSAGES[i % 3], "q": questions[i % 3]} for i in range(6)] + [{"text": PASSAGES[0]}]
    options = PruneOptions(rate=0.5)
    prune_jsonl(smollm2_slice, jsonl(records), tmp_path / "pool.jsonl", options, workers=2, question_key="q")
    report = lite.ray.prune_jsonl(smollm2_slice, jsonl(records), tmp_path / "ray.jsonl", options, actors=2,
                                  question_key="q")
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "pool.jsonl").read_bytes()
    assert report.errors == ["line 7: field 'q' must be a string, found no such field"]
    first = json.loads((tmp_path / "ray.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["text"] == pruner.prune(PASSAGES[0], rate=0.5, question=questions[0]).text


def test_parquet_in_and_out(local_ray, smollm2_slice, tmp_path):
    records = corpus()
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "corpus.parquet")
    out = tmp_path / "pruned"
    args = ["--model", str(smollm2_slice), "--rate", "0.7", "--parquet", str(tmp_path / "corpus.parquet"),
            "--out", str(out), "--engine", "ray", "--quiet"]
    assert prune_cli.main(args) == 1  # the null text
    rows = {row["id"]: row for row in pq.read_table(out).to_pylist()}
    pool = pool_records(tmp_path, smollm2_slice, records, PruneOptions(rate=0.7))
    assert len(rows) == len(records)
    for record, pooled in zip(records, pool):
        row = rows[record["id"]]
        assert row["text"] == record["text"] and row["pruned_text"] == pooled.get("text", None)
        assert row["error"] == pooled.get("error")
    with pytest.raises(LiteError, match="already exists and is not an empty folder"):
        prune_cli.main(args)


def test_bad_options_fail_before_anything_runs(local_ray, smollm2_slice, tmp_path):
    ds = ray.data.from_items([{"text": "a"}])
    for kwargs, message in [
        ({"rate": 3}, r"rate must be in \(0, 1\]"),
        ({"ratio": 0.5}, "unknown option 'ratio'; the options are: rate, target_tokens"),
        ({"actors": 0}, "actors must be a whole number of at least 1, got 0"),
        ({"output_column": "error"}, "output_column 'error' is one of the columns prune_dataset adds"),
    ]:
        with pytest.raises(LiteError, match=message):
            lite.ray.prune_dataset(ds, smollm2_slice, **kwargs)
    with pytest.raises(LiteError, match="no slice file at"):
        lite.ray.prune_dataset(ds, tmp_path / "missing.safetensors")
    with pytest.raises(LiteError, match="takes a ray.data.Dataset, got list"):
        lite.ray.prune_dataset([{"text": "a"}], smollm2_slice)
    for args, message in [
        (["--engine", "ray"], "--engine ray goes with --jsonl IN or --parquet IN"),
        (["--parquet", "x.parquet", "--out", "o"], "--parquet runs on Ray: add --engine ray"),
        (["--jsonl", "x.jsonl", "--out", "o", "--address", "auto"], "--address goes with --engine ray"),
        (["--parquet", "x.parquet", "--engine", "ray"], "--parquet IN needs --out DIR"),
    ]:
        with pytest.raises(LiteError, match=message.replace("(", r"\(")):
            prune_cli.main(["--model", str(smollm2_slice), *args])
