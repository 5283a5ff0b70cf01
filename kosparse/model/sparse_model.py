"""The inference-free sparse encoder: a BM25-anchored document side, a tokenizer + IDF query side.

Document: masked-LM logits and the document's own tokens → BM25AnchoredPooling
(kosparse.model.anchor): BM25's term-frequency part plus a gated, sparse SPLADE part,
one weight per vocabulary token. Query: no model — each token present in the
query gets its idf.json weight, exactly what OpenSearch's SPARSE_TOKENIZE
model returns.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from sentence_transformers import SparseEncoder
from sentence_transformers.base.modules.router import Router
from sentence_transformers.base.modules.transformer import Transformer
from sentence_transformers.sparse_encoder.modules import SparseStaticEmbedding
from transformers import PreTrainedTokenizerFast

from kosparse.device import torch_device
from kosparse.errors import KosparseError
from kosparse.model.anchor import BM25AnchoredPooling, weightable_mask
from kosparse.model.idf import decoded_keys


def idf_weights(tok: PreTrainedTokenizerFast, idf: dict[str, float], idf_path: str = "idf.json") -> torch.Tensor:
    """One weight per token id, looked up by decode([id]) as OpenSearch does; special tokens weigh 0."""
    special = set(tok.all_special_ids)
    keys = decoded_keys(tok, (i for i in range(len(tok)) if i not in special))
    missing = sorted({k for k in keys.values() if k not in idf})
    unknown = sorted(set(idf) - set(keys.values()))
    if missing or unknown:
        raise KosparseError(
            f"{idf_path} does not match the tokenizer ({len(tok)} tokens): "
            f"{len(missing)} tokens have no weight (e.g. {missing[:3]}), "
            f"{len(unknown)} keys are not in the vocabulary (e.g. {unknown[:3]}); rebuild it with the idf stage"
        )
    weight = torch.zeros(len(tok), dtype=torch.float32)
    for token_id, key in keys.items():
        weight[token_id] = idf[key]
    return weight


def build_model(
    base_path: str | Path,
    idf_path: str | Path,
    max_length: int,
    anchor: dict,
    bm25: dict,
    stats: dict,
) -> SparseEncoder:
    """Router(query: SparseStaticEmbedding(idf, frozen), document: MLM Transformer + BM25AnchoredPooling).

    `anchor` is params `train.anchor` (enabled, expansion_tokens, gate_scale); `bm25` gives k1 and b
    (params `evaluate.bm25`, the floor's own); `stats` is the idf stage's document_stats.json
    (avgdl, and the functional tokens no document weighs).
    """
    if not (Path(base_path) / "config.json").is_file():
        raise KosparseError(f"{base_path}: no base model here (run the base_encoder stage first)")
    document = Transformer(str(base_path), transformer_task="fill-mask", max_seq_length=max_length)
    tok = document.tokenizer
    vocab = document.auto_model.config.vocab_size
    if vocab != len(tok):
        raise KosparseError(f"{base_path}: model has {vocab} output tokens, its tokenizer {len(tok)}")
    idf = json.loads(Path(idf_path).read_text(encoding="utf-8"))
    query = SparseStaticEmbedding(tokenizer=tok, weight=idf_weights(tok, idf, str(idf_path)), frozen=True)
    pooling = BM25AnchoredPooling(
        vocab,
        k1=bm25["k1"],
        b=bm25["b"],
        avgdl=stats["avgdl"],
        expansion_tokens=anchor["expansion_tokens"],
        anchor=anchor["enabled"],
        gate_scale=anchor["gate_scale"],
    )
    pooling.weightable.copy_(weightable_mask(tok, stats["functional_token_ids"]))
    router = Router.for_query_document(query_modules=[query], document_modules=[document, pooling])
    return SparseEncoder(modules=[router], similarity_fn_name="dot")


def load_encoder(folder: str | Path, device: str | None = None) -> SparseEncoder:
    """A saved variant. Its document side is kosparse's own BM25AnchoredPooling, which
    sentence-transformers imports only with trust_remote_code; here that code is this package."""
    if not Path(folder, "modules.json").is_file():
        raise KosparseError(f"{folder}: not a SparseEncoder folder (train it first)")
    return SparseEncoder(str(folder), device=device or torch_device(), trust_remote_code=True)


def document_modules(model: SparseEncoder) -> tuple[Transformer, BM25AnchoredPooling]:
    """The document route's (Transformer, BM25AnchoredPooling)."""
    transformer, pooling = model[0].sub_modules["document"]
    return transformer, pooling


def save_encoder(model: SparseEncoder, out_dir: str | Path) -> None:
    """`model.save`, minus the model card's wall-clock section: equal weights then give a byte-identical folder."""
    model.save(str(out_dir))
    card = Path(out_dir) / "README.md"
    if card.is_file():
        card.write_text(drop_section(card.read_text(encoding="utf-8"), "### Training Time"), encoding="utf-8")


def drop_section(markdown: str, heading: str) -> str:
    """`markdown` without the line `heading` and its body, which runs to the next heading of any level."""
    kept, dropping = [], False
    for line in markdown.splitlines(keepends=True):
        if line.startswith("#"):
            dropping = line.rstrip("\n") == heading
        if not dropping:
            kept.append(line)
    return "".join(kept)
