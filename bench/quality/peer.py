"""The peer arm `llmlingua`: LLMLingua 0.2.2 (LongLLMLingua with a question) with the same SmolLM2 as its scorer.

It runs in its own venv (tools/llmlingua_env.py) through one worker process per bench run (one
model load); each call reports the worker's CPU seconds, added to the arm's CPU time.
- Few-shot regime (no question): token-level compression of one exemplar at the asked rate
  (`use_context_level_filter=False`: one context, nothing to rank).
- RAG regime (a question): LongLLMLingua, `compress_prompt([passage], question=q,
  rank_method="longllmlingua", condition_in_question="after", condition_compare=True,
  use_context_level_filter=False)`. Its output ends with the question; the question is cut off
  so that only the compressed passage is counted and given to the target.
- Several passages (regime rag5): the passages as LongLLMLingua's list of contexts, its context-level
  filter on (`use_context_level_filter=True`, `dynamic_context_compression_ratio=0.3`, the LongLLMLingua
  paper's setting; passages keep their order): it ranks the passages by the question, then drops tokens.
- `iterative_size` (its compression window, default 200 tokens) is half the segment, at least 32: with
  the default, LLMLingua keeps a segment shorter than its window whole at any rate.
The bench drives the asked rate (run.py `peer_output`, with `drive`) until the output keeps the budget;
where it cannot (within 3% of the segment), the peer is left out of that question and the other arms
keep the nominal budget.
"""

from __future__ import annotations

from .arms import Context, passages, register


def worker(ctx: Context):
    if "llmlingua" not in ctx.services:
        from tools.llmlingua_env import Worker

        ctx.services["llmlingua"] = Worker()
    return ctx.services["llmlingua"]


def iterative_size(ctx: Context) -> int:
    """LLMLingua's window (default 200): half the segment, at least 32. With the default, a segment
    shorter than the window is kept whole at any asked rate (an 80-token exemplar at rate 0.06)."""
    return min(200, max(32, ctx.pruner.count_tokens(ctx.text) // 2))


def llmlingua_arm(ctx: Context) -> str:
    contexts = passages(ctx) if ctx.question else [ctx.text]
    kwargs = dict(rate=ctx.rate, use_context_level_filter=len(contexts) > 1, force_tokens=[],
                  iterative_size=iterative_size(ctx))
    if ctx.question:
        kwargs.update(question=ctx.question, rank_method="longllmlingua", condition_in_question="after",
                      condition_compare=True)
    if len(contexts) > 1:
        kwargs.update(dynamic_context_compression_ratio=0.3)
    answer = worker(ctx).compress(contexts, **kwargs)
    if "error" in answer:
        raise RuntimeError(f"llmlingua failed: {answer['error']}")
    ctx.extra_cpu += answer["cpu_s"]
    text = answer["text"]
    if ctx.question:
        text = text.strip()
        text = text.removesuffix(ctx.question.strip())
        text = text.rstrip("\n")
    return text


register("llmlingua", llmlingua_arm, kind="peer", question_aware=True, expensive=True,
         description="LLMLingua 0.2.2 (LongLLMLingua with a question), SmolLM2 scorer, own venv")
