"""Stage 07c: a variant's training data — real pairs + synthetic pairs at its synthetic_ratio, with negatives.

    python -m scripts.07c_mix v2 --real data/collect/pairs_train.jsonl \
        --synthetic data/synthetic/pairs.jsonl --negatives data/negatives/train.jsonl \
        --collect-dir data/collect --out-dir data/mix/v2 --metrics metrics/mix_v2.json
"""

import argparse
import logging
from collections import Counter
from pathlib import Path

from kosparse.analyzers import KiwiAnalyzer
from kosparse.cli import run
from kosparse.errors import KosparseError
from kosparse.io import atomic_path, load_params, read_jsonl, write_json, write_jsonl
from kosparse.mix import mix_pairs, synthetic_training_pairs
from kosparse.negatives import mine_hard_negatives
from kosparse.retrieval import BM25Retriever

log = logging.getLogger("07c_mix")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--real", default="data/collect/pairs_train.jsonl")
    parser.add_argument("--synthetic", default="data/synthetic/pairs.jsonl")
    parser.add_argument("--negatives", default="data/negatives/train.jsonl")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--metrics", required=True)
    args = parser.parse_args()
    params = load_params(args.params)
    if args.variant not in params.get("mix", {}):
        raise KosparseError(f"params.yaml has no mix.{args.variant} section (with its synthetic_ratio)")
    ratio = params["mix"][args.variant]["synthetic_ratio"]

    # 1. Real pairs with their mined negatives; accepted synthetic pairs that point at collection documents.
    real = read_jsonl(args.real)
    negatives = {row["query_id"]: row for row in read_jsonl(args.negatives)}
    accepted = read_jsonl(args.synthetic) if Path(args.synthetic).stat().st_size else []
    synthetic = synthetic_training_pairs(accepted)
    pairs, wanted = mix_pairs(real, synthetic, ratio, params["seed"])
    chosen = pairs[len(real) :]

    # 2. Hard negatives for the synthetic queries, mined as for the real ones (BM25 over Kiwi morphemes).
    mined = []
    if chosen:
        bm25 = params["evaluate"]["bm25"]
        analyzer = KiwiAnalyzer(params["evaluate"]["kiwi_keep_tags"])
        documents = read_jsonl(Path(args.collect_dir) / "documents.jsonl")
        mined = mine_hard_negatives(
            lambda: BM25Retriever("bm25_kiwi", analyzer, **bm25), documents, chosen, params["negatives"]["k"]
        )

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
