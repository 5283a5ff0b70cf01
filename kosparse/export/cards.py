"""What goes into the folder besides the zips: the manifest and the model card."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from kosparse.export.artifacts import (
    DOCUMENT_REGISTRATION,
    DOCUMENT_ZIP,
    MANIFEST,
    TOKENIZER_REGISTRATION,
    TOKENIZER_ZIP,
)
from kosparse.export.loading import Variant
from kosparse.export.pruning import check_prune, prune_label


def manifest(
    variant_name: str,
    variant: Variant,
    names: dict[str, str],
    version: str,
    prune: dict,
    files: dict,
    sparse_weight: float = 0.7,
) -> dict:
    """What the request printer (scripts/opensearch_requests.py) needs, read from the folder itself.

    `sparse_weight` is the neural_sparse query's weight in the hybrid search pipeline (evaluate tunes it
    on validation); BM25's is the rest, in the order of the hybrid query: [BM25, neural_sparse].
    """
    prune_type, _ = check_prune(prune)
    file_digests = {
        name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()} for name, data in files.items()
    }
    query_tok = variant.query_tokenizer
    return {
        "variant": variant_name,
        "version": version,
        "models": {
            "document": {"name": names["document"], "function_name": "SPARSE_ENCODING", "zip": DOCUMENT_ZIP,
                         "registration": DOCUMENT_REGISTRATION},
            "tokenizer": {"name": names["tokenizer"], "function_name": "SPARSE_TOKENIZE", "zip": TOKENIZER_ZIP,
                          "registration": TOKENIZER_REGISTRATION},
        },
        "vocab_size": variant.mlm.config.vocab_size,
        "document_max_tokens": variant.max_length,
        "query_max_tokens": query_tok.truncation["max_length"] - query_tok.num_special_tokens_to_add(False),
        "prune": {"type": prune_type} if prune_type == "none" else {"type": prune_type, "ratio": prune["ratio"]},
        "hybrid_weights": [round(1 - sparse_weight, 4), round(sparse_weight, 4)],
        "files": file_digests,
    }  # fmt: skip


def _table(header: Sequence[str], rows: Sequence[Sequence]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(str(c) for c in row) + " |" for row in rows
    ]


def model_card(
    variant_name: str,
    man: dict,
    data: dict,
    train_cfg: dict,
    train_summary: dict,
    eval_metrics: dict,
    parity: dict,
    prune_rows_: Sequence[dict],
) -> str:
    """README.md for the folder: what it holds, the data and its licences, the recipe, the numbers."""
    doc, tok = man["models"]["document"], man["models"]["tokenizer"]
    recipe = train_summary.get("recipe", {})
    scores = eval_metrics[variant_name]
    sparsity = eval_metrics.get("sparsity", {})
    lines = [
        f"# {doc['name']} / {tok['name']} — Korean inference-free sparse retrieval for OpenSearch",
        "",
        f"Variant `{variant_name}` of kosparse, version {man['version']}: a document encoder for ingest "
        "(`SPARSE_ENCODING`) and a query tokenizer for search (`SPARSE_TOKENIZE`). Queries need no model: "
        "each query token weighs its IDF.",
        "",
        "## Files",
        "",
        *_table(
            ["file", "what", "bytes", "sha256"],
            [
                (f"`{name}`", what, f"{man['files'][name]['bytes']:,}", f"`{man['files'][name]['sha256'][:16]}…`")
                for name, what in [
                    (DOCUMENT_ZIP, f"TorchScript trace `{doc['name']}.pt` + `tokenizer.json`"),
                    (TOKENIZER_ZIP, "`tokenizer.json` + `idf.json` (byte-identical to the model folder's)"),
                    (DOCUMENT_REGISTRATION, "`_register` body for the document encoder (add `url`)"),
                    (TOKENIZER_REGISTRATION, "`_register` body for the query tokenizer (add `url`)"),
                ]
            ],
        ),
        "",
        f"`{MANIFEST}` holds the names, limits and pruning that `scripts/opensearch_requests.py` reads.",
        "",
        "## How vectors are made",
        "",
        f"- Document: each of its first {man['document_max_tokens']} tokens (special tokens included) that is "
        "a word or number and not a particle/ending gets BM25's term-frequency weight "
        "tf / (tf + k1 · (1 − b + b · length / mean length)); BERT masked-LM logits → log(1 + ReLU) → max over "
        "tokens add a learned part, scaled by a trained gate, on the document's own tokens and its highest-scoring "
        f"other tokens; one weight per vocabulary token ({man['vocab_size']:,}). Special tokens weigh 0.",
        f"- Query: the distinct tokens among the first {man['query_max_tokens']} of the query, "
        "each weighted by `idf.json`, looked up by `decode([id])`.",
        "- Score: dot product of the two.",
        "",
        "## Data",
        "",
        *_table(
            ["source", "documents", "training examples", "machine-translated", "licence"],
            [
                (
                    s,
                    f"{d['documents']:,}",
                    f"{train_summary.get('examples', {}).get(s, 0):,}",
                    "yes" if d["machine_translated"] else "no",
                    d["licence"],
                )
                for s, d in sorted(data.items())
            ],
        ),  # fmt: skip
        "",
        "Licence notes: the model was trained on every source above; its use is bound by the most restrictive "
        "of their terms (MS MARCO: research use only). Check them before any commercial deployment.",
        "",
        "## Training recipe",
        "",
        f"sentence-transformers `SparseEncoder`, `SpladeLoss` around `{recipe.get('loss')}` "
        f"(in-batch + {train_cfg['negatives_per_query']} BM25 hard negative), FLOPS regulariser on documents "
        f"(λ = {train_cfg['document_regularizer_weight']:g}, quadratic warm-up over "
        f"{train_cfg['regularizer_warmup_ratio']:.0%} of the steps); {train_summary.get('steps')} steps of batch "
        f"{train_cfg['batch_size']} ({recipe.get('examples_seen', 0):,} examples seen), learning rate "
        f"{train_cfg['learning_rate']:g}, {train_cfg['max_length']} document tokens while training; BM25 anchor "
        f"{recipe.get('anchor')}. Best checkpoint by validation nDCG@10: step "
        f"{train_summary.get('best_checkpoint_step')} ({train_summary.get('best_validation_ndcg@10')}; step 0, the "
        f"anchor alone: {train_summary.get('step0_validation_ndcg@10')}).",
        "",
        "## Evaluation (real held-out queries, each dataset against its whole collection)",
        "",
        *_table(
            ["dataset / split", "queries", "nDCG@10", "MRR@10", "R@10", "R@100"],
            [
                (f"{dataset} / {split}", m["queries"], m["ndcg@10"], m["mrr@10"], m["recall@10"], m["recall@100"])
                for dataset, splits in sorted(scores.items())
                for split, m in sorted(splits.items())
            ],
        ),
        "",
        f"Sparsity: documents {sparsity.get('doc_active_dims_mean')} active dimensions on average, "
        f"queries {sparsity.get('query_active_dims_mean')}; FLOPS {sparsity.get('flops')}.",
        "",
        "## Parity with the trained model",
        "",
        f"- Document encoder (the zipped trace, run as OpenSearch runs it, one text per call) vs "
        f"`SparseEncoder.encode_document` on {parity['documents']['documents']} real documents: max abs "
        f"difference {parity['documents']['max_abs_diff']:.2e}, {parity['documents']['active_dims_mismatches']} "
        "documents with a different number of active dimensions. The reference runs the trace's "
        "attention kernels (eager); the default ones (SDPA) round differently in the last bits, which "
        f"changes the token set of {parity['documents']['kernel_set_changes']} of these documents "
        "(two expansion tokens tied at the top-k cut-off).",
        f"- Query tokenizer (the zipped `tokenizer.json` + `idf.json`, as `SPARSE_TOKENIZE` reads them) vs "
        f"`SparseEncoder.encode_query` on {parity['queries']['queries']:,} real queries: "
        f"{parity['queries']['mismatches']} differ.",
        "",
        "## Pruning document vectors at ingest",
        "",
        f"The generated ingest pipeline prunes with `{prune_label(man['prune'])}` "
        "(`sparse_encoding` processor `prune_type` / `prune_ratio`). Effect on the test queries:",
        "",
        *_table(
            ["prune", "mean doc active dims", *sorted(k for k in prune_rows_[0]["ndcg@10"] if k.endswith("/test"))],
            [
                (
                    row["prune"],
                    f"{row['doc_active_dims_mean']:,}",
                    *(row["ndcg@10"][k] for k in sorted(k for k in row["ndcg@10"] if k.endswith("/test"))),
                )
                for row in prune_rows_
            ],
        ),  # fmt: skip
        "",
        "## Deploy",
        "",
        "See `docs/opensearch.md` in kosparse; `python -m scripts.opensearch_requests <this folder>` prints every "
        "request body with these model names.",
    ]
    return "\n".join(lines) + "\n"
