"""Stage 09: a variant's training data — real pairs + synthetic pairs at its synthetic_ratio, with negatives.

params mix.<variant>: synthetic_ratio, and optionally real_sources / synthetic_sources (default: every
collection) and synthetic_kinds (default: all four generators; kosparse/data/mix.py). The
adaptation variants use them: v1_adapt trains on KorQuAD's real pairs only, v2_adapt adds the LLM's
queries for MS MARCO Korean documents, and both are tested on MS MARCO Korean's real queries.

    python -m scripts.09_mix v2 --real data/collect/pairs_train.jsonl \
        --synthetic data/synthetic/pairs.jsonl --negatives data/negatives/train.jsonl \
        --collect-dir data/collect --out-dir data/mix/v2 --metrics metrics/mix_v2.json
"""

import argparse
import logging
from collections import Counter
from pathlib import Path

from kosparse.cli import run
from kosparse.data.analyzers import KiwiAnalyzer
from kosparse.data.mix import from_sources, mix_pairs, synthetic_training_pairs, with_generated_negatives
from kosparse.data.negatives import mine_hard_negatives
from kosparse.errors import KosparseError
from kosparse.evaluation.retrieval import BM25Retriever
from kosparse.io import atomic_path, load_params, read_jsonl, write_json, write_jsonl

log = logging.getLogger("09_mix")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--real", default="data/collect/pairs_train.jsonl")
    parser.add_argument("--synthetic", help="accepted LLM pairs (none: real pairs only, so the LLM is not a dep)")
    parser.add_argument("--negatives", default="data/negatives/train.jsonl")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--metrics", required=True)
    args = parser.parse_args()
    params = load_params(args.params)
    if args.variant not in params.get("mix", {}):
        raise KosparseError(f"params.yaml has no mix.{args.variant} section (with its synthetic_ratio)")
    cfg = params["mix"][args.variant]
    ratio = cfg["synthetic_ratio"]

    # 1. Real pairs with their mined negatives; accepted synthetic pairs of every generator.
    real = from_sources(read_jsonl(args.real), cfg.get("real_sources"), f"mix.{args.variant}.real_sources")
    negatives = {row["query_id"]: row for row in read_jsonl(args.negatives)}
    accepted = read_jsonl(args.synthetic) if args.synthetic else []  # an empty file reads as no rows
    synthetic = synthetic_training_pairs(accepted)
    # None accepted from a source or of a kind is an outcome, not an error: no check as for real_sources.
    if (sources := cfg.get("synthetic_sources")) is not None:
        synthetic = [p for p in synthetic if p["source"] in sources]
    if (kinds := cfg.get("synthetic_kinds")) is not None:
        synthetic = [p for p in synthetic if p["synthetic"] in kinds]
    pairs, wanted = mix_pairs(real, synthetic, ratio, params["seed"])
    chosen = pairs[len(real) :]

    # 2. Hard negatives for the synthetic queries, mined as for the real ones (BM25 over Kiwi morphemes);
    #    an llm_negative pair's own passage comes first.
    mined = []
    if chosen:
        bm25 = params["evaluate"]["bm25"]
        analyzer = KiwiAnalyzer(params["evaluate"]["kiwi_keep_tags"])
        documents = read_jsonl(Path(args.collect_dir) / "documents.jsonl")
        k = params["negatives"]["k"]
        mined = mine_hard_negatives(lambda: BM25Retriever("bm25_kiwi", analyzer, **bm25), documents, chosen, k)
        mined = with_generated_negatives(chosen, mined, k)

    # 3. Outputs: one folder per variant, written whole or not at all.
    with atomic_path(args.out_dir, is_dir=True) as tmp:
        write_jsonl(tmp / "pairs.jsonl", pairs)
        write_jsonl(
            tmp / "negatives.jsonl", [negatives[p["query_id"]] for p in real if p["query_id"] in negatives] + mined
        )
    write_json(args.metrics, {
        "variant": args.variant,
        "synthetic_ratio": ratio,
        "real_pairs": len(real),
        "real_by_source": dict(sorted(Counter(p["source"] for p in real).items())),
        "synthetic_available": len(synthetic),
        "synthetic_wanted": wanted,
        "synthetic_used": len(chosen),
        "synthetic_by_kind": dict(sorted(Counter(p["synthetic"] for p in chosen).items())),
        "synthetic_by_source": dict(sorted(Counter(p["source"] for p in chosen).items())),
    })  # fmt: skip
    if len(chosen) < wanted:
        log.warning(
            "%s: ratio %.2f wants %d synthetic pairs, only %d accepted", args.variant, ratio, wanted, len(chosen)
        )
    log.info("%s: %d real + %d synthetic pairs", args.variant, len(real), len(chosen))


if __name__ == "__main__":
    run(main)
