"""Stage 02: build the encoder tokenizer and the one idf.json every later stage uses.

    python -m scripts.02_idf --documents data/collect/documents.jsonl \
        --tokenizer-dir data/tokenizer --idf data/idf/idf.json --document-stats data/idf/document_stats.json \
        --metrics metrics/idf.json

Everything is counted within the document encoder's window (tokenizer.json's
truncation, `tokenizer.max_length`): the tokens a served model can weigh.
"""

import argparse
import logging
import time

from kosparse.cli import run
from kosparse.data.analyzers import KiwiAnalyzer
from kosparse.io import atomic_path, load_params, read_jsonl, write_json
from kosparse.model.idf import bm25_idf, document_frequencies, document_stats, idf_table
from kosparse.model.tokenizer import load_pretrained, save_tokenizer, train_wordpiece

log = logging.getLogger("02_idf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--documents", default="data/collect/documents.jsonl")
    parser.add_argument("--tokenizer-dir", default="data/tokenizer")
    parser.add_argument("--idf", default="data/idf/idf.json")
    parser.add_argument(
        "--document-stats", default="data/idf/document_stats.json", help="avgdl and unweighted particle tokens"
    )
    parser.add_argument("--metrics", default="metrics/idf.json")
    args = parser.parse_args()
    params = load_params(args.params)
    cfg, idf_cfg = params["tokenizer"], params["idf"]
    texts = [doc["text"] for doc in read_jsonl(args.documents)]

    # 1. Tokenizer: trained on document text only (never queries), or a pretrained one.
    start = time.perf_counter()
    if cfg["name"] == "scratch":
        tok = train_wordpiece(texts, cfg["vocab_size"], cfg["max_length"], cfg["morpheme_cut"])
    else:
        tok = load_pretrained(cfg["name"])
    with atomic_path(args.tokenizer_dir, is_dir=True) as tmp:
        save_tokenizer(tok, tmp, cfg["max_length"])
    log.info("tokenizer %s: %d tokens (%.1f s)", cfg["name"], len(tok), time.perf_counter() - start)

    # 2. Document frequencies and BM25-form IDF over the whole collection.
    start = time.perf_counter()
    df = document_frequencies(tok, texts, idf_cfg["batch_size"])
    idf = bm25_idf(df, len(texts))
    table, collisions = idf_table(tok, idf)
    write_json(args.idf, table)
    seconds = time.perf_counter() - start
    log.info(
        "idf for %d keys over %d documents (%.1f s), %d collisions", len(table), len(texts), seconds, len(collisions)
    )

    # 3. What the document side weighs (no particles/endings) and its mean length (BM25's avgdl).
    stats = document_stats(tok, texts, KiwiAnalyzer([]).kiwi, idf_cfg["batch_size"])
    write_json(args.document_stats, stats)
    log.info(
        "mean document length %.1f weighable tokens, %d documents truncated, %d particle/ending tokens unweighted",
        stats["avgdl"],
        stats["truncated"],
        len(stats["functional_token_ids"]),
    )

    write_json(
        args.metrics,
        {
            "morpheme_cut": bool(cfg["name"] == "scratch" and cfg["morpheme_cut"]),
            **{key: stats[key] for key in ("window", "avgdl", "truncated")},
            "functional_tokens": len(stats["functional_token_ids"]),
            "tokenizer": cfg["name"],
            "vocab_size": len(tok),
            "documents": len(texts),
            "idf_keys": len(table),
            "tokens_seen": int((df > 0).sum()),
            "decode_collisions": len(collisions),
            "collision_examples": collisions[:20],
        },
    )


if __name__ == "__main__":
    run(main)
