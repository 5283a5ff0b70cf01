import numpy as np
import pytest
from scipy import sparse

from kosparse.synonyms.codeswitch import TermFinder, codeswitch_queries, expand_text, expand_vectors, token_ids_of


@pytest.fixture(scope="module")
def kiwi():
    from kiwipiepy import Kiwi

    return Kiwi(num_workers=1)


def test_codeswitched_queries_swap_one_term_found_in_the_positive(kiwi):
    pairs = [
        {"query_id": "q1", "query": "딥러닝 모델의 학습 방법", "positive_ids": ["d1"]},
        {"query_id": "q2", "query": "서울 날씨", "positive_ids": ["d2"]},
        {"query_id": "q3", "query": "OpenSearch 설치", "positive_ids": ["d3"]},
    ]
    positives = {
        "d1": "이 모델은 딥러닝으로 학습한다.",
        "d2": "부산은 항구 도시다.",
        "d3": "opensearch 를 설치하는 방법",
    }
    ko_en = {"모델": ["model"], "방법": ["method"], "날씨": ["weather"]}
    en_ko = {"opensearch": ["오픈서치"]}
    rows = codeswitch_queries(pairs, positives, kiwi, ko_en, en_ko)
    assert [(r["query_id"], r["query"], r["direction"]) for r in rows] == [
        ("q1", "딥러닝 model의 학습 방법", "ko_to_en"),  # 방법 is not in the positive: 모델 is swapped
        ("q3", "오픈서치 설치", "en_to_ko"),
    ]
    assert rows[0]["original_query"] == "딥러닝 모델의 학습 방법" and rows[0]["replaced"] == ["모델", "model"]


def test_term_finder_and_text_expansion():
    finder = TermFinder(["모델", "model", "ai", "인공지능"])
    assert finder("이 모델은 AI 를 쓴다고 said") == ["ai", "모델"]  # 'ai' inside 'said' does not count
    counterparts = {"모델": ["model"], "model": ["모델"], "ai": ["인공지능"], "인공지능": ["ai"]}
    assert expand_text("이 모델은 model 이다", finder, counterparts) == "이 모델은 model 이다"
    assert expand_text("인공지능 모델", finder, counterparts) == "인공지능 모델 ai model"


def test_vector_expansion_raises_counterpart_tokens_to_alpha_times_weight(splade_tiny):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(splade_tiny)
    ids = token_ids_of(tok, ["car", "automobile", "search"])
    car, auto, search = ids["car"][0], ids["automobile"][0], ids["search"][0]
    docs = sparse.csr_matrix(
        (np.array([2.0, 1.0, 3.0, 0.1], dtype=np.float32), ([0, 0, 1, 1], [car, search, car, auto])),
        shape=(2, len(tok)),
    )
    counterparts = {"car": ["automobile"], "automobile": ["car"]}
    finder = TermFinder(["car", "automobile"])
    out = expand_vectors(docs, ["a red car", "car or automobile"], finder, counterparts, ids, alpha=0.5)
    assert out[0, auto] == pytest.approx(1.0) and out[0, car] == 2.0 and out[0, search] == 1.0
    assert out[1, auto] == pytest.approx(1.5) and out[1, car] == 3.0  # 0.1 raised to 0.5·3; 3 > 0.5·0.1 kept
    assert (docs != expand_vectors(docs, ["none", "none"], finder, counterparts, ids, 0.5)).nnz == 0
