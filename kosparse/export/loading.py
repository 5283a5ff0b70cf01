"""A trained variant loaded for export, refused when OpenSearch could not serve it as trained."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import tokenizers
import torch

from kosparse.errors import KosparseError
from kosparse.model.anchor import BM25AnchoredPooling
from kosparse.model.sparse_model import idf_weights, load_encoder


@dataclass
class Variant:
    """A trained SparseEncoder folder, checked for export."""

    encoder: object  # SparseEncoder
    mlm: torch.nn.Module  # the document route's masked-LM
    pooling: torch.nn.Module  # the document route's BM25AnchoredPooling
    max_length: int  # document tokens the encoder sees, special tokens included
    document_tokenizer: tokenizers.Tokenizer  # truncation set to max_length
    query_tokenizer: tokenizers.Tokenizer  # truncation keeps as many query tokens as the project keeps
    idf_bytes: bytes  # the model folder's idf.json, byte for byte (its query weights)
    idf: dict[str, float]
    special_ids: list[int]
    idf_report: dict


def _router_folders(folder: Path) -> dict[str, list[str]]:
    config = folder / "router_config.json"
    if not (folder / "modules.json").is_file() or not config.is_file():
        raise KosparseError(
            f"{folder}: not a trained SparseEncoder folder with a query/document Router (train it first)"
        )
    structure = json.loads(config.read_text(encoding="utf-8")).get("structure", {})
    if set(structure) != {"query", "document"}:
        raise KosparseError(f"{config}: expected the routes query and document, found {sorted(structure)}")
    return structure


def idf_key_report(tok: tokenizers.Tokenizer, idf: dict[str, float], special_ids: Sequence[int]) -> dict:
    """How idf.json's keys relate to the vocabulary, read the way OpenSearch reads it (decode([id])).

    `missing`: tokens whose key is absent (OpenSearch would weigh them 1.0);
    `unknown`: keys no id decodes to; `special`: keys that are special tokens;
    `collisions`: keys more than one id decodes to (one weight serves them all).
    """
    special = set(special_ids)
    ids_of: dict[str, list[int]] = {}
    for token_id in range(tok.get_vocab_size(with_added_tokens=True)):
        if token_id not in special:
            ids_of.setdefault(tok.decode([token_id], skip_special_tokens=False), []).append(token_id)
    special_keys = {tok.id_to_token(i) for i in special}
    return {
        "keys": len(idf),
        "missing": sorted(k for k in ids_of if k not in idf),
        "unknown": sorted(k for k in idf if k not in ids_of and k not in special_keys),
        "special": sorted(k for k in idf if k in special_keys),
        "collisions": sorted(k for k, ids in ids_of.items() if len(ids) > 1),
    }


def load_variant(folder: str | Path) -> Variant:
    """Load a trained variant and refuse one OpenSearch could not serve faithfully."""
    from sentence_transformers.base.modules.transformer import Transformer
    from sentence_transformers.sparse_encoder.modules import SparseStaticEmbedding

    folder = Path(folder)
    if not folder.is_dir():
        raise KosparseError(f"{folder}: model folder not found (run the train stage first)")
    for route_folders in _router_folders(folder).values():
        for name in route_folders:
            module = folder / name
            if (module / "tokenizer_config.json").is_file() and not (module / "tokenizer.json").is_file():
                raise KosparseError(
                    f"{module}: tokenizer has no tokenizer.json; OpenSearch loads only that file "
                    "(save the model with a fast tokenizer)"
                )
    idf_path = folder / "idf.json"
    if not idf_path.is_file():
        raise KosparseError(f"{idf_path}: not found (train and query_idf save the idf.json of the query side here)")

    encoder = load_encoder(folder, device="cpu")  # traced on the CPU: OpenSearch's ML nodes load it there
    router = encoder[0]
    query, document = list(router.sub_modules["query"]), list(router.sub_modules["document"])
    shapes_ok = (
        len(query) == 1
        and isinstance(query[0], SparseStaticEmbedding)
        and len(document) == 2
        and isinstance(document[0], Transformer)
        and document[0].transformer_task == "fill-mask"
        and isinstance(document[1], BM25AnchoredPooling)
    )
    if not shapes_ok:
        raise KosparseError(
            f"{folder}: expected query [SparseStaticEmbedding] and document [Transformer(fill-mask), "
            f"BM25AnchoredPooling], found query {query} and document {document}"
        )
    transformer, static = document[0], query[0]
    tok = transformer.tokenizer
    idf_bytes = idf_path.read_bytes()
    idf = json.loads(idf_bytes)
    # The query side OpenSearch computes from idf.json must be the model's own query side.
    weights = idf_weights(tok, idf, str(idf_path))
    if not torch.equal(weights, static.weight.detach().float().cpu()):
        changed = int((weights != static.weight.detach().float().cpu()).sum())
        raise KosparseError(
            f"{idf_path}: {changed} token weights differ from the model's query weights; "
            "export the idf.json saved with the model"
        )

    special_ids = sorted(tok.all_special_ids)
    document_tokenizer = tokenizers.Tokenizer.from_str(tok.backend_tokenizer.to_str())
    document_tokenizer.no_padding()
    document_tokenizer.enable_truncation(transformer.max_seq_length)
    # The project tokenises queries without [CLS]/[SEP] and keeps max_seq_length tokens; OpenSearch
    # adds them, so its truncation must leave room for them.
    query_tokenizer = tokenizers.Tokenizer.from_str(static.tokenizer.backend_tokenizer.to_str())
    query_tokenizer.no_padding()
    query_tokenizer.enable_truncation(static.max_seq_length + query_tokenizer.num_special_tokens_to_add(False))
    report = idf_key_report(query_tokenizer, idf, special_ids)
    if report["special"]:
        raise KosparseError(f"{idf_path}: special tokens must not have weights: {report['special']}")
    return Variant(
        encoder=encoder,
        mlm=transformer.auto_model,
        pooling=document[1],
        max_length=transformer.max_seq_length,
        document_tokenizer=document_tokenizer,
        query_tokenizer=query_tokenizer,
        idf_bytes=idf_bytes,
        idf=idf,
        special_ids=special_ids,
        idf_report=report,
    )
