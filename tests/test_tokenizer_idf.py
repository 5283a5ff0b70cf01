import json
import math
import unicodedata

import numpy as np
import pytest
from tokenizers import Tokenizer, decoders, models
from transformers import PreTrainedTokenizerFast

from kosparse.errors import KosparseError
from kosparse.model.idf import bm25_idf, document_frequencies, idf_table
from kosparse.model.tokenizer import SPECIAL_TOKENS, load_tokenizer, save_tokenizer, train_wordpiece

CORPUS = [
    "오픈서치는 검색 엔진입니다. OpenSearch supports Neural Sparse search.",
    "희소 벡터 모델(model)을 학습합니다. 모델 학습에는 데이터가 필요합니다.",
    "딥러닝 모델은 검색 품질을 높입니다. Deep learning Model",
    "한국어 형태소 분석기는 조사를 분리합니다.",
] * 5


@pytest.fixture(scope="module")
def tok():
    return train_wordpiece(CORPUS, vocab_size=300, max_length=32)


def test_scratch_tokenizer_keeps_hangul_syllables_and_lowercases_latin(tok):
    tokens = tok.tokenize("모델 학습 MODEL")
    assert "모델" in tokens and "학습" in tokens
    assert not any("\u1100" <= ch <= "\u11ff" for t in tokens for ch in t), "no conjoining jamo"
    assert all(t == t.lower() for t in tokens)
    assert tok.tokenize(unicodedata.normalize("NFD", "모델 학습")) == tok.tokenize("모델 학습")


def test_saved_tokenizer_has_truncation_and_reloads_identically(tok, tmp_path):
    save_tokenizer(tok, tmp_path, max_length=16)
    saved = json.loads((tmp_path / "tokenizer.json").read_text(encoding="utf-8"))
    assert saved["truncation"]["max_length"] == 16
    reloaded = load_tokenizer(tmp_path)
    text = unicodedata.normalize("NFD", "딥러닝 Model 학습 검색")
    assert reloaded(text)["input_ids"] == tok(text)["input_ids"]
    # OpenSearch loads tokenizer.json as is: truncation must come from the file
    assert len(Tokenizer.from_file(str(tmp_path / "tokenizer.json")).encode(" ".join(CORPUS)).ids) == 16


def test_vocab_size_must_exceed_special_tokens():
    with pytest.raises(KosparseError, match="vocab_size = 3"):
        train_wordpiece(CORPUS, vocab_size=3, max_length=8)


def test_load_tokenizer_without_tokenizer_json(tmp_path):
    with pytest.raises(KosparseError, match="no tokenizer.json"):
        load_tokenizer(tmp_path)


def test_bm25_idf_formula():
    idf = bm25_idf(np.array([0, 1, 10]), n_docs=10)
    assert idf[0] == pytest.approx(math.log(1 + 10.5 / 0.5))
    assert idf[1] == pytest.approx(math.log(1 + 9.5 / 1.5))
    assert idf[2] == pytest.approx(math.log(1 + 0.5 / 10.5))
    assert idf[0] > idf[1] > idf[2] > 0


def test_document_frequency_counts_documents_not_occurrences(tok):
    texts = ["모델 모델 모델", "모델 학습", "검색"]
    df = document_frequencies(tok, texts, batch_size=2)
    model_id = tok.convert_tokens_to_ids("모델")
    assert df[model_id] == 2
    assert df[tok.convert_tokens_to_ids("검색")] == 1
    assert df[tok.convert_tokens_to_ids("[CLS]")] == 0


def test_idf_keys_decode_from_exactly_one_id_and_skip_special_tokens(tok):
    table, collisions = idf_table(tok, np.ones(len(tok)))
    assert collisions == []
    assert not set(SPECIAL_TOKENS) & set(table)
    assert len(table) == len(tok) - len(SPECIAL_TOKENS)
    backend = tok.backend_tokenizer
    assert {backend.decode([i]) for i in range(len(tok)) if i not in tok.all_special_ids} == set(table)
    # what OpenSearch does for a query: tokenise, decode each id, look the string up
    ids = tok("모델 학습", add_special_tokens=False)["input_ids"]
    assert all(backend.decode([i]) in table for i in ids)


def test_decode_collisions_are_resolved_to_the_lowest_id():
    backend = Tokenizer(models.WordLevel({"[UNK]": 0, "x": 1, "X": 2, "y": 3}, unk_token="[UNK]"))
    backend.decoder = decoders.Replace("X", "x")  # makes ids 1 and 2 both decode to "x"
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]")
    table, collisions = idf_table(tok, np.array([9.0, 1.0, 2.0, 3.0]))
    assert table == {"x": 1.0, "y": 3.0}
    assert collisions == [{"key": "x", "kept_id": 1, "dropped_id": 2}]


def test_training_is_deterministic_and_never_unknown_on_its_corpus(tok):
    again = train_wordpiece(CORPUS, vocab_size=300, max_length=32)
    assert again.get_vocab() == tok.get_vocab()
    # at most the requested size; a BPE piece that is only the morpheme-cut marker is not a token
    assert 290 <= len(tok) <= 300
    unk = tok.convert_tokens_to_ids("[UNK]")
    assert all(unk not in tok(text)["input_ids"] for text in CORPUS)
