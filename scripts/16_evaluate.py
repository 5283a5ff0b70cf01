"""Stage 16: evaluate retrievers on the real held-out queries of every dataset.

    python -m scripts.16_evaluate bm25 --tokenizer-dir data/tokenizer --out metrics/bm25.json
    python -m scripts.16_evaluate sparse --model models/served/v1 --encoded data/encoded/v1 \
        --out metrics/eval_v1.json --report reports/tokens_v1.md

Each dataset's test (and validation) queries are searched against that
dataset's whole collection; metrics land as
{retriever: {dataset: {split: {ndcg@10, mrr@10, recall@10, recall@100, queries}}}}.
A sparse model searches its stored document vectors (stage encode) and adds
their sparsity and Korean vector-quality statistics.
"""

import argparse
import logging
import time
from pathlib import Path

from kosparse.cli import run
from kosparse.data.analyzers import KiwiAnalyzer, whitespace_tokens
from kosparse.errors import KosparseError
from kosparse.evaluation.hybrid import CachedRetriever, HybridRetriever, tuned_hybrid
from kosparse.evaluation.retrieval import BM25Retriever, SparseRetriever, document_text, evaluate_retriever
from kosparse.io import atomic_path, load_params, read_json, read_jsonl, write_json
from kosparse.model.tokenizer import EncoderTokenAnalyzer, load_tokenizer

log = logging.getLogger("16_evaluate")

EVAL_SPLITS = ("validation", "test")


def heavy_tokens_report(name: str, quality: dict) -> str:
    lines = [
        f"# Heaviest document tokens — {name}",
        "",
        f"Share of all document weight on particles/endings: {quality['particle_ending_weight_share']:.2%}; "
        f"on Hangul or Latin words: {quality['word_weight_share']:.2%}.",
        "",
        "| rank | token | share of weight | particle/ending |",
        "|---|---|---|---|",
    ]
    for rank, t in enumerate(quality["heaviest_tokens"], 1):
        lines.append(
            f"| {rank} | `{t['token']}` | {t['weight_share']:.3%} | {'yes' if t['particle_or_ending'] else ''} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("retriever", choices=["bm25", "sparse"])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--model", help="SparseEncoder folder (sparse)")
    parser.add_argument("--encoded", help="the model's encoded collections, stage encode's folder (sparse)")
    parser.add_argument("--tokenizer-dir", help="the encoder tokenizer (bm25): BM25 over its tokens is the floor")
    parser.add_argument("--document-stats", help="stage idf's document_stats.json (bm25): tokens never weighed")
    parser.add_argument("--name", help="name in the metrics (sparse; default: the model folder's name)")
    parser.add_argument("--report", help="markdown report of the heaviest document tokens (sparse)")
    parser.add_argument("--out", default="metrics/bm25.json")
    parser.add_argument("--per-query", help="per-query nDCG@10 of every retriever (for paired intervals)")
    args = parser.parse_args()
    cfg = load_params(args.params)["evaluate"]

    # 1. The collection and the real held-out queries.
    collect = Path(args.collect_dir)
    documents = read_jsonl(collect / "documents.jsonl")
    pairs = {split: read_jsonl(collect / f"pairs_{split}.jsonl") for split in EVAL_SPLITS}
    text_of = document_text(cfg["index_title"])
    kiwi = KiwiAnalyzer(cfg["kiwi_keep_tags"])

    # 2. The retrievers: BM25 over whitespace words, Kiwi morphemes and the encoder's own tokens
    #    (the floor a sparse model must beat), or a trained sparse model.
    if args.retriever == "bm25":
        if not (args.tokenizer_dir and args.document_stats):
            raise KosparseError("bm25: --tokenizer-dir and --document-stats are required (the lexical floor)")
        bm25 = cfg["bm25"]
        excluded = read_json(args.document_stats)["functional_token_ids"]
        encoder_tokens = EncoderTokenAnalyzer(load_tokenizer(args.tokenizer_dir), excluded)
        retrievers = [
            BM25Retriever("bm25_whitespace", whitespace_tokens, bm25["k1"], bm25["b"], bm25["method"]),
            BM25Retriever("bm25_kiwi", kiwi, bm25["k1"], bm25["b"], bm25["method"]),
            BM25Retriever(
                "bm25_tokens", encoder_tokens.documents, bm25["k1"], bm25["b"], bm25["method"], encoder_tokens.queries
            ),
        ]
    else:
        if not (args.model and args.encoded):
            raise KosparseError("sparse: --model and --encoded are required")
        from kosparse.evaluation.encodings import load_encodings
        from kosparse.model.sparse_model import load_encoder

        name = args.name or Path(args.model).name
        sparse_retriever = SparseRetriever(
            name, load_encoder(args.model), cfg["batch_size"], load_encodings(args.encoded, args.model)
        )
        # cached: the hybrid below reuses these hits instead of searching again
        retrievers = [CachedRetriever(sparse_retriever)]

    # 3. Same harness for every retriever.
    results, per_query = {}, {}
    for retriever in retrievers:
        start = time.perf_counter()
        per_query[retriever.name] = {}
        results[retriever.name] = evaluate_retriever(
            retriever, documents, pairs, cfg["top_k"], text_of, per_query[retriever.name]
        )
        log.info(
            "%s (%.1f s): %s",
            retriever.name,
            time.perf_counter() - start,
            {d: s["test"]["ndcg@10"] for d, s in results[retriever.name].items()},
        )

    # 4. A sparse model's vectors: sparsity and Korean quality, from the vectors just evaluated.
    if args.retriever == "sparse":
        from scipy import sparse as sp

        from kosparse.model.idf import decoded_keys
        from kosparse.model.vector_quality import functional_tokens, korean_quality, sparsity

        retriever = retrievers[0].inner
        docs, queries = sp.vstack(retriever.doc_matrices).tocsr(), sp.vstack(retriever.query_matrices).tocsr()
        tok = retriever.model.tokenizer
        keys = list(decoded_keys(tok, range(docs.shape[1])).values())
        functional = functional_tokens(tok, kiwi.kiwi, [text_of(d) for d in documents])
        quality = korean_quality(docs, keys, functional)
        results["sparsity"] = sparsity(docs, queries)
        results["korean_quality"] = {k: v for k, v in quality.items() if k != "heaviest_tokens"}
        if args.report:
            with atomic_path(args.report) as tmp:
                tmp.write_text(heavy_tokens_report(retriever.name, quality), encoding="utf-8")

        # 5. Hybrid with Kiwi BM25, as OpenSearch's normalization-processor fuses them; weight chosen on validation.
        bm25 = cfg["bm25"]
        kiwi_bm25 = CachedRetriever(BM25Retriever("bm25_kiwi", kiwi, bm25["k1"], bm25["b"], bm25["method"]))
        hybrid = HybridRetriever(f"{retriever.name}+bm25_kiwi", [retrievers[0], kiwi_bm25], [0.5, 0.5])
        per_query[hybrid.name] = {}
        weight, results[hybrid.name], by_weight = tuned_hybrid(
            hybrid, documents, pairs, cfg["top_k"], cfg["hybrid_weights"], text_of, per_query[hybrid.name]
        )
        results["hybrid"] = {"sparse_weight": weight, "validation_ndcg@10_by_sparse_weight": by_weight}
        log.info("%s: sparse weight %.2f, test %s", hybrid.name, weight,
                 {d: s["test"]["ndcg@10"] for d, s in results[hybrid.name].items()})  # fmt: skip
    if args.per_query:
        write_json(args.per_query, per_query)
    write_json(args.out, results)


if __name__ == "__main__":
    run(main)
