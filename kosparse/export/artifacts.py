"""The artifact files: deterministic zips and the ML Commons registration bodies."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from kosparse.export.loading import Variant
from kosparse.export.tracing import trace_document_encoder

DOCUMENT_ZIP = "document_encoder.zip"

TOKENIZER_ZIP = "query_tokenizer.zip"

DOCUMENT_REGISTRATION = "register_document_encoder.json"

TOKENIZER_REGISTRATION = "register_query_tokenizer.json"

MANIFEST = "manifest.json"

MODEL_CARD = "README.md"

ARTIFACT_FILES = (DOCUMENT_ZIP, TOKENIZER_ZIP, DOCUMENT_REGISTRATION, TOKENIZER_REGISTRATION, MANIFEST, MODEL_CARD)

ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # fixed, so the same files give the same zip bytes


def deterministic_zip(files: dict[str, bytes]) -> bytes:
    """A zip whose bytes depend only on the file names and contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the host
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name], compresslevel=6)
    return buffer.getvalue()


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def model_names(prefix: str, variant: str) -> dict[str, str]:
    return {"document": f"{prefix}-{variant}-doc", "tokenizer": f"{prefix}-{variant}-tokenizer"}


def build_zips(variant: Variant, names: dict[str, str], example_text: str) -> dict[str, bytes]:
    document_files = {
        f"{names['document']}.pt": trace_document_encoder(variant, example_text),
        "tokenizer.json": variant.document_tokenizer.to_str(pretty=True).encode("utf-8"),
    }
    tokenizer_files = {
        "tokenizer.json": variant.query_tokenizer.to_str(pretty=True).encode("utf-8"),
        "idf.json": variant.idf_bytes,
    }
    return {DOCUMENT_ZIP: deterministic_zip(document_files), TOKENIZER_ZIP: deterministic_zip(tokenizer_files)}


def registration_body(
    name: str, version: str, function_name: str, description: str, zip_bytes: bytes, model_config: dict
) -> dict:
    """The `POST /_plugins/_ml/models/_register` body, less `url` (where the zip is served)."""
    return {
        "name": name,
        "version": version,
        "description": description,
        "model_format": "TORCH_SCRIPT",
        "function_name": function_name,
        "model_content_size_in_bytes": len(zip_bytes),
        "model_content_hash_value": hashlib.sha256(zip_bytes).hexdigest(),
        "model_config": model_config,
    }


def registration_bodies(variant: Variant, names: dict[str, str], version: str, zips: dict[str, bytes]) -> dict:
    """Both registration bodies.

    ML Commons needs no model_config for SPARSE_ENCODING / SPARSE_TOKENIZE, but
    its custom-model docs list model_type, embedding_dimension and
    framework_type as required, and SPARSE_ENCODING reads model_max_length for
    its warm-up; the values describe the vocabulary-sized sparse output.
    """
    config = variant.mlm.config
    vocab = config.vocab_size
    document_config = {
        "model_type": config.model_type,
        "embedding_dimension": vocab,
        "framework_type": "huggingface_transformers",
        "model_max_length": variant.max_length,
        "all_config": json.dumps(config.to_diff_dict(), sort_keys=True, separators=(",", ":")),
    }
    tokenizer_config = {
        "model_type": config.model_type,
        "embedding_dimension": vocab,
        "framework_type": "huggingface_transformers",
        "model_max_length": variant.query_tokenizer.truncation["max_length"],
    }
    return {
        DOCUMENT_REGISTRATION: registration_body(
            names["document"],
            version,
            "SPARSE_ENCODING",
            f"Korean inference-free sparse document encoder ({vocab}-token vocabulary, {variant.max_length} "
            "tokens per document). Ingest only; search with the matching SPARSE_TOKENIZE model "
            f"{names['tokenizer']}.",
            zips[DOCUMENT_ZIP],
            document_config,
        ),
        TOKENIZER_REGISTRATION: registration_body(
            names["tokenizer"],
            version,
            "SPARSE_TOKENIZE",
            f"Query tokenizer with the query IDF weights served with {names['document']}: each query token "
            "weighs its idf.json value. Search only.",
            zips[TOKENIZER_ZIP],
            tokenizer_config,
        ),
    }
