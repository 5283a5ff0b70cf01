"""The OpenSearch requests of docs/opensearch.md, built from an exported folder so they name the real models.

Model ids are assigned by the cluster at registration; they appear as
`<... model_id>` placeholders to fill in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tokenizers
from scipy import sparse

from kosparse.errors import KosparseError
from kosparse.export import artifacts, emulation, pruning


@dataclass
class Request:
    title: str
    method: str
    path: str
    body: dict | None = None

    def render(self) -> str:
        lines = [f"# {self.title}", f"{self.method} {self.path}"]
        if self.body is not None:
            lines.append(json.dumps(self.body, ensure_ascii=False, indent=2))
        return "\n".join(lines)


def read_export(folder: str | Path) -> tuple[dict, dict[str, dict]]:
    """The manifest and both registration bodies of an exported folder."""
    folder = Path(folder)
    missing = [name for name in artifacts.ARTIFACT_FILES if not (folder / name).is_file()]
    if missing:
        raise KosparseError(f"{folder}: not an exported folder, missing {missing} (run the export stage)")
    manifest = json.loads((folder / artifacts.MANIFEST).read_text(encoding="utf-8"))
    bodies = {
        role: json.loads((folder / model["registration"]).read_text(encoding="utf-8"))
        for role, model in manifest["models"].items()
    }
    return manifest, bodies


def prune_vector(weights: dict[str, float], setting: dict) -> dict[str, float]:
    """One {token: weight} vector pruned as the sparse_encoding processor prunes it."""
    keys = sorted(weights)
    row = sparse.csr_matrix(np.array([[weights[k] for k in keys]], dtype=np.float32))
    pruned = pruning.prune_rows(row, setting)
    return {keys[i]: float(v) for i, v in zip(pruned.indices, pruned.data, strict=True)}


def offline_vectors(folder: str | Path, query: str, document: str, prune: dict) -> dict:
    """Query and document vectors computed from the zipped files, for clusters that take raw vectors."""
    folder = Path(folder)
    tokenizer_files = artifacts.read_zip((folder / artifacts.TOKENIZER_ZIP).read_bytes())
    query_tok = tokenizers.Tokenizer.from_str(tokenizer_files["tokenizer.json"].decode("utf-8"))
    idf = json.loads(tokenizer_files["idf.json"])
    document_zip = (folder / artifacts.DOCUMENT_ZIP).read_bytes()
    document_tok = emulation.zip_tokenizer(document_zip)
    vector = emulation.opensearch_document_vectors(
        emulation.zip_document_encoder(document_zip), document_tok, [document]
    )
    query_tokens = emulation.opensearch_query_vector(query_tok, idf, query)
    document_tokens = prune_vector(emulation.lexical(vector[0], document_tok), prune)
    return {
        "document": document,
        "query_tokens": query_tokens,
        "query_ids": {str(query_tok.token_to_id(t)): w for t, w in query_tokens.items()},
        "document_tokens": document_tokens,
        "document_ids": {str(document_tok.token_to_id(t)): w for t, w in document_tokens.items()},
    }


def build_requests(
    manifest: dict,
    bodies: dict[str, dict],
    base_url: str,
    index: str,
    query: str,
    offline: dict | None = None,
    text_field: str = "text",
    vector_field: str = "text_sparse",
) -> list[Request]:
    doc_model, tok_model = manifest["models"]["document"], manifest["models"]["tokenizer"]
    doc_id, tok_id = f"<{doc_model['name']} model_id>", f"<{tok_model['name']} model_id>"
    ingest, two_phase, hybrid = f"{doc_model['name']}-ingest", f"{index}-two-phase", f"{index}-hybrid"
    prune_type = manifest["prune"]["type"]
    weights = manifest.get("hybrid_weights", [0.3, 0.7])  # [BM25, neural_sparse]; older exports lack the key
    prune = {} if prune_type == "none" else {"prune_type": prune_type, "prune_ratio": manifest["prune"]["ratio"]}
    neural_sparse = {"neural_sparse": {vector_field: {"query_text": query, "model_id": tok_id}}}
    text_mapping = {"type": "text", "analyzer": "nori"}
    requests = [
        Request(
            "Let ML Commons download model zips from a URL (serve this folder, e.g. python -m http.server)",
            "PUT",
            "/_cluster/settings",
            {"persistent": {"plugins.ml_commons.allow_registering_model_via_url": True}},
        ),
        *(
            Request(
                f"Register {model['name']} ({model['function_name']}); note the task's model_id",
                "POST",
                "/_plugins/_ml/models/_register",
                {**bodies[role], "url": f"{base_url.rstrip('/')}/{model['zip']}"},
            )
            for role, model in manifest["models"].items()
        ),
        Request("Model ids of the registration tasks", "GET", "/_plugins/_ml/tasks/<task_id>"),
        Request(f"Deploy {doc_model['name']}", "POST", f"/_plugins/_ml/models/{doc_id}/_deploy"),
        Request(f"Deploy {tok_model['name']}", "POST", f"/_plugins/_ml/models/{tok_id}/_deploy"),
        Request(
            "Ingest pipeline: documents encoded by the document model at index time, pruned as in the model card",
            "PUT",
            f"/_ingest/pipeline/{ingest}",
            {
                "description": f"{doc_model['name']}: Korean sparse document vectors",
                "processors": [
                    {"sparse_encoding": {"model_id": doc_id, **prune, "field_map": {text_field: vector_field}}}
                ],
            },
        ),
        Request(
            "Index with rank_features (every version with neural sparse search); text analysed by nori for BM25",
            "PUT",
            f"/{index}",
            {
                "settings": {"default_pipeline": ingest},
                "mappings": {"properties": {text_field: text_mapping, vector_field: {"type": "rank_features"}}},
            },
        ),
        Request(
            "Index with sparse_vector (OpenSearch 3.3+, neural sparse ANN); keys are token ids",
            "PUT",
            f"/{index}-ann",
            {
                "settings": {"index": {"sparse": True}, "default_pipeline": ingest},
                "mappings": {
                    "properties": {
                        text_field: text_mapping,
                        vector_field: {"type": "sparse_vector", "method": {"name": "seismic"}},
                    }
                },
            },
        ),
        Request("Index a document", "PUT", f"/{index}/_doc/1", {text_field: "<document text>"}),
        Request(
            "Search: the query is tokenised and weighted by idf.json, no model inference",
            "GET",
            f"/{index}/_search",
            {"query": neural_sparse},
        ),
        Request(
            "Two-phase search pipeline: high-weight query tokens first, the rest rescore the top documents",
            "PUT",
            f"/_search/pipeline/{two_phase}",
            {
                "request_processors": [
                    {
                        "neural_sparse_two_phase_processor": {
                            "description": "Two-phase neural sparse search",
                            "enabled": True,
                            "two_phase_parameter": {
                                "prune_type": "max_ratio",
                                "prune_ratio": 0.4,
                                "expansion_rate": 5.0,
                                "max_window_size": 10000,
                            },
                        }
                    }
                ]
            },
        ),  # fmt: skip
        Request(
            "Make it the index's default", "PUT", f"/{index}/_settings", {"index.search.default_pipeline": two_phase}
        ),  # fmt: skip
        Request(
            "Hybrid search pipeline: BM25 (nori) and neural sparse scores, min-max normalised and combined",
            "PUT",
            f"/_search/pipeline/{hybrid}",
            {
                "description": "BM25 + neural sparse",
                "phase_results_processors": [
                    {
                        "normalization-processor": {
                            "normalization": {"technique": "min_max"},
                            "combination": {
                                "technique": "arithmetic_mean",
                                "parameters": {"weights": weights},
                            },
                        }
                    }
                ],
            },
        ),
        Request(
            "Hybrid query",
            "GET",
            f"/{index}/_search?search_pipeline={hybrid}",
            {"query": {"hybrid": {"queries": [{"match": {text_field: {"query": query}}}, neural_sparse]}}},
        ),
    ]
    if offline is not None:
        requests += [
            Request(
                "Offline: a document with its precomputed (pruned) vector, no ingest pipeline",
                "PUT",
                f"/{index}/_doc/2?pipeline=_none",
                {text_field: offline["document"], vector_field: offline["document_tokens"]},
            ),
            Request(
                "Offline: raw query_tokens (what the query tokenizer would produce)",
                "GET",
                f"/{index}/_search",
                {"query": {"neural_sparse": {vector_field: {"query_tokens": offline["query_tokens"]}}}},
            ),
            Request(
                "Offline, sparse_vector index: the same query keyed by token id",
                "GET",
                f"/{index}-ann/_search",
                {"query": {"neural_sparse": {vector_field: {"query_tokens": offline["query_ids"]}}}},
            ),
        ]
    return requests
