"""`python -m lite.prune` in a subprocess: stdin, a file, --json, --show, default model, JSONL batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_cli(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "lite.prune", *args],
        input=stdin.encode("utf-8") if stdin is not None else None,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def out(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode("utf-8")


def test_stdin_and_file_print_the_pruned_text(pruner, smollm2_slice, mgsm_texts, tmp_path):
    text = mgsm_texts["zh"][3]
    expected = pruner.prune(text, rate=0.5).text
    piped = run_cli(["--model", str(smollm2_slice), "--rate", "0.5"], tmp_path, stdin=text + "\n")
    assert out(piped) == expected + "\n"
    source = tmp_path / "prompt.txt"
    source.write_text(text + "\n", encoding="utf-8")
    assert out(run_cli(["--model", str(smollm2_slice), "--rate", "0.5", str(source)], tmp_path)) == expected + "\n"
    assert out(run_cli(["--model", str(smollm2_slice), "--rate", "1", str(source)], tmp_path)) == text + "\n"


def test_json_has_the_counts(pruner, smollm2_slice, mgsm_texts, tmp_path):
    text = mgsm_texts["th"][0]
    proc = run_cli(["--model", str(smollm2_slice), "--target-tokens", "20", "--json", "-"], tmp_path, stdin=text)
    got = json.loads(out(proc))
    expected = pruner.prune(text, target_tokens=20)
    assert got["text"] == expected.text and got["kept"] == list(expected.kept)  # same in another process
    assert (got["origin_tokens"], got["compressed_tokens"]) == (expected.origin_tokens, expected.compressed_tokens)
    assert got["compressed_tokens"] <= 20


def test_show_marks_dropped_text_in_brackets(smollm2_slice, tmp_path):
    text = "The quick brown fox jumps over the lazy dog near the river bank."
    shown = out(run_cli(["--model", str(smollm2_slice), "--rate", "0.5", "--show"], tmp_path, stdin=text))
    assert "[" in shown and "\x1b[" not in shown  # not a terminal: plain brackets
    assert shown.replace("[", "").replace("]", "") == text
    kept = out(run_cli(["--model", str(smollm2_slice), "--rate", "0.5"], tmp_path, stdin=text))
    outside = "".join(part.split("]")[-1] for part in shown.split("["))
    assert outside == kept


def test_model_flag_wins_over_weights_folder(smollm2_slice, tmp_path):
    """--model chooses the model; ./weights/ does not (no --model: the default model, tests/test_default_model.py)."""
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "junk.safetensors").write_bytes(b"junk")
    proc = run_cli(["--model", str(smollm2_slice), "--rate", "1.0"], tmp_path, stdin="hello there")
    assert out(proc) == "hello there"


@pytest.mark.parametrize("rate", ["0", "1.5", "-1", "nan"])
def test_bad_rate_exits_with_a_one_line_error(smollm2_slice, tmp_path, rate):
    proc = run_cli(["--model", str(smollm2_slice), "--rate", rate], tmp_path, stdin="hello")
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("error: rate must be in (0, 1]") and proc.stderr.count(b"\n") == 1


def test_empty_input_prints_nothing(smollm2_slice, tmp_path):
    assert out(run_cli(["--model", str(smollm2_slice)], tmp_path, stdin="")) == ""


def test_jsonl_batch_with_a_malformed_line(pruner, smollm2_slice, mgsm_texts, tmp_path):
    texts = [mgsm_texts[lang][0] for lang in ("en", "bn", "th", "zh", "te")]
    lines = [json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in enumerate(texts)]
    lines.insert(2, '{"id": 99, "text": "unterminated')
    lines.insert(4, json.dumps({"id": 98, "body": "no text field"}))
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    args = ["--model", str(smollm2_slice), "--rate", "0.8", "--jsonl", str(source), "--out", str(target)]
    proc = run_cli([*args, "--workers", "2"], tmp_path)
    stderr = proc.stderr.decode()
    assert proc.returncode == 1, stderr
    assert "line 3: " in stderr and "line 5: field 'text' must be a string, found no such field" in stderr
    assert "2 of 7 lines failed" in stderr
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 7
    assert records[2]["line"] == 3 and "error" in records[2]
    assert records[4] == {"line": 5, "error": "field 'text' must be a string, found no such field"}
    good = [r for r in records if "error" not in r]
    assert [r["id"] for r in good] == list(range(5))
    for record, text in zip(good, texts):
        expected = pruner.prune(text, rate=0.8)
        assert record["text"] == expected.text
        counts = (record["origin_tokens"], record["compressed_tokens"])
        assert counts == (expected.origin_tokens, expected.compressed_tokens)
    single = tmp_path / "single.jsonl"
    run_cli([*args[:-1], str(single), "--workers", "1"], tmp_path)
    assert single.read_bytes() == target.read_bytes()  # one process or several: the same output


def test_method_option_picks_the_score(pruner, smollm2_slice, mgsm_texts, tmp_path):
    text = mgsm_texts["en"][3]
    expected = pruner.prune(text, rate=0.5, method="value_norm").text
    args = ["--model", str(smollm2_slice), "--rate", "0.5", "--method", "value_norm"]
    assert out(run_cli(args, tmp_path, stdin=text)) == expected
    bad = run_cli(["--model", str(smollm2_slice), "--method", "bogus"], tmp_path, stdin=text)
    assert bad.returncode == 2 and b"invalid choice" in bad.stderr


def test_granularity_option(pruner, smollm2_slice, mgsm_texts, tmp_path):
    text = mgsm_texts["fr"][1]
    by_char = pruner.prune(text, rate=0.5, granularity="char").text
    assert by_char != pruner.prune(text, rate=0.5).text
    args = ["--model", str(smollm2_slice), "--rate", "0.5"]
    assert out(run_cli([*args, "--granularity", "char"], tmp_path, stdin=text)) == by_char
    assert out(run_cli(args, tmp_path, stdin=text)) == pruner.prune(text, rate=0.5).text
    bad = run_cli([*args, "--granularity", "token"], tmp_path, stdin=text)
    assert bad.returncode == 2 and b"invalid choice" in bad.stderr


MUSEUM = (
    "The city museum opened in 1901 and has been popular with the city ever since. "
    "The museum's director, Anna Kowalczyk, was appointed in 2015 after a long search. "
    "The sculpture gardens were designed by the architect Bruno Lindqvist in 1923."
)


def test_question_prunes_passages_for_it(pruner, smollm2_slice, tmp_path):
    question = "Who designed the sculpture gardens?"
    expected = pruner.prune(MUSEUM, rate=0.3, question=question).text
    args = ["--model", str(smollm2_slice), "--rate", "0.3", "--question", question]
    assert out(run_cli(args, tmp_path, stdin=MUSEUM + "\n")) == expected + "\n"
    lines = [{"text": MUSEUM, "q": question}, {"text": MUSEUM, "q": "When was Anna Kowalczyk appointed?"},
             {"text": MUSEUM}]
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    proc = run_cli(["--model", str(smollm2_slice), "--rate", "0.3", "--jsonl", str(source), "--out", str(target),
                    "--question-field", "q", "--workers", "1"], tmp_path)
    assert proc.returncode == 1  # the third line has no question
    written = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert written[0]["text"] == expected
    assert written[1]["text"] == pruner.prune(MUSEUM, rate=0.3, question=lines[1]["q"]).text
    assert written[2] == {"line": 3, "error": "field 'q' must be a string, found no such field"}
    bad = run_cli(["--model", str(smollm2_slice), "--question", " "], tmp_path, stdin=MUSEUM)
    assert bad.returncode == 2
    assert bad.stderr.decode().strip() == "error: question must be a non-empty string, got ' '"
