"""Stage 17: nDCG@10 on code-switched test queries, with and without the synonym dictionary.

    python -m scripts.17_evaluate_codeswitch --params params.yaml --collect-dir data/collect \
        --gold-dir ../shared/datasets --base data/synonyms/base.json --enhanced data/synonyms/enhanced.json \
        --model v1_trained=models/v1=data/encoded/v1 --model v1=models/served/v1=data/encoded/v1 \
        --model v2=models/served/v2=data/encoded/v2 \
        --queries-out data/codeswitch/test.jsonl --out metrics/codeswitch.json

Each test query with a switchable term has one term swapped for its gold
translation (Korean→English, or English→Korean). The dictionary acts on the
document side only: BM25 (Kiwi) indexes documents with their terms'
counterparts appended; the sparse model's document vectors gain the
counterpart tokens at α × weight (`synonyms.expansion_alpha`). A served
model (query_idf) also carries its dictionary's shared query IDF; the trained
model, queried with corpus IDF, is the sparse run with no dictionary at all
(it shares its served copy's document side, hence its stored vectors).
"""

import argparse
import logging
from collections import Counter
from pathlib import Path

from kosparse.cli import run
from kosparse.data.analyzers import KiwiAnalyzer
from kosparse.errors import KosparseError
from kosparse.evaluation.encodings import load_encodings
from kosparse.evaluation.retrieval import document_text
from kosparse.io import load_params, read_json, read_jsonl, write_json, write_jsonl
from kosparse.model.sparse_model import load_encoder
from kosparse.synonyms.codeswitch import codeswitch_queries, codeswitch_results, gold_translations
from kosparse.synonyms.dictionary import counterparts
from kosparse.synonyms.lexicons import load_gold

log = logging.getLogger("17_evaluate_codeswitch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--gold-dir", default="../shared/datasets")
    parser.add_argument("--base", default="data/synonyms/base.json")
    parser.add_argument("--enhanced", default="data/synonyms/enhanced.json")
    parser.add_argument(
        "--model", action="append", required=True, metavar="LABEL=FOLDER=ENCODED",
        help="a SparseEncoder and stage encode's folder for its document side (repeat)",
    )  # fmt: skip
    parser.add_argument("--queries-out", default="data/codeswitch/test.jsonl")
    parser.add_argument("--out", default="metrics/codeswitch.json")
    args = parser.parse_args()
    params = load_params(args.params)
    cfg, alpha = params["evaluate"], params["synonyms"]["expansion_alpha"]
    specs = [spec.split("=") for spec in args.model]
    for spec, parts in zip(args.model, specs, strict=True):
        if len(parts) != 3:
            raise KosparseError(f"--model {spec}: expected LABEL=FOLDER=ENCODED")

    # 1. The code-switched test set from the real test queries and the gold translations.
    collect = Path(args.collect_dir)
    documents = read_jsonl(collect / "documents.jsonl")
    test = read_jsonl(collect / "pairs_test.jsonl")
    ko_en, en_ko = gold_translations(load_gold(args.gold_dir))
    kiwi = KiwiAnalyzer(cfg["kiwi_keep_tags"])
    switched = codeswitch_queries(test, {d["id"]: d["text"] for d in documents}, kiwi.kiwi, ko_en, en_ko)
    write_jsonl(args.queries_out, switched)
    directions = Counter(r["direction"] for r in switched)
    log.info("%d of %d test queries switched %s", len(switched), len(test), dict(directions))

    # 2. BM25 (Kiwi) and each sparse model, without and with each dictionary.
    paths = {"base": args.base, "enhanced": args.enhanced}
    dictionaries = {name: counterparts(read_json(path)["pairs"]) for name, path in paths.items()}
    sparse_models = [(label, load_encoder(folder), load_encodings(encoded, folder)) for label, folder, encoded in specs]
    results = {"queries": {"switched": len(switched), "test": len(test), **directions}}
    text_of = document_text(cfg["index_title"])  # what stage encode stored
    results.update(codeswitch_results(documents, switched, dictionaries, sparse_models, kiwi, cfg, alpha, text_of))
    results["expansion_alpha"] = alpha
    write_json(args.out, results)
    for name, value in results.items():
        if isinstance(value, dict) and "korquad" in value:
            log.info("%s: %s", name, {d: s["codeswitch"]["ndcg@10"] for d, s in value.items()})


if __name__ == "__main__":
    run(main)
