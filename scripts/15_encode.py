"""Stage 15: a served model's document vectors, once per collection, for every stage that searches them.

    python -m scripts.15_encode --params params.yaml --collect-dir data/collect \
        --model models/served/v1 --out data/encoded/v1 --metrics metrics/encode_v1.json

One safetensors file per source collection (documents.jsonl order) under
--out; evaluate, evaluate_codeswitch, export and compare read these instead of
encoding the collection again (kosparse/evaluation/encodings.py).
"""

import argparse
import logging
from pathlib import Path

from kosparse.cli import run
from kosparse.evaluation.encodings import document_side_fingerprint, save_encoding
from kosparse.evaluation.retrieval import document_matrix, document_text
from kosparse.io import atomic_path, load_params, read_jsonl, write_json
from kosparse.model.sparse_model import load_encoder

log = logging.getLogger("15_encode")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--model", required=True, help="served SparseEncoder folder")
    parser.add_argument("--out", required=True, help="folder of encoded collections")
    parser.add_argument("--metrics", required=True)
    args = parser.parse_args()
    cfg = load_params(args.params)["evaluate"]

    # 1. The collection and the model's document side.
    documents = read_jsonl(Path(args.collect_dir) / "documents.jsonl")
    text_of = document_text(cfg["index_title"])
    model = load_encoder(args.model)
    fingerprint = document_side_fingerprint(args.model)

    # 2. Each source's collection encoded once, the folder written whole or not at all.
    summary = {}
    with atomic_path(args.out, is_dir=True) as tmp:
        for source in sorted({d["source"] for d in documents}):
            texts = [text_of(d) for d in documents if d["source"] == source]
            log.info("%s: encoding %d documents", source, len(texts))
            matrix = document_matrix(model, texts, cfg["batch_size"])
            save_encoding(tmp / f"{source}.safetensors", matrix, texts, fingerprint)
            summary[source] = {
                "documents": matrix.shape[0],
                "non_zeros": int(matrix.nnz),
                "doc_active_dims_mean": round(matrix.nnz / max(1, matrix.shape[0]), 2),
            }
    write_json(args.metrics, summary)
    log.info("%s: %s", args.out, summary)


if __name__ == "__main__":
    run(main)
