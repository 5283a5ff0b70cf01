import numpy as np
import pytest
from scipy import sparse
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from kosparse.data.analyzers import KiwiAnalyzer
from kosparse.model.vector_quality import functional_tokens, korean_quality, sparsity


def test_sparsity_hand_computed():
    docs = sparse.csr_matrix(np.array([[1.0, 0, 2.0, 0], [0, 0, 0, 0], [0.5, 0.5, 0.5, 0]]))
    queries = sparse.csr_matrix(np.array([[1.0, 0, 0, 0], [1.0, 0, 1.0, 0]]))
    stats = sparsity(docs, queries)
    assert stats["doc_active_dims_mean"] == round(5 / 3, 2)
    assert stats["doc_active_dims_p50"] == 2.0
    assert stats["all_zero_documents"] == 1
    assert stats["query_active_dims_mean"] == 1.5
    # P(doc has j) = [2/3, 1/3, 2/3, 0], P(query has j) = [1, 0, 1/2, 0]
    assert stats["flops"] == pytest.approx(2 / 3 * 1 + 2 / 3 * 0.5, abs=1e-4)


def test_particles_are_found_in_context_and_weighed():
    texts = ["학생이 학교에서 책을 읽었습니다.", "선생님이 교실에서 책을 읽습니다.", "친구가 도서관에서 공부를 합니다."]
    words = ["학생", "학교", "책", "선생님", "교실", "친구", "도서관", "공부", "읽", "합니다", "."]
    pieces_vocab = ["##이", "##에서", "##을", "##가", "##를", "##었", "##습니다", "##님"]
    backend = Tokenizer(
        models.WordPiece({t: i for i, t in enumerate(["[UNK]", *words, *pieces_vocab])}, unk_token="[UNK]")
    )
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.decoder = decoders.WordPiece()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]")
    kiwi = KiwiAnalyzer(["NNG"]).kiwi
    functional = functional_tokens(tok, kiwi, texts)
    vocab = tok.get_vocab()
    pieces = [t for t in ("##에서", "##을", "##이") if t in vocab]
    assert pieces and all(functional[vocab[t]] for t in pieces)
    assert not functional[vocab["책"]] and not functional[vocab["학교"]]

    keys = [tok.backend_tokenizer.decode([i]) for i in range(len(tok))]
    docs = np.zeros((1, len(tok)))
    docs[0, vocab["책"]] = 3.0
    docs[0, vocab[pieces[0]]] = 1.0
    quality = korean_quality(sparse.csr_matrix(docs), keys, functional, top_n=2)
    assert quality["particle_ending_weight_share"] == 0.25
    assert quality["word_weight_share"] == 0.75
    assert [t["token"] for t in quality["heaviest_tokens"]] == ["책", pieces[0]]
