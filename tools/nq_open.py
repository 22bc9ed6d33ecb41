"""NQ-open oracle passages (bench/data/nq_open): questions, gold answers and the one passage that answers each.

The file is a subset of `qa_data/nq-open-oracle.jsonl.gz` of the lost-in-the-middle study (Liu et al.,
2023; 2,655 NQ-open questions, each with the Wikipedia passage of about 100 words that NaturalQuestions
annotates as holding the answer): the first 400 questions in the file's order whose passage is not
already taken by an earlier one. Dev split: questions 0-199; test split: 200-399. The gold answers are
for measuring only, never an input to a pruner.

`python -m tools.nq_open ORIGINAL.jsonl.gz` rebuilds the subset from the original file (checked by its
SHA-256) and writes it where the loader reads it.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
from functools import cache
from pathlib import Path

COUNT = 400
SPLITS = {"dev": range(0, 200), "test": range(200, 400)}
ORIGINAL_SHA256 = "6a7f72b846f663a133ef952244e5a4e43f06bcf190afe34e8fbe687ce0d1653e"
REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "bench" / "data" / "nq_open"
FILE = "nq_open_oracle.jsonl"


def data_dir() -> Path:
    """bench/data/nq_open, in the repository (see its SOURCE.md)."""
    if not (DATA / FILE).is_file():
        raise FileNotFoundError(f"NQ-open data not found in {DATA}: the repository's bench/data is incomplete")
    return DATA


@cache
def questions() -> list[dict]:
    """{"id", "question", "answers", "title", "text"} for each of the 400 questions, in order."""
    with open(data_dir() / FILE, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def passage(row: dict) -> str:
    """A question's passage as the study's prompts show it: its article's title, then its text."""
    return f"(Title: {row['title']}) {row['text']}"


def subset(lines: list[str], count: int = COUNT) -> list[dict]:
    """The first `count` questions of the original file whose oracle passage is new, in the shipped format."""
    rows, seen = [], set()
    for index, line in enumerate(lines):
        item = json.loads(line)
        ctx = item["ctxs"][0]
        if ctx["text"] in seen:
            continue
        seen.add(ctx["text"])
        rows.append({"id": f"nq-oracle-{index}", "question": item["question"], "answers": item["answers"],
                     "title": ctx["title"], "text": ctx["text"]})
        if len(rows) == count:
            break
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.nq_open", description=__doc__.splitlines()[0])
    parser.add_argument("original", type=Path, help="qa_data/nq-open-oracle.jsonl.gz of lost-in-the-middle")
    parser.add_argument("--out", type=Path, default=DATA / FILE)
    args = parser.parse_args(argv)
    raw = args.original.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != ORIGINAL_SHA256:
        raise SystemExit(f"{args.original}: SHA-256 {digest}, expected {ORIGINAL_SHA256} (another version?)")
    rows = subset(gzip.decompress(raw).decode("utf-8").splitlines())
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{args.out}: {len(rows)} questions")


if __name__ == "__main__":
    main()
