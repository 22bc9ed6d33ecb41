"""Quality bench v2: `python -m bench.quality --quick` writes bench/results/QUALITY.md and quality.png.

What a user gets, measured: every arm produces TEXT (lite through `Pruner.prune`, baselines through
the same `Pruner.prune` with their own scores, the peer LLMLingua its own output) at equal achieved
budgets; a target model tokenizes it and answers; KL, flips, agreement, answer retention; paired
statistics with language-clustered bootstrap CIs on a held-out split. See docs/quality.md.

    data.py      MGSM few-shot prompts and XQuAD passages, dev/test splits, resource bins
    arms.py      the arms: `(ctx) -> pruned text`; the registry (`register`); the built-in baselines
    selfinfo.py  the ceiling arm: the target's own self-information (Selective Context)
    peer.py      the peer arm: LLMLingua / LongLLMLingua in its own venv (tools/llmlingua_env.py)
    target.py    the target model: prefix caches, teacher-forced log-probs at answer positions, KL
    run.py       the loop: regimes, equal budgets (the peer first), records appended per job, resume
    cache.py     reference answers and peer outputs cached on disk
    stats.py     log-KL ratios, bootstrap clustered by language, sign test
    report.py    QUALITY.md tables and the plot
"""
