"""A digest of what `prune`, `prune_messages` and `compress_prompt` give on the dev split, case by case.

    python -m tools.prune_digest --write tests/data/prune_digest.json   # record (after a deliberate change)
    python -m tools.prune_digest --check tests/data/prune_digest.json   # compare: prints the cases that differ

The cases run through the public API only, over the dev split of MGSM (the 8 exemplars and the first
dev questions of every language) and XQuAD (dev paragraphs, their first question, and their articles
as five passages), with the real SmolLM2-135M slice (tools/fixtures.py) and its tokenizer, across
rates, granularities, methods, forced keeps, segments, questions, budgets in the pruner's tokens and
in a target's (tiktoken's cl100k_base, SmolLM2's own tokenizer.json, Gemma-3's), chat messages and
LLMLingua's call. Each case's digest covers the output text and every count and kept position, so a
refactor that must not change behaviour is checked byte for byte; tests/test_prune_digest.py runs it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tools import mgsm, xquad

RATES = (0.9, 0.7, 0.5)
MGSM_QUESTIONS = 2  # dev questions per language (the exemplars are the bulk of the text)
XQUAD_PARAGRAPHS = range(0, 60, 6)  # dev paragraphs, every sixth (ten a language)
XQUAD_ARTICLES = range(0, 60, 20)  # dev articles' first paragraphs (three a language)


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def of_result(result) -> dict:
    """Everything a PruneResult tells a user: text, counts (both tokenizers), kept positions, segments' texts."""
    return {"text": result.text, "kept": list(result.kept), "origin": result.origin_tokens,
            "compressed": result.compressed_tokens, "target": [result.target_origin_tokens,
                                                               result.target_compressed_tokens],
            "segments": [s.text for s in result.segments]}


def of_messages(result) -> dict:
    return {"messages": result.messages, "counts": result.to_dict()}


Case = tuple[str, Callable[[], Any]]


def text_cases(pruner, name: str, text: str, targets: dict[str, Any]) -> Iterator[Case]:
    """One text through prune's single-string options."""
    for rate in RATES:
        for granularity in ("clause", "word", "char"):
            yield (f"{name}/{granularity}/{rate}",
                   lambda r=rate, g=granularity: of_result(pruner.prune(text, rate=r, granularity=g)))
        yield (f"{name}/attention/word/{rate}",
               lambda r=rate: of_result(pruner.prune(text, rate=r, method="attention", granularity="word")))
    yield (f"{name}/forced/0.6", lambda: of_result(pruner.prune(
        text, rate=0.6, force=["\n", "?", ":"], force_digits=True, keep_last=3, drop_consecutive=True)))
    n = pruner.count_tokens(text)
    yield f"{name}/target/{n // 3}", lambda: of_result(pruner.prune(text, target_tokens=max(1, n // 3)))
    for tname, target in targets.items():
        for granularity in ("clause", "word"):
            yield (f"{name}/{tname}/{granularity}/{n // 2}", lambda t=target, g=granularity: of_result(
                pruner.prune(text, target_tokens=max(1, n // 2), target_tokenizer=t, granularity=g)))
        yield (f"{name}/{tname}/rate0.7", lambda t=target: of_result(
            pruner.prune(text, rate=0.7, target_tokenizer=t)))


def mgsm_cases(pruner, lang: str, targets: dict[str, Any]) -> Iterator[Case]:
    from lite import Segment

    shots = mgsm.exemplars(lang)
    questions = [q for q, _ in mgsm.questions(lang)[:MGSM_QUESTIONS]]
    for k, shot in enumerate(shots):
        yield from text_cases(pruner, f"mgsm/{lang}/shot{k}", shot, targets)
    for k, question in enumerate(questions):
        parts = [*shots[:4], Segment(question, keep=True)]
        yield (f"mgsm/{lang}/segments{k}/0.7",
               lambda p=parts: of_result(pruner.prune(p, rate=0.7, separator="\n\n", force_digits=True)))
        yield (f"mgsm/{lang}/segments{k}/target", lambda p=parts: of_result(pruner.prune(
            p, target_tokens=200, separator="\n\n")))
        yield (f"mgsm/{lang}/compress{k}/0.5", lambda q=question: pruner.compress_prompt(
            shots[:4], instruction="Solve step by step.", question=q, rate=0.5, rank_by_question=False))
        yield (f"mgsm/{lang}/compress{k}/target", lambda q=question: pruner.compress_prompt(
            shots[:4], question=q, target_token=250, rank_by_question=False))
        for tname, target in targets.items():
            yield (f"mgsm/{lang}/compress{k}/{tname}", lambda q=question, t=target: pruner.compress_prompt(
                shots[:4], question=q, target_token=250, rank_by_question=False, target_tokenizer=t))
        chat = [{"role": "system", "content": "You solve grade-school maths."}]
        for shot in shots[:3]:
            ask, answer = shot.split("\n", 1)
            chat += [{"role": "user", "content": ask}, {"role": "assistant", "content": answer}]
        chat.append({"role": "user", "content": question})
        yield f"mgsm/{lang}/chat{k}/0.7", lambda c=chat: of_messages(pruner.prune_messages(c, rate=0.7))
        yield f"mgsm/{lang}/chat{k}/target", lambda c=chat: of_messages(pruner.prune_messages(c, target_tokens=300))
        yield (f"mgsm/{lang}/chat{k}/question", lambda c=chat: of_messages(
            pruner.prune_messages(c, rate=0.5, rank_by_question=True)))
        for tname, target in targets.items():
            yield (f"mgsm/{lang}/chat{k}/{tname}", lambda c=chat, t=target: of_messages(
                pruner.prune_messages(c, target_tokens=300, target_tokenizer=t)))


def xquad_cases(pruner, lang: str, targets: dict[str, Any]) -> Iterator[Case]:
    paragraphs = xquad.paragraphs(lang)
    for p in XQUAD_PARAGRAPHS:
        context, question = paragraphs[p]["context"], paragraphs[p]["qas"][0]["question"]
        yield from text_cases(pruner, f"xquad/{lang}/p{p}", context, {})
        for rate in (0.7, 0.5):
            yield (f"xquad/{lang}/p{p}/question/{rate}",
                   lambda c=context, q=question, r=rate: of_result(pruner.prune(c, rate=r, question=q)))
        yield (f"xquad/{lang}/p{p}/compress", lambda c=context, q=question: pruner.compress_prompt(
            [c], question=q, rate=0.5))
        for tname, target in targets.items():
            yield (f"xquad/{lang}/p{p}/question/{tname}", lambda c=context, q=question, t=target: of_result(
                pruner.prune(c, target_tokens=60, question=q, target_tokenizer=t)))
    for a in XQUAD_ARTICLES:
        passages, question = xquad.article(lang, a), paragraphs[a]["qas"][0]["question"]
        for rate in (0.3, 0.1):
            yield (f"xquad/{lang}/article{a}/question/{rate}", lambda ps=passages, q=question, r=rate: of_result(
                pruner.prune(ps, rate=r, question=q, separator="\n\n")))
        yield (f"xquad/{lang}/article{a}/compress", lambda ps=passages, q=question: pruner.compress_prompt(
            ps, question=q, rate=0.2))
        yield (f"xquad/{lang}/article{a}/segments", lambda ps=passages: of_result(
            pruner.prune(ps, target_tokens=150, separator="\n\n")))
        chat = [{"role": "tool", "content": p} for p in passages] + [{"role": "user", "content": question}]
        yield (f"xquad/{lang}/article{a}/chat", lambda c=chat: of_messages(
            pruner.prune_messages(c, rate=0.2, rank_by_question=True)))


def all_cases(pruner, targets: dict[str, Any]) -> Iterator[Case]:
    for lang in mgsm.LANGUAGES:
        yield from mgsm_cases(pruner, lang, targets)
    for lang in xquad.LANGUAGES:
        yield from xquad_cases(pruner, lang, targets)


def run(pruner, targets: dict[str, Any], every: int = 1) -> dict[str, str]:
    """case name -> digest of what the call returned (or of the error it raised), for every `every`-th case."""
    found: dict[str, str] = {}
    for k, (name, call) in enumerate(all_cases(pruner, targets)):
        if k % every:
            continue
        try:
            value = call()
        except Exception as err:  # a case that raises is recorded as its error: behaviour too
            value = {"error": type(err).__name__, "message": str(err)}
        assert name not in found, name
        found[name] = digest(value)
    return found


def default_setup():
    """The SmolLM2 pruner (its scores remembered per text) and the targets the cases count in."""
    from lite import load
    from lite.slice import make_slice
    from lite.store.sources import LocalFolder
    from tools import fixtures

    folder = fixtures.smollm2_folder()
    slice_file = fixtures.cache_dir() / "slices" / "smollm2-135m-instruct.safetensors"
    if not slice_file.is_file():
        slice_file.parent.mkdir(exist_ok=True)
        make_slice(LocalFolder(folder), slice_file)
    pruner = load(slice_file)
    targets = {"cl100k": "cl100k_base", "smollm2": str(folder / "tokenizer.json"),
               "gemma3": str(fixtures.gemma3_270m_folder() / "tokenizer.json")}
    return pruner, targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", type=Path, metavar="JSON")
    action.add_argument("--check", type=Path, metavar="JSON")
    parser.add_argument("--every", type=int, default=1, metavar="K", help="run every K-th case only (a quick check)")
    args = parser.parse_args(argv)
    found = run(*default_setup(), every=args.every)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(json.dumps(found, indent=0, sort_keys=True) + "\n", encoding="utf-8")
        print(f"{len(found)} cases written to {args.write}")
        return 0
    recorded = json.loads(args.check.read_text(encoding="utf-8"))
    if args.every > 1:
        recorded = {k: v for k, v in recorded.items() if k in found}
    differing = sorted(k for k in set(found) | set(recorded) if found.get(k) != recorded.get(k))
    for name in differing:
        print(name)
    print(f"{len(differing)} of {len(recorded)} cases differ", file=sys.stderr)
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
