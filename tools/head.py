"""`python -m tools.head`: a learned clause scorer on layer-0 features (issue 26), fitted and judged on the dev split.

Reads the leave-one-out labels of tools/labels.py. Per clause of each prompt's segments (an exemplar,
a passage: what the bench prunes one by one), features the pruner has or computes cheaply on the
segment alone (no question):

- per token, ranked within the segment (0: least, 1: most; as lite ranks tokens) and pooled over the
  clause by mean and max: attention received (method="attention", the paper's score), the default
  score (rank_mix), in-text rarity log(n / count), the norms of the embedding row, of the normed
  state (RMSNorm, the layer's input) and of the attention output before o_proj (sum_j p[h, i, j] v_j,
  all heads), and the value norm;
- per clause: its position (first token / segment tokens), log of its tokens, its share of the
  segment, whether it opens the segment, whether it ends a sentence (else a comma, colon, ... cut),
  the share of its characters that are digits.

Label: the clause's LOO-KL is above the median of its prompt's clauses (a second head, `head_density`:
its LOO-KL per token, what a token budget buys). A logistic model (numpy,
Newton steps, L2), features standardized on the training folds. Languages are held out: the
languages are dealt into FOLDS folds, and each fold's prompts are scored by the model fitted on the
others, so every prompt is scored by a model that never saw its language.

Judged on the held-out prompts against in-text rarity alone (the clause mean of token rarity ranks,
as `method="rarity"` goes through lite's clauses), the default (rank_mix), the paper's attention and
random clauses: the Spearman correlation of each ranking with the LOO-KL per prompt, and (--kl) the
target's KL after pruning each segment at 0.8 and 0.7 through lite's clause selection with each
ranking (the quality bench's arms and target code). Paired d per prompt, bootstrap CI over
languages then prompts (bench/quality/stats.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from lite.prune.clauses import token_ranks
from tools.labels import DEFAULT_OUT, read_labels

FOLDS = 4
TOKEN_FEATURES = ("attention", "rank_mix", "rarity", "embed_norm", "normed_norm", "attn_out_norm", "value_norm")
CLAUSE_FEATURES = ("position", "log_tokens", "share", "opens", "ends_sentence", "digits")
RANKERS = ("head", "rarity", "rank_mix", "attention", "random")
RATES = (0.8, 0.7)
L2 = 1.0


# ---- token features ---------------------------------------------------------------------------------------
def softmax_rows(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)  # [r, n]
    e = np.exp(x)  # [r, n]
    return e / e.sum(axis=-1, keepdims=True)  # [r, n]


def state_norms(scorer, ids: np.ndarray) -> dict[str, np.ndarray]:
    """Norms of the embedding rows, the normed states, the attention output (before o_proj) and the values: [n] each."""
    from lite.score import forward

    spec, weights = scorer.spec, scorer.weights
    distinct, inverse = np.unique(ids, return_inverse=True)  # [u], [n]
    rows = scorer.slice.float32_rows(spec.embed_name, distinct)  # [u, dim]
    normed = forward.normed_states(rows, weights, spec)  # [u, dim]
    queries, keys_t = forward.rotated_states(rows.copy(), inverse, weights, spec, 1)  # [KV, n, rep, D], [KV, D, n]
    n, d = len(ids), spec.head_dim
    out_sq = np.zeros(n)  # [n]
    value_sq = np.zeros(n)  # [n]
    for g in range(spec.n_kv_heads):
        v = forward.project(normed, weights.w_v[g * d:(g + 1) * d], None)[inverse]  # [n, D]
        p = softmax_rows(queries[g].reshape(n * spec.n_rep, d) @ keys_t[g])  # [n * rep, n]
        out = (p @ v).reshape(n, spec.n_rep, d)  # [n, rep, D]
        out_sq += np.square(out).sum(axis=(1, 2))
        value_sq += np.square(v).sum(axis=1)
    return {"embed_norm": np.linalg.norm(rows, axis=1)[inverse], "normed_norm": np.linalg.norm(normed, axis=1)[inverse],
            "attn_out_norm": np.sqrt(out_sq), "value_norm": np.sqrt(value_sq)}


def token_features(pruner, ids: np.ndarray) -> dict[str, np.ndarray]:
    """Every token feature of the segment's ids, each ranked within the segment in [0, 1]: [n] each."""
    from bench.quality.arms import rarity_scores

    raw = {"attention": pruner.importance(ids, method="attention"), "rank_mix": pruner.importance(ids),
           "rarity": rarity_scores(ids), **state_norms(pruner.scorer, ids)}
    return {name: token_ranks(raw[name]) for name in TOKEN_FEATURES}


def token_clauses(text: str, offsets, clauses: list[dict]) -> np.ndarray:
    """Each token's clause (by where its text begins past leading spaces): int64 [n]."""
    starts = np.asarray([c["start"] for c in clauses], dtype=np.int64)  # [c]
    anchors = []
    for a, b in offsets:
        piece = text[a:b]
        anchors.append(a + len(piece) - len(piece.lstrip()) if piece.strip() else a)
    return np.clip(np.searchsorted(starts, np.asarray(anchors), side="right") - 1, 0, len(clauses) - 1)  # [n]


# ---- the clause table -----------------------------------------------------------------------------------------
def segment_rows(pruner, text: str, clauses: list[dict],
                 question: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(clause features [c, f], each token's clause [n], the segment's ids [n]) for one segment; with a question,
    the token features are those of the segment's tokens in the segment, a blank line and the question, scored
    as one text (the question's tokens attend to the passage's)."""
    from lite.prune.sentences import split_spans

    enc = pruner.tokenizer.encode(text if question is None else text + "\n\n" + question)
    inside = np.asarray([a < len(text) for a, _ in enc.offsets])  # [m]: the segment's tokens
    ids = np.asarray(enc.ids, dtype=np.int64)  # [m]
    feats = {name: token_ranks(v[inside]) for name, v in token_features(pruner, ids).items()}  # [n] each
    ids = ids[inside]  # [n]
    member = token_clauses(text, [o for o, keep in zip(enc.offsets, inside) if keep], clauses)  # [n]
    sentence_ends = {b for _, b in split_spans(text)}
    n, rows = len(ids), []
    for c, clause in enumerate(clauses):
        mine = np.flatnonzero(member == c)  # [k]
        piece = text[clause["start"]:clause["end"]]
        pooled = [f(feats[name][mine]) if len(mine) else 0.0 for name in TOKEN_FEATURES for f in (np.mean, np.max)]
        first = mine[0] if len(mine) else n
        rows.append(pooled + [first / max(n, 1), np.log1p(len(mine)), len(mine) / max(n, 1), float(c == 0),
                              float(clause["end"] in sentence_ends),
                              sum(ch.isdigit() for ch in piece) / max(len(piece.strip()), 1)])
    return np.asarray(rows, dtype=np.float64), member, ids  # [c, f], [n], [n]


FEATURE_NAMES = [f"{name}_{pool}" for name in TOKEN_FEATURES for pool in ("mean", "max")] + list(CLAUSE_FEATURES)


def clause_table(pruner, labels: list[dict], with_question: bool = False) -> dict:
    """Every clause of every prompt: features [N, F], LOO-KL [N], prompt index [N]; and per prompt its language.
    with_question: XQuAD passages scored with their question after them (the MGSM prompts have none)."""
    feats, kls, tokens, prompt_of = [], [], [], []
    for k, record in enumerate(labels):
        for s, text in enumerate(record["segments"]):
            clauses = [c for c in record["clauses"] if c["segment"] == s]
            rows, _, _ = segment_rows(pruner, text, clauses, record["question"] if with_question else None)
            feats.append(rows)
            kls += [c["kl"] for c in clauses]
            tokens += [c["tokens"] for c in clauses]
            prompt_of += [k] * len(clauses)
    return {"x": np.vstack(feats), "kl": np.asarray(kls), "tokens": np.asarray(tokens), "prompt": np.asarray(prompt_of),
            "lang": [r["lang"] for r in labels], "kind": [r["kind"] for r in labels]}


def top_half(kl: np.ndarray, prompt: np.ndarray) -> np.ndarray:
    """1 where a clause's KL is above its prompt's median: [N]."""
    y = np.zeros(len(kl))
    for p in np.unique(prompt):
        mine = prompt == p
        y[mine] = kl[mine] > np.median(kl[mine])
    return y


# ---- the model -----------------------------------------------------------------------------------------------
def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = 50) -> np.ndarray:
    """Weights [F + 1] (the last the bias) of a logistic model with an L2 penalty (not on the bias), by Newton."""
    z = np.hstack([x, np.ones((len(x), 1))])  # [N, F + 1]
    w = np.zeros(z.shape[1])  # [F + 1]
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))  # [N]
        grad = z.T @ (p - y) + penalty * w  # [F + 1]
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(len(w))  # [F + 1, F + 1]
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def held_out_scores(table: dict, columns: list[int], folds: int = FOLDS, label: str = "kl") -> tuple[np.ndarray, dict]:
    """Each clause's score by the model fitted on the other languages' folds: [N]; and each fold's weights.
    label "kl": the clause's LOO-KL in the top half of its prompt's; "density": its LOO-KL per token (what a
    budget buys)."""
    langs = sorted(set(table["lang"]))
    fold_of = {lang: i % folds for i, lang in enumerate(langs)}
    clause_fold = np.asarray([fold_of[table["lang"][p]] for p in table["prompt"]])  # [N]
    y = top_half(table["kl"] if label == "kl" else table["kl"] / np.maximum(table["tokens"], 1), table["prompt"])  # [N]
    x = table["x"][:, columns]  # [N, f]
    scores, weights = np.zeros(len(y)), {}
    for f in range(folds):
        train, test = clause_fold != f, clause_fold == f
        mean, std = x[train].mean(axis=0), x[train].std(axis=0) + 1e-9  # [f]
        w = fit_logistic((x[train] - mean) / std, y[train])
        scores[test] = ((x[test] - mean) / std) @ w[:-1] + w[-1]
        weights[f] = {"held_out": [lang for lang in langs if fold_of[lang] == f], "w": w.round(3).tolist()}
    return scores, weights


# ---- judging ------------------------------------------------------------------------------------------------
def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from lite.score.methods import mean_ranks

    if len(a) < 3:
        return float("nan")
    ra, rb = mean_ranks(np.asarray(a, float)), mean_ranks(np.asarray(b, float))  # [c], [c]
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def ranker_scores(table: dict, head: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Each ranker's clause scores [N]: the head; the clause means of the token ranks; random."""
    col = {name: i for i, name in enumerate(FEATURE_NAMES)}
    x = table["x"]
    rng = np.random.default_rng(seed)
    return {"head": head, "rarity": x[:, col["rarity_mean"]], "rank_mix": x[:, col["rank_mix_mean"]],
            "attention": x[:, col["attention_mean"]], "random": rng.random(len(head))}


def per_prompt_spearman(table: dict, scores: dict[str, np.ndarray], seeds: int = 20) -> dict[str, np.ndarray]:
    """Per prompt, each ranking's Spearman with the LOO-KL [prompts]; random's is the mean over `seeds` draws."""
    prompts = np.unique(table["prompt"])

    def rho(s: np.ndarray) -> np.ndarray:
        return np.asarray([spearman(s[table["prompt"] == p], table["kl"][table["prompt"] == p]) for p in prompts])

    found = {name: rho(s) for name, s in scores.items() if name != "random"}
    found["random"] = np.mean([rho(np.random.default_rng(seed).random(len(table["kl"]))) for seed in range(seeds)],
                              axis=0)
    return found


def interval(values: np.ndarray, langs: list[str]) -> str:
    from bench.quality.stats import cluster_bootstrap

    keep = ~np.isnan(values)
    return cluster_bootstrap(values[keep], np.asarray(langs)[keep]).fmt()


def kl_summary(kl: dict, langs: list[str], kinds: np.ndarray) -> dict:
    """Paired d = log KL(a) - log KL(b) per prompt [95% CI], per rate and kind, for the pairs that matter; printed."""
    from bench.quality.stats import log_ratio

    pairs = [("head", "rarity"), ("head", "random"), ("head", "rank_mix"), ("head_density", "rarity"),
             ("head_density", "random"), ("head_density", "rank_mix"), ("rarity", "random"),
             ("rank_mix", "rarity"), ("oracle", "rarity"), ("oracle", "random")]
    out = {}
    for rate in kl["head"]:
        for kind in ("mgsm", "xquad", None):
            mine = np.ones(len(kinds), bool) if kind is None else kinds == kind
            sub = [lang for lang, m in zip(langs, mine) if m]
            row = {f"{a} vs {b}": interval(log_ratio(np.asarray(kl[a][rate])[mine], np.asarray(kl[b][rate])[mine]), sub)
                   for a, b in pairs}
            row["mean KL"] = {r: round(float(np.mean(np.asarray(v[rate])[mine])), 4) for r, v in kl.items()}
            out[f"{rate}/{kind or 'both'}"] = row
            print(f"KL @{rate} {kind or 'both'} ({int(mine.sum())} prompts): "
                  + "; ".join(f"{k} {v}" for k, v in row.items()))
    return out


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m tools.head", description=__doc__.splitlines()[0])
    p.add_argument("--labels", type=Path, default=DEFAULT_OUT / "labels-v1-smollm2.jsonl")
    p.add_argument("--kl", action="store_true", help="also the target's KL after pruning with each ranking")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT / "head-v1.json")
    return p.parse_args(argv)


def heads_of(table: dict) -> dict[str, np.ndarray]:
    """The heads judged by the KL after pruning: every feature, labelled by LOO-KL and by LOO-KL per token."""
    every = list(range(len(FEATURE_NAMES)))
    return {"head": held_out_scores(table, every)[0], "head_density": held_out_scores(table, every, label="density")[0]}


def judge(name: str, table: dict, names: list[str], kinds_shown=("mgsm", "xquad", None)) -> tuple[dict, np.ndarray]:
    """One feature set: held-out head scores [N], and the per-prompt Spearman of every ranking [95% CI] (printed)."""
    head, weights = held_out_scores(table, [FEATURE_NAMES.index(f) for f in names])
    rho = per_prompt_spearman(table, ranker_scores(table, head))
    langs = [table["lang"][p] for p in np.unique(table["prompt"])]
    kinds = np.asarray([table["kind"][p] for p in np.unique(table["prompt"])])
    found = {"features": names, "weights": weights, "spearman": {}}
    for kind in kinds_shown:
        mine = np.ones(len(kinds), bool) if kind is None else kinds == kind
        sub = [lang for lang, m in zip(langs, mine) if m]
        row = {r: interval(rho[r][mine], sub) for r in RANKERS}
        row.update({f"head - {r}": interval(rho["head"][mine] - rho[r][mine], sub) for r in RANKERS[1:]})
        found["spearman"][kind or "both"] = row
        print(f"[{name}] {kind or 'both'} ({int(mine.sum())} prompts): "
              + "; ".join(f"{k} {v}" for k, v in row.items()))
    return found, head


def main(argv=None) -> int:
    import lite
    from bench.quality.__main__ import pruner_slice
    from tools import fixtures

    args = parse_args(argv)
    labels = read_labels(args.labels)
    pruner = lite.load(pruner_slice(fixtures.smollm2_folder()), threads=1)
    c0 = time.process_time()
    table = clause_table(pruner, labels)
    print(f"{len(labels)} prompts, {len(table['kl'])} clauses; features in {time.process_time() - c0:.0f} s CPU")
    report = {"prompts": len(labels), "clauses": int(len(table["kl"])), "features": FEATURE_NAMES, "variants": {}}
    variants = {"all": FEATURE_NAMES,
                "no attention": [f for f in FEATURE_NAMES if not f.startswith(("attention", "rank_mix"))],
                "no states": [f for f in FEATURE_NAMES if not f.startswith(("embed", "normed", "attn_out", "value"))],
                "no digits": [f for f in FEATURE_NAMES if f != "digits"]}
    for name, names in variants.items():
        report["variants"][name], head = judge(name, table, names)
        if name == "all":
            report["head_scores"] = head.tolist()
    with_question = clause_table(pruner, labels, with_question=True)  # XQuAD: the question after the passage
    report["variants"]["all, XQuAD scored with its question"], _ = judge("with question", with_question, FEATURE_NAMES,
                                                                        ("xquad",))
    if args.kl:
        from tools.head_kl import kl_after_pruning

        langs = [table["lang"][p] for p in np.unique(table["prompt"])]
        kinds = np.asarray([table["kind"][p] for p in np.unique(table["prompt"])])
        report["kl"] = kl_after_pruning(pruner, labels, table, heads_of(table), RATES)
        report["kl_d"] = kl_summary(report["kl"], langs, kinds)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
