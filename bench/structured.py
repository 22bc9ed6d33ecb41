"""Structured text (JSON, Markdown, code, agent traces): fact retention, validity and compression.

    python -m bench.structured                  # rates 0.7 and 0.5, SmolLM2-135M slice of the tests
    python -m bench.structured --llmlingua      # also LLMLingua (tools/llmlingua_env.py's venv)

For every document of bench/data/structured (questions.json: its question and the fact strings
an answer needs) and each rate, each method prunes the document (a trace: through
prune_messages); the bench measures the share of facts still present verbatim, validity
(bench/structured_checks.py), and the achieved rate (output tokens / input tokens, SmolLM2
tokenizer). Methods: lite with structure="auto" (the default), lite with structure="text" (the
prose pruner, as before issue 24), lite with code="lines" (structure "auto"), and LLMLingua's
compress_prompt on the whole text at the same rate (traces: each prunable message's content).
Per content type: mean retention, the paired differences auto - text and auto - llmlingua with a
bootstrap 95% CI over documents, validity share, same key paths (JSON), mean achieved rate.
Writes bench/results/structured.md.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from bench.paths import REPO, RESULTS
from bench.structured_checks import messages_text, messages_valid, retention, valid

DATA = REPO / "bench" / "data" / "structured"
RATES = (0.7, 0.5)
TYPES = ("json", "markdown", "code", "trace")
BOOTSTRAP = 10_000
OPTIONS = {"auto": {}, "text": {"structure": "text"}, "lines": {"code": "lines"}}  # lite's methods
RECORDS = RESULTS / "structured.json"  # every measured row: --reuse measures only what is missing


def corpus() -> list[tuple[str, dict]]:
    questions = json.loads((DATA / "questions.json").read_text(encoding="utf-8"))
    return sorted(questions.items())


def default_slice() -> Path:
    from tools.fixtures import cache_dir

    path = cache_dir() / "slices" / "smollm2-135m-instruct.safetensors"
    if not path.is_file():
        raise SystemExit(f"no slice at {path}: run the tests once (tests/conftest.py builds it) or pass --slice")
    return path


def run_document(pruner, name: str, rate: float, method: str, worker=None) -> tuple[str, bool, bool | None, float]:
    """(output text with its facts, valid?, JSON's same key paths? (None if not JSON), achieved rate)."""
    raw = (DATA / name).read_text(encoding="utf-8")
    if name.startswith("trace_"):
        messages = json.loads(raw)
        if method == "llmlingua":
            after = lingua_messages(worker, messages, rate)
        else:
            after = pruner.prune_messages(messages, rate=rate, **OPTIONS[method]).messages
        out, before = messages_text(after), pruner.count_tokens(messages_text(messages))
        return out, messages_valid(messages, after), None, pruner.count_tokens(out) / before
    if method == "llmlingua":
        out = worker.compress([raw], rate=rate, force_tokens=[])["text"]
    else:
        out = pruner.prune(raw, rate=rate, **OPTIONS[method]).text
    keys = valid(name, raw, out, same_keys=True) if name.startswith("json") else None
    achieved = pruner.count_tokens(out) / pruner.count_tokens(raw)
    return out, valid(name, raw, out, code_whole=method != "lines"), keys, achieved


def lingua_messages(worker, messages: list[dict], rate: float) -> list[dict]:
    """LLMLingua on each user/assistant/tool content but the last user message (as prune_messages prunes)."""
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    out = []
    for i, message in enumerate(messages):
        message = dict(message)
        if message["role"] in ("user", "assistant", "tool") and i != last_user and message.get("content"):
            message["content"] = worker.compress([message["content"]], rate=rate, force_tokens=[])["text"]
        out.append(message)
    return out


def type_of(name: str, spec: dict) -> str:
    return spec["type"]


def bootstrap_ci(diffs: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95% percentile CI of the mean of paired per-document differences."""
    rng = np.random.default_rng(seed)
    means = diffs[rng.integers(0, len(diffs), size=(BOOTSTRAP, len(diffs)))].mean(axis=1)  # [BOOTSTRAP]
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def measure(pruner, methods: list[str], worker=None, reuse: bool = False) -> list[dict]:
    rows = []
    old = {(r["doc"], r["rate"], r["method"]): r for r in json.loads(RECORDS.read_text())} if reuse and \
        RECORDS.is_file() else {}
    for name, spec in corpus():
        for rate in RATES:
            for method in methods:
                if (name, rate, method) in old:
                    rows.append(old[name, rate, method])
                    continue
                out, ok, keys, achieved = run_document(pruner, name, rate, method, worker)
                rows.append({"doc": name, "type": spec["type"], "rate": rate, "method": method, "keys": keys,
                             "retention": retention(out, spec["facts"]), "valid": ok, "achieved": achieved})
                print(f"{name:40s} {rate} {method:9s} ret={rows[-1]['retention']:.2f} valid={ok} "
                      f"rate={achieved:.3f}", flush=True)
                save(rows, old, methods)
    save(rows, old, methods)
    return rows


def save(rows: list[dict], old: dict, methods: list[str]) -> None:
    """The records: the rows so far, and the old rows of methods not run this time."""
    RECORDS.write_text(json.dumps(rows + [r for k, r in old.items() if k[2] not in methods], indent=1) + "\n")


def paired(by: dict, first: str, second: str) -> str:
    """The mean per-document retention difference first - second, with its bootstrap 95% CI."""
    diffs = np.array([a["retention"] - b["retention"] for a, b in zip(by[first], by[second], strict=True)])
    low, high = bootstrap_ci(diffs)
    return f"{diffs.mean():+.3f} [{low:+.3f}, {high:+.3f}]"


def summary(rows: list[dict], methods: list[str]) -> list[str]:
    """Two tables per type and rate: retention with paired CIs; validity, same keys and achieved rate."""
    versus = [m for m in ("text", "llmlingua") if m in methods]
    first = ["| type | rate | docs | " + " | ".join(f"retention {m}" for m in methods) + " | "
             + " | ".join(f"auto − {m} [95% CI]" for m in versus) + " |",
             "|" + "---|" * (3 + len(methods) + len(versus))]
    second = ["| type | rate | " + " | ".join(f"valid {m}" for m in methods) + " | "
              + " | ".join(f"same keys {m}" for m in methods) + " | " + " | ".join(f"achieved {m}" for m in methods)
              + " |", "|" + "---|" * (2 + 3 * len(methods))]
    for rate in RATES:
        for kind in (*TYPES, "all"):
            pick = [r for r in rows if r["rate"] == rate and (kind == "all" or r["type"] == kind)]
            by = {m: sorted((r for r in pick if r["method"] == m), key=lambda r: r["doc"]) for m in methods}
            if not by["auto"]:
                continue
            cells = [f"{np.mean([r['retention'] for r in by[m]]):.3f}" for m in methods]
            first.append(f"| {kind} | {rate} | {len(by['auto'])} | " + " | ".join(cells + [paired(by, "auto", m)
                                                                                            for m in versus]) + " |")
            keyed = {m: [r["keys"] for r in by[m] if r["keys"] is not None] for m in methods}
            cells = [f"{np.mean([r['valid'] for r in by[m]]):.2f}" for m in methods]
            cells += [f"{np.mean(keyed[m]):.2f}" if keyed[m] else "–" for m in methods]
            cells += [f"{np.mean([r['achieved'] for r in by[m]]):.3f}" for m in methods]
            second.append(f"| {kind} | {rate} | " + " | ".join(cells) + " |")
    return ["## Fact retention", ""] + first + ["", "## Validity and achieved rate", ""] + second


def report(rows: list[dict], methods: list[str], notes: list[str]) -> str:
    head = ["# Structured text: fact retention, validity, compression", "",
            "Written by `python -m bench.structured` (see its docstring and docs/structure.md). Corpus: "
            "bench/data/structured (SOURCE.md). Pruner: the SmolLM2-135M-Instruct slice, default method and "
            "granularity. retention: share of a document's fact strings present verbatim in the output; valid: "
            "JSON parses as a sub-document (members or elements left out, strings shortened, every other scalar "
            "identical; 'same keys': and the same key paths, array indices as [*]), Markdown keeps headings, whole "
            "fenced blocks, table rows and URLs, code keeps whole lines, a trace keeps tool_calls and valid tool "
            "contents; achieved: output tokens / input tokens. CI: bootstrap (10,000 resamples) of the mean "
            "per-document paired difference.", ""]
    per_doc = ["", "## Per document", "", "| doc | rate | " + " | ".join(f"{m} ret / valid / achieved" for m in methods)
               + " |", "|" + "---|" * (2 + len(methods))]
    for name, _ in corpus():
        for rate in RATES:
            cells = []
            for m in methods:
                r = next(r for r in rows if r["doc"] == name and r["rate"] == rate and r["method"] == m)
                cells.append(f"{r['retention']:.2f} / {'yes' if r['valid'] else 'no'} / {r['achieved']:.2f}")
            per_doc.append(f"| {name} | {rate} | " + " | ".join(cells) + " |")
    return "\n".join(head + summary(rows, methods) + [""] + notes + per_doc) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.structured", description=__doc__.split("\n\n")[0])
    parser.add_argument("--slice", type=Path, default=None, help="the slice (default: the tests' SmolLM2)")
    parser.add_argument("--llmlingua", action="store_true", help="also LLMLingua in its venv (tools/llmlingua_env.py)")
    parser.add_argument("--out", type=Path, default=RESULTS / "structured.md")
    parser.add_argument("--reuse", action="store_true", help=f"take the rows already in {RECORDS.name}")
    args = parser.parse_args(argv)
    from lite.prune import load

    pruner = load(args.slice or default_slice())
    methods = ["auto", "text", "lines"]
    notes = []
    if args.llmlingua:
        from tools.llmlingua_env import Worker

        methods.append("llmlingua")
        with Worker() as worker:
            rows = measure(pruner, methods, worker, args.reuse)
        notes.append("llmlingua: LLMLingua 0.2.2 `compress_prompt([text], rate=r)` with the same SmolLM2 model "
                     "(tools/llmlingua_env.py); achieved counted in the SmolLM2 tokenizer.")
    else:
        rows = measure(pruner, methods, reuse=args.reuse)
        notes.append("LLMLingua was not run (pass --llmlingua).")
    notes.append("A target model's KL is not measured here.")
    args.out.write_text(report(rows, methods, notes), encoding="utf-8")
    print(f"wrote {os.path.relpath(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
