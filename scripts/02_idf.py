"""Stage 02: build the encoder tokenizer and the one idf.json every later stage uses.

    python -m scripts.02_idf --documents data/collect/documents.jsonl \
        --tokenizer-dir data/tokenizer --idf data/idf/idf.json --metrics metrics/idf.json
"""

import argparse
import logging
import time

from kosparse.cli import run
from kosparse.idf import bm25_idf, document_frequencies, idf_table
from kosparse.io import atomic_path, load_params, read_jsonl, write_json
from kosparse.tokenizer import load_pretrained, save_tokenizer, train_wordpiece

log = logging.getLogger("02_idf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--documents", default="data/collect/documents.jsonl")
    parser.add_argument("--tokenizer-dir", default="data/tokenizer")
    parser.add_argument("--idf", default="data/idf/idf.json")
    parser.add_argument("--metrics", default="metrics/idf.json")
    args = parser.parse_args()
    params = load_params(args.params)
    cfg, idf_cfg = params["tokenizer"], params["idf"]
    texts = [doc["text"] for doc in read_jsonl(args.documents)]

    # 1. Tokenizer: trained on document text only (never queries), or a pretrained one.
    start = time.perf_counter()
    if cfg["name"] == "scratch":
        tok = train_wordpiece(texts, cfg["vocab_size"], cfg["max_length"])
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

    write_json(
        args.metrics,
        {
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
