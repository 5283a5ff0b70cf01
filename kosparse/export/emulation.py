"""OpenSearch's two inference paths emulated from the zipped files, and parity with the model."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import numpy as np
import tokenizers
import torch

from kosparse.export.artifacts import read_zip
from kosparse.export.loading import Variant
from kosparse.export.tracing import EXPORTED_ATTENTION, attention_implementation, encode_batch


def zip_tokenizer(zip_bytes: bytes) -> tokenizers.Tokenizer:
    return tokenizers.Tokenizer.from_str(read_zip(zip_bytes)["tokenizer.json"].decode("utf-8"))


def zip_document_encoder(zip_bytes: bytes) -> torch.jit.ScriptModule:
    (pt,) = [data for name, data in read_zip(zip_bytes).items() if name.endswith(".pt")]
    return torch.jit.load(io.BytesIO(pt), map_location="cpu")


def opensearch_query_vector(tok: tokenizers.Tokenizer, idf: dict[str, float], text: str) -> dict[str, float]:
    """SPARSE_TOKENIZE: distinct ids of the tokenised text, decoded, weighed by idf.json (1.0 if absent)."""
    tokens = {tok.decode([i], skip_special_tokens=True) for i in tok.encode(text).ids}
    return {t: float(np.float32(idf.get(t, 1.0))) for t in sorted(tokens) if t}


def opensearch_document_vectors(
    traced: torch.jit.ScriptModule, tok: tokenizers.Tokenizer, texts: Sequence[str]
) -> torch.Tensor:
    """SPARSE_ENCODING's model output, one text per call as ML Commons predicts it: [len(texts), vocab]."""
    rows = []
    with torch.no_grad():
        for text in texts:
            rows.append(traced(encode_batch(tok, [text]))["output"][0])
    return torch.stack(rows)


def lexical(vector: torch.Tensor, tok: tokenizers.Tokenizer) -> dict[str, float]:
    """{token: weight} as ML Commons returns a sparse vector (non-zero ids, special tokens dropped)."""
    ids = torch.nonzero(vector).flatten().tolist()
    tokens = {i: tok.decode([i], skip_special_tokens=True) for i in ids}
    return {tokens[i]: float(vector[i]) for i in ids if tokens[i]}


def document_parity(variant: Variant, document_zip: bytes, texts: Sequence[str]) -> dict:
    """The zipped trace against SparseEncoder.encode_document, text by text, on the non-special tokens.

    The reference runs the attention kernels the trace runs, so any difference is
    the trace's. The kernel choice alone rounds differently in the last bits, which can
    swap two expansion tokens tied at the top-k cut-off; `kernel_set_changes`
    counts the documents where it does, for the card, not as a failure.
    """
    traced, tok = zip_document_encoder(document_zip), zip_tokenizer(document_zip)
    exported = opensearch_document_vectors(traced, tok, texts)
    keep = torch.ones(exported.shape[1], dtype=torch.bool)
    keep[variant.special_ids] = False

    def reference_vectors() -> torch.Tensor:
        vectors = variant.encoder.encode_document(
            list(texts), batch_size=1, convert_to_tensor=True, convert_to_sparse_tensor=False
        )
        return vectors.cpu()[:, keep]

    trained_kernels = reference_vectors()
    with attention_implementation(variant.mlm, EXPORTED_ATTENTION):
        reference = reference_vectors()
    exported_kept = exported[:, keep]
    dims_exported, dims_reference = (exported_kept > 0).sum(dim=1), (reference > 0).sum(dim=1)
    return {
        "documents": len(texts),
        "max_abs_diff": float((exported_kept - reference).abs().max()),
        "special_token_max_weight": float(exported[:, ~keep].abs().max()) if (~keep).any() else 0.0,
        "active_dims_mismatches": int((dims_exported != dims_reference).sum()),
        "active_dims_mean": round(float(dims_exported.float().mean()), 2),
        "kernel_set_changes": int(((trained_kernels > 0) != (reference > 0)).any(dim=1).sum()),
    }


def query_parity(variant: Variant, tokenizer_zip: bytes, queries: Sequence[str]) -> dict:
    """The zipped tokenizer + idf.json against SparseEncoder.encode_query, compared as {token: weight}."""
    files = read_zip(tokenizer_zip)
    tok = tokenizers.Tokenizer.from_str(files["tokenizer.json"].decode("utf-8"))
    idf = json.loads(files["idf.json"])
    reference = variant.encoder.encode_query(list(queries), convert_to_tensor=True, convert_to_sparse_tensor=False)
    mismatches = []
    for query, vector in zip(queries, reference, strict=True):
        if opensearch_query_vector(tok, idf, query) != lexical(vector, tok):
            mismatches.append(query)
    return {"queries": len(queries), "mismatches": len(mismatches), "mismatch_examples": mismatches[:3]}
