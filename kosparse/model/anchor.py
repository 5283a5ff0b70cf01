"""The document side anchored at BM25 over the encoder's own tokens.

A document token's weight is its BM25 term-frequency part (Lucene form, as
bm25s computes it)

    tf / (tf + k1 · (1 − b + b · dl / avgdl))

plus a learned part, gated by one scalar that starts at 0. With the query
side an IDF table, the score Σ idf(q) · weight(q) at step 0 *is* BM25 over
the encoder's tokens, so training can only start from the lexical floor, not
below it. The learned part is SPLADE's log(1 + ReLU(logits)), max over
positions, on two supports only: the document's own tokens (re-weighting) and
its `expansion_tokens` highest-scoring other tokens (expansion). That makes
the vectors sparse by construction (unique document tokens + at most
`expansion_tokens`) instead of by a regulariser that trades quality for size.
Special tokens, tokens with no letter or digit, and the corpus's particle and
ending tokens are never weighted.

Everything is computed from `input_ids`, `attention_mask` and the logits
inside `forward`, so the TorchScript trace of the whole document side
reproduces it in OpenSearch.

With `anchor=False` the BM25 part and the gate are gone: plain SPLADE on the
same supports (the ablation).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from sentence_transformers.base.modules.module import Module
from transformers import PreTrainedTokenizerBase

from kosparse.model.tokenizer import weighable_token_ids


def weightable_mask(tok: PreTrainedTokenizerBase, excluded: Iterable[int] = ()) -> torch.Tensor:
    """1 for the tokens a document vector may weigh (`weighable_token_ids`), else 0."""
    mask = torch.zeros(len(tok))
    mask[weighable_token_ids(tok, excluded)] = 1.0
    return mask


def bm25_tf_part(tf: torch.Tensor, doc_length: torch.Tensor, k1: float, b: float, avgdl: float) -> torch.Tensor:
    """Lucene BM25's term-frequency factor (no k1 + 1 numerator), 0 where tf is 0."""
    norm = k1 * (1.0 - b + b * doc_length / avgdl)
    return tf / (tf + norm).clamp_min(1e-9)


class BM25AnchoredPooling(Module):
    config_keys: list[str] = ["vocab_size", "k1", "b", "avgdl", "expansion_tokens", "anchor", "gate_scale"]

    def __init__(
        self,
        vocab_size: int,
        k1: float = 1.5,
        b: float = 0.75,
        avgdl: float = 1.0,
        expansion_tokens: int = 0,
        anchor: bool = True,
        gate_scale: float = 1.0e2,
    ):
        super().__init__()
        if avgdl <= 0 or k1 <= 0 or not 0.0 <= b <= 1.0:
            raise ValueError(f"BM25 parameters out of range: k1={k1}, b={b}, avgdl={avgdl}")
        self.vocab_size, self.k1, self.b, self.avgdl = vocab_size, k1, b, avgdl
        self.expansion_tokens, self.anchor, self.gate_scale = expansion_tokens, anchor, gate_scale
        self.register_buffer("weightable", torch.ones(vocab_size))
        # Optimisers move a parameter by about the learning rate per step; the fixed scale lets the
        # gate travel from 0 to the learned part's natural size within a short run.
        self.gate = torch.nn.Parameter(torch.zeros(())) if anchor else None

    def forward(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        logits, ids, mask = features["token_embeddings"], features["input_ids"], features["attention_mask"]
        counted = self.weightable[ids] * mask.to(self.weightable.dtype)
        tf = torch.zeros(ids.shape[0], logits.shape[-1], dtype=logits.dtype, device=logits.device)
        tf = tf.scatter_add(1, ids, counted.to(logits.dtype))
        in_document = tf > 0

        # max_t log(1 + ReLU(x_t)) = log(1 + ReLU(max_t x_t)): pool first, one [batch, vocab] result.
        # Every [batch, length, vocab] pass costs about as much as the decoder's matrix product, so:
        # without autograd the padding is masked in place (no copy), and the maximum is max, not
        # amax, whose backward compares every logit with it (a third of a training step); max's
        # backward scatters into the winning position, the same gradient when there are no ties.
        pad, lowest = mask.unsqueeze(-1) == 0, torch.finfo(logits.dtype).min
        padded = logits.masked_fill(pad, lowest) if logits.requires_grad else logits.masked_fill_(pad, lowest)
        learned = torch.log1p(torch.relu(padded.max(dim=1).values)) * self.weightable.to(logits.dtype)
        kept = torch.where(in_document, learned, torch.zeros_like(learned))
        if self.expansion_tokens > 0:
            expansion = torch.where(in_document, torch.zeros_like(learned), learned)
            kth = expansion.topk(self.expansion_tokens, dim=1).values[:, -1:]
            kept = kept + torch.where((expansion >= kth) & (expansion > 0), expansion, torch.zeros_like(expansion))

        if self.gate is None:
            weights = kept
        else:
            doc_length = counted.sum(dim=1, keepdim=True).to(logits.dtype)
            anchor = bm25_tf_part(tf, doc_length, self.k1, self.b, self.avgdl)
            weights = torch.relu(anchor + self.gate * self.gate_scale * kept)
        features["sentence_embedding"] = weights
        return features

    def get_embedding_dimension(self) -> int:
        return self.vocab_size

    def save(self, output_path: str, *args, safe_serialization: bool = True, **kwargs) -> None:
        self.save_config(output_path)
        self.save_torch_weights(output_path, safe_serialization=safe_serialization)

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", **kwargs) -> BM25AnchoredPooling:
        hub = {k: kwargs[k] for k in ("token", "cache_folder", "revision", "local_files_only") if k in kwargs}
        module = cls(**cls.load_config(model_name_or_path, subfolder=subfolder, **hub))
        return cls.load_torch_weights(model_name_or_path, subfolder=subfolder, model=module, **hub)
