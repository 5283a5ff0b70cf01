import pytest
import torch

from kosparse.errors import KosparseError
from kosparse.model.base_encoder import AllPositionsCollator, check_vocab, mlm_chunks
from kosparse.model.tokenizer import train_wordpiece

TEXTS = [
    "오픈서치는 검색 엔진입니다.",
    "희소 벡터 모델을 학습합니다.",
    "한국어 형태소 분석기는 조사를 분리합니다.",
] * 20


@pytest.fixture(scope="module")
def tok():
    return train_wordpiece(TEXTS, vocab_size=200, max_length=64)


def test_chunks_are_fixed_length_blocks_with_cls_and_sep(tok):
    chunks = mlm_chunks(tok, TEXTS, 16)
    assert chunks and all(len(c) == 16 for c in chunks)
    assert all(c[0] == tok.cls_token_id and c[-1] == tok.sep_token_id for c in chunks)
    with pytest.raises(KosparseError, match="base.seq_len = 4"):
        mlm_chunks(tok, TEXTS, 4)


def test_all_positions_collator_labels_every_token_and_still_masks(tok):
    chunks = mlm_chunks(tok, TEXTS, 32)
    batch = AllPositionsCollator(tok, mlm_probability=0.15, seed=1)([{"input_ids": c} for c in chunks])
    original = torch.tensor(chunks)
    assert torch.equal(batch["labels"], original), "every position is a training target"
    assert (batch["input_ids"] == tok.mask_token_id).any(), "inputs are still masked"
    assert (batch["input_ids"] != original).float().mean() < 0.3


def test_vocabulary_mismatch_is_named():
    with pytest.raises(KosparseError, match="the model has 30522 output tokens but the tokenizer has 32000"):
        check_vocab(30522, 32000, "models/base")
