"""`python -m tools.labels`: leave-one-out labels for a learned clause scorer (issue 26), dev split only.

For each dev-split prompt, each of its clauses (lite's clause units: sentences cut after commas,
semicolons, colons and spaced dashes, lite/prune/sentences.py) is dropped alone, and the target
answers the prompt without it. The clause's label is the target's KL, as the quality bench measures
it (bench/quality/target.py): mean over the first `kl_tokens` tokens of the target's greedy answer to
the full prompt of KL(full || without the clause), teacher-forced.

Prompts (the quality bench's formats, bench/quality/data.py):
- "mgsm": MGSM few-shot prompts, the exemplars pruned, the dev question kept. Question
  `i + 11 k` (k < --mgsm-questions) for the i-th language, its shots drawn as the bench draws them
  (bench.quality.run.draw_shots: 2 of the 8 exemplars, seeded by the question), under --prompt-cap
  pruner tokens (600; the bench's 900 would double the cost in th, bn and te).
- "xquad": an XQuAD dev passage, the question after it in the target's chat template. Paragraph
  `i + 12 k` (k < --xquad-passages) for the i-th language (different paragraphs in each language, so a
  held-out language holds no translation of a training passage), its first question. The label is
  the same whether the pruner is given the question or not; the features differ (tools/head.py).

The variants of a prompt share the target's cache up to the first token where they differ (the
full prompt's cache, cropped). One line per prompt in a JSONL file outside git (default
~/.cache/lite-labels/), a rerun skips the prompts it holds; the CPU seconds are printed.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

LABELS_VERSION = 1
DEFAULT_OUT = Path.home() / ".cache" / "lite-labels"
KL_TOKENS = 24
SHOTS, PROMPT_CAP = 2, 600  # the bench caps at 900; 600 keeps the labels' cost down (1 shot in th, bn, te)


def clause_spans_of(text: str) -> list[tuple[int, int]]:
    """lite's clauses of a text: (start, end) character spans that tile it."""
    from lite.prune.sentences import clause_spans, split_spans

    return [c for start, end in split_spans(text) for c in clause_spans(text, start, end)]


def mgsm_prompts(pruner, languages, per_language: int, cap: int = PROMPT_CAP) -> list[dict]:
    from bench.quality import data
    from bench.quality.run import draw_shots

    prompts = []
    for i, lang in enumerate(languages):
        lengths = {e: pruner.count_tokens(text) for e, text in enumerate(data.exemplars(lang))}
        for k in range(per_language):
            q = i + len(data.MGSM_LANGUAGES) * k
            assert q in data.MGSM_SPLITS["dev"]
            suffix = data.question_part(lang, q)
            shots = draw_shots(q, tuple(range(8)), SHOTS, lengths, pruner.count_tokens(suffix), cap)
            prompts.append({"kind": "mgsm", "lang": lang, "key": f"q{q}", "head": "", "suffix": suffix,
                            "segments": [data.exemplars(lang)[e] for e in shots], "shots": shots, "question": None})
    return prompts


def xquad_prompts(target, languages, per_language: int) -> list[dict]:
    from bench.quality import data

    prompts = []
    for i, lang in enumerate(languages):
        for k in range(per_language):
            p = i + len(data.XQUAD_LANGUAGES) * k
            assert p in data.XQUAD_SPLITS["dev"]
            para = data.paragraphs(lang)[p]
            qa = para["qas"][0]
            head, suffix = data.rag_parts(qa["question"], target.chat_parts())
            prompts.append({"kind": "xquad", "lang": lang, "key": qa["id"], "head": head, "suffix": suffix,
                            "segments": [para["context"]], "paragraph": p, "question": qa["question"],
                            "answer": qa["answer"]})
    return prompts


def sequence(target, head: str, segments: list[str], suffix: str, teacher: list[int]) -> list[int]:
    """The target's ids of the prompt (as the bench joins it) and the answer's teacher tokens but the last."""
    from bench.quality.run import prefix_text

    return target.leading + target.encode(prefix_text(segments, head)) + target.encode(suffix) + teacher[:-1]


def answer_log_probs(target, ids: list[int], answers: int, cache=None, cached: int = 0):
    """Log-probs at the last `answers` positions of `ids`, running ids[cached:] on a copy of `cache`
    (the first `cached` ids' keys and values): [answers, vocab]; and the cache of the whole run."""
    import torch

    run = torch.tensor([ids[cached:]])  # [1, s]
    if cache is not None:
        cache = copy.deepcopy(cache)
        cache.crop(cached - cache.get_seq_length())  # a negative count: the tokens to remove
    with torch.no_grad():
        out = target.model(run, cache=cache, use_cache=True, logits_to_keep=answers)
    found = getattr(out, "cache", None) or out.past_key_values
    return torch.log_softmax(out.logits[0].float(), dim=-1), found  # [answers, vocab]


def label_prompt(target, pruner, prompt: dict, kl_tokens: int) -> dict:
    """The prompt with its reference answer and, per clause, the target's KL and flips when it alone is dropped."""
    from bench.quality.run import prefix_text
    from bench.quality.target import kl_and_flips

    c0 = time.process_time()
    head, segments, suffix = prompt["head"], prompt["segments"], prompt["suffix"]
    prefix = target.prefix(prefix_text(segments, head))
    answer = target.greedy(prefix, target.encode(suffix), kl_tokens, stop="\n\n")
    teacher = answer[:kl_tokens] or [min(target.eos)]
    full = sequence(target, head, segments, suffix, teacher)
    reference, cache = answer_log_probs(target, full, len(teacher))  # [len(teacher), vocab]
    clauses = []
    for s, text in enumerate(segments):
        for a, b in clause_spans_of(text):
            dropped = [t if j != s else text[:a] + text[b:] for j, t in enumerate(segments)]
            ids = sequence(target, head, dropped, suffix, teacher)
            common = next((j for j, (x, y) in enumerate(zip(full, ids)) if x != y), min(len(full), len(ids)))
            common = min(common, len(ids) - len(teacher))
            other, _ = answer_log_probs(target, ids, len(teacher), cache, common)
            kl, flip = kl_and_flips(reference, other)
            clauses.append({"segment": s, "start": a, "end": b, "kl": kl, "flip": flip,
                            "tokens": pruner.count_tokens(text[a:b])})
    return {**prompt, "version": LABELS_VERSION, "target": target.name, "kl_tokens": kl_tokens,
            "answer_text": target.decode(answer), "teacher": teacher, "clauses": clauses,
            "cpu_s": round(time.process_time() - c0, 2)}


def interleave(a: list, b: list) -> list:
    """a[0], b[0], a[1], b[1], ...: a run stopped early holds both kinds of prompt."""
    out = []
    for k in range(max(len(a), len(b))):
        out += a[k:k + 1] + b[k:k + 1]
    return out


def read_labels(path: Path) -> list[dict]:
    """The file's records, the first of each prompt (two shards may label the same prompt once)."""
    if not path.is_file():
        return []
    found: dict[str, dict] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            found.setdefault(prompt_id(record) if "kind" in record else record["key"], record)
    return list(found.values())


def prompt_id(prompt: dict) -> str:
    return f"{prompt['kind']}/{prompt['lang']}/{prompt['key']}"


def parse_args(argv):
    from bench.quality import data

    p = argparse.ArgumentParser(prog="python -m tools.labels", description=__doc__.splitlines()[0])
    p.add_argument("--mgsm-questions", type=int, default=2, help="dev questions per MGSM language (default 2)")
    p.add_argument("--xquad-passages", type=int, default=2, help="dev passages per XQuAD language (default 2)")
    p.add_argument("--mgsm-languages", nargs="*", default=list(data.MGSM_LANGUAGES))
    p.add_argument("--xquad-languages", nargs="*", default=list(data.XQUAD_LANGUAGES))
    p.add_argument("--kl-tokens", type=int, default=KL_TOKENS)
    p.add_argument("--prompt-cap", type=int, default=PROMPT_CAP,
                   help="MGSM: shots + question under this (pruner tokens)")
    p.add_argument("--shard", default="0/1", help="i/n: this process labels prompts i, i + n, ... (run n at once)")
    p.add_argument("--reverse", action="store_true", help="take the shard's prompts last first (a helper for a shard "
                                                          "that is behind: each skips what the other wrote)")
    p.add_argument("--target", choices=("smollm2", "gemma3"), default="smollm2",
                   help="the model whose KL labels the clauses (the pruner, which cuts the clauses and draws the "
                        "shots, is SmolLM2's slice either way, so both targets label the same prompts)")
    p.add_argument("--out", type=Path, help="default: ~/.cache/lite-labels/labels-v1-<target>.jsonl")
    args = p.parse_args(argv)
    args.out = args.out or DEFAULT_OUT / f"labels-v{LABELS_VERSION}-{args.target}.jsonl"
    return args


def main(argv=None) -> int:
    import torch

    import lite
    from bench.quality.__main__ import pruner_slice, target_folder
    from bench.quality.run import append
    from bench.quality.target import Target
    from tools import fixtures

    args = parse_args(argv)
    torch.set_num_threads(1)
    target = Target(target_folder(args.target), threads=1)
    pruner = lite.load(pruner_slice(fixtures.smollm2_folder()), threads=1)
    prompts = interleave(mgsm_prompts(pruner, args.mgsm_languages, args.mgsm_questions, args.prompt_cap),
                         xquad_prompts(target, args.xquad_languages, args.xquad_passages))
    index, count = (int(x) for x in args.shard.split("/"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    c0, w0 = time.process_time(), time.monotonic()
    order = list(enumerate(prompts))
    for k, prompt in reversed(order) if args.reverse else order:
        done = {prompt_id(r) for r in read_labels(args.out) if r.get("kl_tokens") == args.kl_tokens}  # other shards'
        if prompt_id(prompt) in done or k % count != index:
            continue
        found = label_prompt(target, pruner, prompt, args.kl_tokens)
        append(args.out, json.dumps(found, ensure_ascii=False) + "\n")  # under a lock: shards share the file
        print(f"[{k + 1}/{len(prompts)}] {prompt_id(prompt)}: {len(found['clauses'])} clauses, "
              f"{found['cpu_s']:.1f} s CPU", flush=True)
    labels = [r for r in read_labels(args.out) if r.get("kl_tokens") == args.kl_tokens]
    clauses = sum(len(r["clauses"]) for r in labels)
    cpu = sum(r["cpu_s"] for r in labels)
    print(f"{len(labels)} prompts, {clauses} clauses in {args.out}; this run {time.process_time() - c0:.0f} s CPU, "
          f"{time.monotonic() - w0:.0f} s wall; all labels {cpu:.0f} s CPU "
          f"({1000 * cpu / max(clauses, 1):.0f} ms CPU per clause, 1 torch thread)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
