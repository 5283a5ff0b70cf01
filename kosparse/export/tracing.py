"""The document side as one TorchScript module that DJL can call, traced without debug info."""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Iterator, Sequence

import tokenizers
import torch

from kosparse.errors import KosparseError
from kosparse.export.loading import Variant


class OpenSearchDocumentEncoder(torch.nn.Module):
    """The whole document side in one module: masked-LM logits → BM25AnchoredPooling.

    The pooling computes the BM25 part from `input_ids` / `attention_mask` and
    never weighs special tokens (OpenSearch drops them anyway: they decode to
    ""), so the trace needs nothing but what DJL passes it.
    """

    def __init__(self, mlm: torch.nn.Module, pooling: torch.nn.Module):
        super().__init__()
        self.mlm, self.pooling = mlm, pooling

    def forward(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        ids, mask = features["input_ids"], features["attention_mask"]
        logits = self.mlm(input_ids=ids, attention_mask=mask)[0]
        pooled = self.pooling({"token_embeddings": logits, "input_ids": ids, "attention_mask": mask})
        return {"output": pooled["sentence_embedding"]}


def encode_batch(tok: tokenizers.Tokenizer, texts: Sequence[str]) -> dict[str, torch.Tensor]:
    """input_ids and attention_mask as OpenSearch builds them (tokenizer.json's truncation, padded batch)."""
    batch = copy.deepcopy(tok)
    batch.enable_padding(pad_id=tok.token_to_id("[PAD]") or 0)
    encodings = batch.encode_batch(list(texts))
    return {
        "input_ids": torch.tensor([e.ids for e in encodings], dtype=torch.long),
        "attention_mask": torch.tensor([e.attention_mask for e in encodings], dtype=torch.long),
    }


# The exported trace computes attention with plain matmul/softmax: older libtorch builds in
# OpenSearch's DJL load it, which they do not for scaled_dot_product_attention.
EXPORTED_ATTENTION = "eager"


@contextlib.contextmanager
def attention_implementation(mlm: torch.nn.Module, implementation: str) -> Iterator[None]:
    """The masked-LM set to one attention implementation for the block, then set back."""
    before = mlm.config._attn_implementation
    mlm.set_attn_implementation(implementation)
    try:
        yield
    finally:
        mlm.set_attn_implementation(before)


def trace_document_encoder(variant: Variant, example_text: str) -> bytes:
    """TorchScript bytes of the document side.

    Traced with EXPORTED_ATTENTION, and on a padded batch (a document and its
    first word) so the attention-mask path is recorded.
    """
    mlm = copy.deepcopy(variant.mlm).eval()
    mlm.set_attn_implementation(EXPORTED_ATTENTION)
    module = OpenSearchDocumentEncoder(mlm, copy.deepcopy(variant.pooling)).eval()
    example = encode_batch(variant.document_tokenizer, [example_text, example_text.split()[0]])
    if len(set(example["attention_mask"].sum(dim=1).tolist())) < 2:
        raise KosparseError(f"tracing needs an example document longer than one word, got {example_text!r}")
    with torch.no_grad():
        traced = torch.jit.trace(module, (example,), strict=False)
    buffer = io.BytesIO()  # a file object gives the archive a fixed inner folder name ("archive")
    torch.jit.save(traced, buffer)
    return without_debug_info(buffer.getvalue())


def without_debug_info(pt: bytes) -> bytes:
    """The TorchScript archive less its *.debug_pkl records.

    They hold source ranges with absolute paths and line numbers of this file
    and of transformers, so the same model exported from another checkout or
    venv would differ byte for byte; loading and running do not need them.
    PyTorch's own archive reader/writer keep the format (alignment, version).
    """
    reader = torch._C.PyTorchFileReader(io.BytesIO(pt))
    written_by_writer = {".data/version", "version", "byteorder", ".data/serialization_id"}
    out = io.BytesIO()
    writer = torch._C.PyTorchFileWriter(out)
    for name in sorted(reader.get_all_records()):
        if not name.endswith(".debug_pkl") and name not in written_by_writer:
            record = reader.get_record(name)
            writer.write_record(name, record, len(record))
    writer.write_end_of_file()
    return out.getvalue()
