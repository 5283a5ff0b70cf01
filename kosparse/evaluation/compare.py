"""Variants vs each other and vs BM25 on the same real held-out queries: tables, paired intervals, verdicts.

The core stage `compare` (v1, v2, v2_expanded) and the opt-in `experiments` stage (kosparse.evaluation.experiments)
both build their tables here.
"""

from __future__ import annotations

import math

import numpy as np

METRICS = ("ndcg@10", "mrr@10", "recall@10", "recall@100")
# (candidate, baseline) pairs whose nDCG@10 difference compare reports with a paired interval
VARIANTS = ("v1", "v2", "v1_distill", "v1_adapt", "v2_adapt")
# What each variant is measured against: the same without the LLM's pairs, the teacher, the target's real queries,
# or the index-time expansion.
PAIRED = {"v2": "v1", "v1_distill": "v1", "v2_adapt": "v1_adapt", "v1_adapt": "v1", "v2_expanded": "v2"}
# The name suffix of a variant fused with Kiwi BM25 (the OpenSearch hybrid query) in its evaluation.
HYBRID_SUFFIX = "+bm25_kiwi"
DELTAS = (*PAIRED.items(), *((v, b) for v in VARIANTS for b in ("bm25_tokens", "bm25_kiwi")),
          *((f"{v}{HYBRID_SUFFIX}", "bm25_kiwi") for v in VARIANTS))  # fmt: skip


def paired_interval(
    baseline: dict[str, float], candidate: dict[str, float], resamples: int = 10_000, seed: int = 0
) -> dict:
    """Mean per-query difference candidate − baseline with a 95% paired-bootstrap interval.

    Queries are resampled with replacement (both runs keep each drawn query), so
    the interval reflects how much the mean difference depends on which queries
    happened to be in the test set. Seeded: the same runs give the same interval.
    """
    ids = sorted(baseline.keys() & candidate.keys())
    if not ids:
        raise ValueError("the two runs share no query")
    diff = np.array([candidate[q] - baseline[q] for q in ids])
    rng = np.random.default_rng(seed)
    means = np.concatenate(
        [diff[rng.integers(0, len(diff), size=(1000, len(diff)))].mean(axis=1) for _ in range(resamples // 1000)]
    )
    low, high = np.percentile(means, [2.5, 97.5])
    # Rounded outward: a bound that rounds to 0 must not flip the verdict its printed value shows ([-1.7, -0.0]).
    return {"delta": round(float(diff.mean()), 4), "low": math.floor(low * 1e4) / 1e4,
            "high": math.ceil(high * 1e4) / 1e4, "queries": len(ids)}  # fmt: skip


def intervals(per_query: dict[str, dict], split: str = "test") -> dict:
    """{dataset: {"<candidate>-<baseline>": paired_interval}} for every DELTAS pair both runs have."""
    out: dict = {}
    datasets = sorted({d for runs in per_query.values() for d in runs})
    for dataset in datasets:
        for candidate, baseline in DELTAS:
            a = per_query.get(baseline, {}).get(dataset, {}).get(split)
            b = per_query.get(candidate, {}).get(dataset, {}).get(split)
            if a and b:
                out.setdefault(dataset, {})[f"{candidate}-{baseline}"] = paired_interval(a, b)
    return out


def interval_word(interval: dict) -> str:
    """'gain' / 'loss' only when the 95% interval excludes 0."""
    return "gain" if interval["low"] > 0 else "loss" if interval["high"] < 0 else "no significant difference"


def interval_points(interval: dict) -> str:
    """'+0.7 [+0.3, +1.0]': the mean difference and its 95% interval in nDCG@10 points."""
    return f"{interval['delta'] * 100:+.1f} [{interval['low'] * 100:+.1f}, {interval['high'] * 100:+.1f}]"


def intervals_markdown(table: dict) -> str:
    """Paired differences in nDCG@10 points with their 95% intervals, one row per comparison."""
    datasets = list(table)
    names = sorted({n for rows in table.values() for n in rows}, key=lambda n: [f"{c}-{b}" for c, b in DELTAS].index(n))
    lines = ["### Paired differences, test nDCG@10 (points, 95% bootstrap interval over queries)", "",
             "| candidate − baseline | " + " | ".join(datasets) + " |", "|---" * (len(datasets) + 1) + "|"]  # fmt: skip
    for name in names:
        cells = []
        for d in datasets:
            i = table[d].get(name)
            cells.append(f"{interval_points(i)} {interval_word(i)}" if i else "—")
        lines.append(f"| {name.replace('-', ' − ', 1)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def variant_name(evaluation: dict) -> str | None:
    """The variant an evaluate@<v> metrics file is about: its one key that is neither a summary nor a hybrid."""
    summaries = ("sparsity", "korean_quality", "hybrid")
    return next((k for k in evaluation if k not in summaries and not k.endswith(HYBRID_SUFFIX)), None)


def hybrid_runs(models: dict[str, dict]) -> dict[str, dict]:
    """The `<variant>{HYBRID_SUFFIX}` results each variant's evaluation carries beside its own."""
    return {name: result for m in models.values() for name, result in m.items() if name.endswith(HYBRID_SUFFIX)}


def comparison(bm25: dict, models: dict[str, dict], split: str = "test") -> dict:
    """{dataset: {metric: {retriever: value, "<variant>-<baseline>": delta}}} over the datasets all retrievers have."""
    retrievers = {**bm25, **{name: m[name] for name, m in models.items()}}
    datasets = sorted(set.intersection(*(set(r) for r in retrievers.values())))
    table: dict = {}
    for dataset in datasets:
        for metric in METRICS:
            row = {name: r[dataset][split][metric] for name, r in retrievers.items()}
            for variant, baseline in PAIRED.items():
                if {baseline, variant} <= row.keys():
                    row[f"{variant}-{baseline}"] = round(row[variant] - row[baseline], 4)
            if "bm25_tokens" in row:  # the lexical floor: BM25 over the encoder's own tokens
                for variant in models:
                    row[f"{variant}-floor"] = round(row[variant] - row["bm25_tokens"], 4)
            table.setdefault(dataset, {})[metric] = row
    return table


def verdict(table: dict, threshold: float = 0.02, deltas: dict | None = None) -> str:
    """One sentence: did synthetic data help v2? A gain or loss is claimed only where the interval excludes 0."""
    rows = {d: (deltas or {}).get(d, {}).get("v2-v1") for d in table}
    if any(v is None for v in rows.values()):
        return "v2 has not been evaluated on every test set yet."
    text = ", ".join(f"{d} {interval_points(i)}" for d, i in rows.items())
    if all(i["low"] > 0 and i["delta"] >= threshold for i in rows.values()):
        return (
            f"Synthetic data helped: v2 beats v1 by ≥ {threshold * 100:.0f} nDCG@10 points on every test set ({text})."
        )
    if all(i["high"] < 0 for i in rows.values()):
        return f"Synthetic data hurt: v2 is below v1 on every test set ({text} nDCG@10 points, 95% intervals)."
    return f"No clear effect of synthetic data at this size: v2 − v1 = {text} nDCG@10 points (95% intervals)."


def is_delta(column: str) -> bool:
    return column.endswith(("-floor", *(f"-{baseline}" for baseline in set(PAIRED.values()))))


def floor_sentence(deltas: dict, variants: list[str]) -> str:
    """One sentence: is any variant below (or above) BM25 over its own tokens? Only the paired intervals decide."""
    rows = [(v, d, i) for v in variants for d, by in deltas.items() if (i := by.get(f"{v}-bm25_tokens"))]
    if not rows:
        return "BM25 over the encoder's tokens has not been evaluated yet."
    below = [f"{v} on {d}" for v, d, i in rows if i["high"] < 0]
    above = [f"{v} on {d}" for v, d, i in rows if i["low"] > 0]
    return (
        "Against the lexical floor (BM25 over the encoder's tokens; paired 95% intervals of test nDCG@10): "
        f"significantly below it: {', '.join(below) or 'none'}; significantly above it: {', '.join(above) or 'none'}; "
        f"no significant difference: {len(rows) - len(below) - len(above)} of {len(rows)} (variant, test set) pairs."
    )


def sparsity_markdown(models: dict[str, dict]) -> str:
    """Mean active tokens per document and query for each variant: the index size OpenSearch users ask about."""
    lines = ["### Vector sizes", "", "| variant | document active tokens (mean) | query active tokens (mean) |",
             "|---|---|---|"]  # fmt: skip
    for name, result in models.items():
        s = result.get("sparsity", {})
        lines.append(f"| {name} | {s.get('doc_active_dims_mean', float('nan')):.1f} | "
                     f"{s.get('query_active_dims_mean', float('nan')):.1f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def markdown_table(table: dict, order: list[str]) -> str:
    """One table per test set: a row per run (or difference of two runs), a column per metric."""
    lines = []
    for dataset, by_metric in table.items():
        metrics = list(by_metric)
        lines += [f"### {dataset} (test)", "", "| run | " + " | ".join(metrics) + " |"]
        lines.append("|---" * (len(metrics) + 1) + "|")
        for run in (r for r in order if r in by_metric["ndcg@10"]):
            cells = [f"{by_metric[m][run]:+.4f}" if is_delta(run) else f"{by_metric[m][run]:.4f}" for m in metrics]
            lines.append(f"| {run} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def differing_queries(
    queries: list[dict], ranked_v1: list[list[str]], ranked_v2: list[list[str]], limit: int
) -> list[dict]:
    """Queries whose first hit changed between v1 and v2, the ones where v2 fixed or broke the answer first."""
    out = []
    for query, top1, top2 in zip(queries, ranked_v1, ranked_v2, strict=True):
        if top1[:1] == top2[:1]:
            continue
        positives = set(query["positive_ids"])
        hit1, hit2 = bool(top1 and top1[0] in positives), bool(top2 and top2[0] in positives)
        out.append({"query": query["query"], "positives": sorted(positives), "v1": top1[:3], "v2": top2[:3],
                    "v1_correct": hit1, "v2_correct": hit2})  # fmt: skip
    # As many v2 losses as wins (when there are), so the sample does not argue for either model.
    wins = sorted((r for r in out if r["v2_correct"] and not r["v1_correct"]), key=lambda r: r["query"])
    losses = sorted((r for r in out if r["v1_correct"] and not r["v2_correct"]), key=lambda r: r["query"])
    rest = sorted((r for r in out if r["v1_correct"] == r["v2_correct"]), key=lambda r: r["query"])
    half = limit // 2
    shown = wins[: max(half, limit - len(losses))] + losses[: max(half, limit - len(wins))]
    return (shown + rest)[:limit]


def codeswitch_table(codeswitch: dict, metric: str = "ndcg@10") -> dict:
    """{dataset: {run: metric}} on the code-switched queries, for every run 08b evaluated."""
    runs = {
        name: r
        for name, r in codeswitch.items()
        if isinstance(r, dict) and all(isinstance(v, dict) and "codeswitch" in v for v in r.values())
    }
    datasets = sorted(set.intersection(*(set(r) for r in runs.values()))) if runs else []
    return {d: {name: runs[name][d]["codeswitch"][metric] for name in sorted(runs)} for d in datasets}


def codeswitch_markdown(table: dict) -> str:
    """The code-switched nDCG@10 table of compare.md: one row per run, one column per test set."""
    runs = next(iter(table.values()), {})
    lines = [
        "### Code-switched test queries (nDCG@10)",
        "",
        "One Korean term of a test query swapped for its gold English translation (or the reverse); "
        "`+base` / `+enhanced`: documents expanded with that dictionary's counterparts; "
        "`v1_trained`: no dictionary at all (corpus IDF).",
        "",
        "| run | " + " | ".join(table) + " |",
        "|---" * (len(table) + 1) + "|",
        *(f"| {run} | " + " | ".join(f"{table[d][run]:.4f}" for d in table) + " |" for run in runs),
    ]
    return "\n".join(lines) + "\n"


def retrieval_rows(table: dict, order: list[str]) -> list[dict]:
    """One row per (test set, retriever) with its nDCG@10 / MRR@10 / R@100: the bars of `dvc plots`."""
    return [
        {"run": f"{dataset} · {name}", **{m: rows[m][name] for m in ("ndcg@10", "mrr@10", "recall@100")}}
        for dataset, rows in table.items()
        for name in order
        if name in rows["ndcg@10"] and not is_delta(name)
    ]


def acceptance_rows(synthesize: dict) -> list[dict]:
    """Per generator: accepted and each rejection rule's count (rules that never fired are left out)."""
    rows = []
    for generator, g in sorted(synthesize["generators"].items()):
        rows.append({"outcome": f"{generator} · accepted", "count": g["accepted"]})
        rows += [{"outcome": f"{generator} · {rule}", "count": n} for rule, n in sorted(g["rejected"].items()) if n]
    return rows


def column_order(models: list[str], hybrids: list[str]) -> list[str]:
    """compare.md's and the plots' column order: baselines, each variant next to its paired delta, then the rest."""
    order = ["bm25_whitespace", "bm25_kiwi", "bm25_tokens"]
    for variant in models:
        order += [variant] + ([f"{variant}-{PAIRED[variant]}"] if variant in PAIRED else [])
    return order + [f"{v}-floor" for v in models] + hybrids


def compare_markdown(
    summary: dict, models: dict[str, dict], synthesize: dict, order: list[str], samples: list[dict], text: dict
) -> str:
    """reports/compare.md: the verdicts, every table and interval, and sample queries whose first hit changed."""
    mix = summary["synthetic"]
    dataset = next(iter(summary["first_hit_changed"]))
    lines = [
        "# v1 vs v2 vs BM25 (real held-out queries)",
        "",
        f"**Verdict:** {summary['verdict']}",
        "",
        f"**Lexical floor:** {summary['floor']} `bm25_tokens` is BM25 over the encoder tokenizer's own tokens "
        "(particles, endings and punctuation not weighed): an anchored model equals it before training.",
        "",
        f"v2 = v1's real pairs + {mix['synthetic_used']} synthetic pairs (ratio {mix['synthetic_ratio']}, "
        f"by kind {mix['synthetic_by_kind']}) from `{synthesize['model']}`.",
        "",
        markdown_table(summary["test"], order),
        intervals_markdown(summary["intervals"]),
        sparsity_markdown(models),
        codeswitch_markdown(summary["codeswitch_ndcg@10"]),
        "Dictionaries: "
        + ", ".join(f"{n} {d['pairs']} pairs ({d['precision']:.1%} precise on gold)"
                    for n, d in summary["dictionaries"].items())
        + ".",
        "",
        f"## Queries where the first hit changed ({dataset} test, {len(samples)} shown)",
        "",
    ]  # fmt: skip
    for s in samples:
        mark = lambda ok: "✓" if ok else "✗"  # noqa: E731
        lines += [f"- **{s['query']}** — v1 {mark(s['v1_correct'])}, v2 {mark(s['v2_correct'])}"]
        for name in ("v1", "v2"):
            top = s[name][0] if s[name] else None
            lines.append(f"  - {name} top: `{top}` {text.get(top, '')[:90]}…")
    return "\n".join(lines) + "\n"
