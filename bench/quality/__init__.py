"""Does pruning keep what matters? `python -m bench.quality [--quick]` writes bench/results/QUALITY.md and a plot.

MGSM 8-shot prompts in 11 languages; each exemplar pruned on its own to the same kept count by
every strategy (lite's scores, random, inverse); the question never pruned. A target causal LM
(transformers, CPU) answers; we measure how far its next-token distributions move (KL over the
first tokens of its greedy answer to the full prompt, teacher-forced), whether its pruned-prompt
answer agrees, and the tokens saved.

    prompts.py     MGSM prompt parts per language, the localized labels, the resource bins
    strategies.py  the strategies: scores per exemplar token -> kept positions at equal counts
    target.py      the target model: prefix caches, teacher-forced log-probs, greedy answers, KL
    evaluate.py    the loop over languages, strategies, rates and questions -> result records
    report.py      tables (per language, per resource bin), QUALITY.md and the plot
"""
