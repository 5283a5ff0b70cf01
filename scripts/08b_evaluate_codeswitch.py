"""Stage 08b: nDCG@10 on code-switched test queries, with and without the synonym dictionary.

    python -m scripts.08b_evaluate_codeswitch --params params.yaml --collect-dir data/collect \
        --gold-dir ../shared/datasets --base data/synonyms/base.json --enhanced data/synonyms/enhanced.json \
        --model v1_trained=models/v1 --model v1=models/served/v1 --model v2=models/served/v2 \
        --queries-out data/codeswitch/test.jsonl --out metrics/codeswitch.json

Each test query with a switchable term has one term swapped for its gold
translation (Korean→English, or English→Korean). The dictionary acts on the
document side only: BM25 (Kiwi) indexes documents with their terms'
counterparts appended; the sparse model's document vectors gain the
counterpart tokens at α × weight (`synonyms.expansion_alpha`). A served
model (query_idf) also carries its dictionary's shared query IDF; the trained
model, queried with corpus IDF, is the sparse run with no dictionary at all.
"""

import argparse
import logging
from collections import Counter
from pathlib import Path

from kosparse.analyzers import KiwiAnalyzer
from kosparse.cli import run
from kosparse.codeswitch import (
    EncodedSparseRetriever,
    TermFinder,
    codeswitch_queries,
    expand_text,
    expand_vectors,
    token_ids_of,
)
from kosparse.errors import KosparseError
from kosparse.io import load_params, read_json, read_jsonl, sha256_file, write_json, write_jsonl
from kosparse.lexicons import load_gold, merged
from kosparse.retrieval import BM25Retriever, evaluate_retriever
from kosparse.sparse_model import load_encoder
from kosparse.synonyms import counterparts

log = logging.getLogger("08b_evaluate_codeswitch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--gold-dir", default="../shared/datasets")
    parser.add_argument("--base", default="data/synonyms/base.json")
    parser.add_argument("--enhanced", default="data/synonyms/enhanced.json")
    parser.add_argument(
        "--model", action="append", required=True, metavar="LABEL=FOLDER", help="a SparseEncoder to evaluate (repeat)"
    )
    parser.add_argument("--queries-out", default="data/codeswitch/test.jsonl")
    parser.add_argument("--out", default="metrics/codeswitch.json")
    args = parser.parse_args()
    params = load_params(args.params)
    cfg, alpha = params["evaluate"], params["synonyms"]["expansion_alpha"]

    # 1. The code-switched test set from the real test queries and the gold translations (tech first, then MUSE).
    collect = Path(args.collect_dir)
    documents = read_jsonl(collect / "documents.jsonl")
    test = read_jsonl(collect / "pairs_test.jsonl")
    gold = load_gold(args.gold_dir)
    ko_en = merged(gold, ("tech", "muse"))
    en_ko: dict[str, list[str]] = {}
    for ko, ens in sorted(ko_en.items()):
        for en in ens:
            en_ko.setdefault(en, []).append(ko)
    kiwi = KiwiAnalyzer(cfg["kiwi_keep_tags"])
    texts_by_id = {d["id"]: d["text"] for d in documents}
    switched = codeswitch_queries(test, texts_by_id, kiwi.kiwi, ko_en, en_ko)
    write_jsonl(args.queries_out, switched)
    log.info(
        "%d of %d test queries switched %s", len(switched), len(test), dict(Counter(r["direction"] for r in switched))
    )

    # 2. Each dictionary's counterparts and its expanded document texts.
    dictionaries = {
        name: counterparts(read_json(path)["pairs"])
        for name, path in (("base", args.base), ("enhanced", args.enhanced))
    }
    finders = {name: TermFinder(sorted(table)) for name, table in dictionaries.items()}
    expanded = {
        name: {d["id"]: expand_text(d["text"], finders[name], table) for d in documents}
        for name, table in dictionaries.items()
    }

    # 3. BM25 (Kiwi) and the sparse model, each without and with each dictionary; original queries for reference.
    splits = {"codeswitch": switched, "original": [{**r, "query": r["original_query"]} for r in switched]}
    bm25 = cfg["bm25"]
    results = {"queries": {"switched": len(switched), "test": len(test), **Counter(r["direction"] for r in switched)}}
    results["bm25_kiwi"] = evaluate_retriever(BM25Retriever("bm25_kiwi", kiwi, **bm25), documents, splits, cfg["top_k"])
    for name in dictionaries:
        results[f"bm25_kiwi+{name}"] = evaluate_retriever(
            BM25Retriever(f"bm25_kiwi+{name}", kiwi, **bm25), documents, splits, cfg["top_k"],
            lambda d, name=name: expanded[name][d["id"]],
        )  # fmt: skip
    encodings: dict[str, dict] = {}  # a trained model and its served copy share one document encoder
    for label, folder in (spec.split("=", 1) if "=" in spec else (Path(spec).name, spec) for spec in args.model):
        if not Path(folder, "modules.json").is_file():
            raise KosparseError(f"--model {label}={folder}: not a SparseEncoder folder (train it first)")
        weights = sorted(Path(folder).glob("document_0_*/*.safetensors"))
        encoded = encodings.setdefault("".join(sha256_file(w) for w in weights) or folder, {})
        model = load_encoder(folder)
        results[label] = evaluate_retriever(
            EncodedSparseRetriever(label, model, cfg["batch_size"], encoded), documents, splits, cfg["top_k"]
        )
        for name, table in dictionaries.items():
            ids = token_ids_of(model.tokenizer, sorted(table))

            def expand(docs, texts, name=name, table=table, ids=ids):
                return expand_vectors(docs, texts, finders[name], table, ids, alpha)

            retriever = EncodedSparseRetriever(f"{label}+{name}", model, cfg["batch_size"], encoded, expand)
            results[f"{label}+{name}"] = evaluate_retriever(retriever, documents, splits, cfg["top_k"])
    results["expansion_alpha"] = alpha
    write_json(args.out, results)
    for name, value in results.items():
        if isinstance(value, dict) and "korquad" in value:
            log.info("%s: %s", name, {d: s["codeswitch"]["ndcg@10"] for d, s in value.items()})


if __name__ == "__main__":
    run(main)
