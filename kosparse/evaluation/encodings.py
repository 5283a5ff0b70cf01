"""Document vectors encoded once per served model and collection, stored for every stage that searches them.

Stage `encode` writes one file per collection (the documents of one source,
in documents.jsonl order): the CSR arrays in safetensors with one metadata
entry (so the bytes depend only on what is stored: an unchanged encoding is
byte-identical and DVC skips what reads it) holding two fingerprints: the
exact texts and the model's document side. evaluate, evaluate_codeswitch, export's pruning
table and compare look an encoding up by both, so a stale or foreign
encoding is refused instead of silently scored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file
from scipy import sparse

from kosparse.errors import KosparseError
from kosparse.evaluation.retrieval import collection_key
from kosparse.io import dumps, sha256_file

METADATA_KEY = "kosparse"
# The files of a SparseEncoder's document route that decide its vectors (a served copy re-saves
# tokenizer_config.json with extra defaults, which changes nothing).
DOCUMENT_SIDE_FILES = ("*.safetensors", "config.json", "sentence_bert_config.json", "tokenizer.json")


def document_side_fingerprint(model_dir: str | Path) -> str:
    """Digest of the files that decide a model's document vectors: a trained model and its served copy share it."""
    folder = Path(model_dir)
    files = sorted(f for pattern in DOCUMENT_SIDE_FILES for f in folder.glob(f"document_*/{pattern}"))
    if not files:
        raise KosparseError(f"{folder}: no document_* route (not a trained SparseEncoder folder)")
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.relative_to(folder).as_posix()}\0{sha256_file(f)}\0".encode())
    return digest.hexdigest()


def save_encoding(path: Path, matrix: sparse.csr_matrix, texts: Sequence[str], fingerprint: str) -> None:
    if matrix.shape[0] != len(texts):
        raise KosparseError(f"{path}: {matrix.shape[0]} rows for {len(texts)} texts")
    arrays = {"data": matrix.data, "indices": matrix.indices, "indptr": matrix.indptr}
    metadata = {
        "rows": matrix.shape[0],
        "columns": matrix.shape[1],
        "texts_sha256": collection_key(texts),
        "document_side": fingerprint,
    }
    # One metadata entry: safetensors writes a metadata map in hash order, so several keys would make
    # the bytes differ from run to run.
    save_file(
        {k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(path), metadata={METADATA_KEY: dumps(metadata)}
    )


def load_encodings(folder: str | Path, model_dir: str | Path) -> dict[str, sparse.csr_matrix]:
    """{collection_key: matrix} of every collection in a stage `encode` folder, checked against the model."""
    folder = Path(folder)
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise KosparseError(f"{folder}: no encoded collections (run the encode stage)")
    expected = document_side_fingerprint(model_dir)
    encoded = {}
    for path in files:
        with safe_open(str(path), framework="numpy") as f:
            meta = json.loads((f.metadata() or {}).get(METADATA_KEY, "{}"))
            if meta.get("document_side") != expected:
                raise KosparseError(
                    f"{path}: encoded by another document side than {model_dir}'s (re-run the encode stage for it)"
                )
            arrays = {name: f.get_tensor(name) for name in ("data", "indices", "indptr")}
        shape = (int(meta["rows"]), int(meta["columns"]))
        encoded[meta["texts_sha256"]] = sparse.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape)
    return encoded
