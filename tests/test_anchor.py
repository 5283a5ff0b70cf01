"""The BM25-anchored document side: at step 0 it is BM25 over the encoder's own tokens."""

import json

import numpy as np
import pytest
import torch

from kosparse.data.analyzers import KiwiAnalyzer
from kosparse.evaluation.retrieval import BM25Retriever, document_matrix, to_csr
from kosparse.model.anchor import BM25AnchoredPooling, bm25_tf_part
from kosparse.model.base_encoder import new_bert
from kosparse.model.idf import bm25_idf, document_frequencies, document_stats, idf_table
from kosparse.model.sparse_model import build_model, document_modules, load_encoder
from kosparse.model.tokenizer import (
    EncoderTokenAnalyzer,
    load_tokenizer,
    save_tokenizer,
    train_wordpiece,
    weighable_token_ids,
)

BM25 = {"k1": 1.5, "b": 0.75, "method": "lucene"}
WINDOW = 512


@pytest.fixture(scope="module")
def korean_setup(tmp_path_factory, korquad):
    """Real KorQuAD paragraphs and questions, a morpheme-cut tokenizer, its IDF and document stats, a small BERT."""
    articles = korquad["data"][:12]
    documents = [p["context"] for a in articles for p in a["paragraphs"]]
    queries = [qa["question"] for a in articles for p in a["paragraphs"] for qa in p["qas"]][:200]
    root = tmp_path_factory.mktemp("anchor")
    tok = train_wordpiece(documents, 3000, WINDOW, morpheme_cut=True)
    save_tokenizer(tok, root / "base", WINDOW)
    tok = load_tokenizer(root / "base")
    new_bert(tok, layers=1, hidden=32, heads=2, max_position=WINDOW).save_pretrained(root / "base")
    table, _ = idf_table(tok, bm25_idf(document_frequencies(tok, documents), len(documents)))
    (root / "idf.json").write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    stats = document_stats(tok, documents, KiwiAnalyzer([]).kiwi)
    return documents, queries, root, stats


def _model(root, stats, anchor=True, expansion_tokens=8):
    cfg = {"enabled": anchor, "expansion_tokens": expansion_tokens, "gate_scale": 1.0e2}
    model = build_model(root / "base", root / "idf.json", WINDOW, cfg, BM25, stats)
    return model.eval()


def test_step_zero_scores_are_bm25_over_the_encoder_tokens_on_real_documents(korean_setup):
    documents, queries, root, stats = korean_setup
    model = _model(root, stats)
    docs = document_matrix(model, documents, batch_size=16)
    encoded = to_csr(model.encode_query(queries, convert_to_sparse_tensor=True))
    model_scores = (encoded @ docs.T).toarray()

    analyzer = EncoderTokenAnalyzer(model.tokenizer, stats["functional_token_ids"])
    floor = BM25Retriever("bm25_tokens", analyzer.documents, BM25["k1"], BM25["b"], BM25["method"], analyzer.queries)
    floor.index(documents)
    bm25_scores = np.stack([floor.model.get_scores(q) for q in analyzer.queries(queries)])

    assert np.abs(model_scores - bm25_scores).max() < 1e-4 * bm25_scores.max()
    top10 = lambda s: [sorted(range(len(row)), key=lambda i: (-row[i], i))[:10] for row in s]  # noqa: E731
    assert top10(model_scores) == top10(bm25_scores)
    assert (bm25_scores.max(axis=1) > 0).mean() > 0.95  # real queries do match


def test_documents_weigh_only_their_own_tokens_and_a_bounded_expansion(korean_setup):
    documents, _, root, stats = korean_setup
    model = _model(root, stats, expansion_tokens=8)
    _, pooling = document_modules(model)
    with torch.no_grad():
        pooling.gate.fill_(0.01)  # as after some training: the learned part is on
    vectors = model.encode_document(documents[:8], convert_to_tensor=True, convert_to_sparse_tensor=False)
    tok = model.tokenizer
    for text, vector in zip(documents[:8], vectors, strict=True):
        own = set(tok(text, truncation=True)["input_ids"]) & set(
            weighable_token_ids(tok, stats["functional_token_ids"])
        )
        active = set(torch.nonzero(vector).flatten().tolist())
        assert own <= active  # a document never loses its own tokens' BM25 weight here
        assert 0 < len(active - own) <= 8
    unweighable = sorted(set(range(len(tok))) - set(weighable_token_ids(tok, stats["functional_token_ids"])))
    assert {tok.cls_token_id, tok.convert_tokens_to_ids("##는")} <= set(unweighable)
    assert float(vectors[:, unweighable].abs().max()) == 0.0  # special tokens, punctuation, particles never weigh


def test_without_the_anchor_a_document_is_splade_on_the_same_supports(korean_setup):
    documents, _, root, stats = korean_setup
    model = _model(root, stats, anchor=False, expansion_tokens=0)
    _, pooling = document_modules(model)
    assert pooling.gate is None
    vector = model.encode_document(documents[:1], convert_to_tensor=True, convert_to_sparse_tensor=False)[0]
    own = set(model.tokenizer(documents[0], truncation=True)["input_ids"])
    assert set(torch.nonzero(vector).flatten().tolist()) <= own


def test_the_anchored_model_saves_and_loads_with_its_gate(korean_setup, tmp_path):
    documents, _, root, stats = korean_setup
    model = _model(root, stats)
    with torch.no_grad():
        document_modules(model)[1].gate.fill_(0.02)
    model.save(str(tmp_path / "m"))
    loaded = load_encoder(tmp_path / "m")
    assert float(document_modules(loaded)[1].gate.detach()) == pytest.approx(0.02)
    a = model.encode_document(documents[:3], convert_to_tensor=True, convert_to_sparse_tensor=False)
    b = loaded.encode_document(documents[:3], convert_to_tensor=True, convert_to_sparse_tensor=False)
    assert torch.allclose(a, b)


def test_tf_part_saturates_and_normalises_by_length():
    tf = torch.tensor([[0.0, 1.0, 2.0, 10.0]])
    part = bm25_tf_part(tf, torch.tensor([[10.0]]), k1=1.5, b=0.75, avgdl=10.0)
    assert part[0, 0] == 0 and torch.all(part[0, 1:].diff() > 0) and part.max() < 1
    longer = bm25_tf_part(tf, torch.tensor([[40.0]]), k1=1.5, b=0.75, avgdl=10.0)
    assert torch.all(longer[0, 1:] < part[0, 1:])


def test_bad_bm25_settings_are_rejected():
    with pytest.raises(ValueError, match="avgdl=0"):
        BM25AnchoredPooling(10, avgdl=0.0)


def test_pooling_ignores_padding_and_its_gradient_is_the_masked_maximum():
    """The pooled weights and their gradient equal a plain masked amax over positions, padding never winning."""
    torch.manual_seed(0)
    vocab, length = 40, 6
    ids = torch.randint(1, vocab, (3, length))
    mask = torch.ones(3, length, dtype=torch.long)
    mask[1, 4:] = 0
    mask[2, 2:] = 0
    pooling = BM25AnchoredPooling(vocab, avgdl=4.0, expansion_tokens=5, anchor=False)
    logits = torch.randn(3, length, vocab)
    logits[mask == 0] = 50.0  # padding holds the largest logits: a pooling that reads it is wrong
    ours = logits.clone().requires_grad_()
    reference = logits.clone().requires_grad_()
    weights = pooling({"token_embeddings": ours, "input_ids": ids, "attention_mask": mask})["sentence_embedding"]
    masked = reference.masked_fill(mask.unsqueeze(-1) == 0, torch.finfo(logits.dtype).min).amax(dim=1)
    learned = torch.log1p(torch.relu(masked))
    assert weights.max() < 10  # no padded logit got through
    direction = torch.randn(vocab)
    (weights * direction).sum().backward()
    selected = (weights > 0).float()  # the supports the pooling kept
    (learned * selected * direction).sum().backward()
    assert torch.allclose(weights, learned * selected)
    assert torch.equal(ours.grad, reference.grad)

    with torch.no_grad():  # without autograd the same weights, the padding masked in place
        again = pooling({"token_embeddings": logits.clone(), "input_ids": ids, "attention_mask": mask})
    assert torch.equal(again["sentence_embedding"], weights.detach())
