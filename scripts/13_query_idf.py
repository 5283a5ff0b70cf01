"""Stage 13: a trained variant's served query side — one IDF per synonym group, trend terms boosted.

    python -m scripts.13_query_idf v1 --params params.yaml --model models/v1 \
        --synonyms data/synonyms/base.json --trends data/trends/trends.json \
        --out models/served/v1 --metrics metrics/query_idf_v1.json

The document encoder is copied unchanged; only the query weights and the
idf.json beside them change. Evaluation, comparison and export all read the
served folder, so they measure and ship the query side OpenSearch will use,
and a new dictionary or new trends re-weight queries without retraining.
"""

import argparse
import logging
from pathlib import Path

from kosparse.cli import run
from kosparse.errors import KosparseError
from kosparse.io import atomic_path, load_params, read_json, write_json
from kosparse.model.sparse_model import load_encoder, save_encoder
from kosparse.synonyms.idf_adjust import query_idf, set_query_idf

log = logging.getLogger("13_query_idf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--model", required=True, help="trained SparseEncoder folder (models/<variant>)")
    parser.add_argument("--synonyms", required=True, help="dictionary JSON with `groups` (04 or 06 output)")
    parser.add_argument("--trends", required=True, help="03_trends output")
    parser.add_argument("--out", required=True)
    parser.add_argument("--metrics", required=True)
    args = parser.parse_args()
    params = load_params(args.params)

    # 1. The IDF the variant was trained with, its dictionary's groups and the trending terms.
    model_dir = Path(args.model)
    if not (model_dir / "idf.json").is_file():
        raise KosparseError(f"{model_dir}: no idf.json here (run train@{args.variant} first)")
    trained_idf = read_json(model_dir / "idf.json")
    dictionary = read_json(args.synonyms)
    if not isinstance(dictionary.get("groups"), list):
        raise KosparseError(f"{args.synonyms}: expected a `groups` list (a 04_synonyms / 06_verify_synonyms output)")
    trend_terms = read_json(args.trends).get("terms", [])

    # 2. The adjusted table: shared IDF per group (rule synonyms.shared_idf), then bounded trend boosts.
    model = load_encoder(model_dir)
    table, stats = query_idf(
        trained_idf,
        dictionary["groups"],
        trend_terms,
        model.tokenizer,
        params["synonyms"]["shared_idf"],
        params["trends"]["max_boost"],
    )
    changes = sorted(
        ({"token": k, "trained": trained_idf[k], "served": table[k]} for k in table if table[k] != trained_idf[k]),
        key=lambda c: (-abs(c["served"] - c["trained"]), c["token"]),
    )

    # 3. The served folder: same document encoder, new query weights, the idf.json that matches them.
    set_query_idf(model, table, str(model_dir / "idf.json"))
    with atomic_path(args.out, is_dir=True) as tmp:
        save_encoder(model, tmp)
        write_json(tmp / "idf.json", table)
    write_json(
        args.metrics,
        {
            "variant": args.variant,
            "dictionary": args.synonyms,
            "groups": len(dictionary["groups"]),
            "trend_terms": len(trend_terms),
            **stats,
            "largest_changes": changes[:10],
        },
    )
    log.info("%s: %d query weights changed %s", args.out, stats["keys_changed"], stats)


if __name__ == "__main__":
    run(main)
