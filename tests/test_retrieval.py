from kosparse.data.analyzers import KiwiAnalyzer, whitespace_tokens
from kosparse.evaluation.retrieval import BM25Retriever, evaluate_retriever

DOCS = [
    {"id": "a", "source": "s", "text": "오픈서치는 희소 벡터 검색을 지원합니다."},
    {"id": "b", "source": "s", "text": "김치찌개는 한국의 대표적인 음식입니다."},
    {"id": "c", "source": "s", "text": "형태소 분석기는 한국어 문장을 형태소로 나눕니다."},
    {"id": "z", "source": "t", "text": "다른 데이터셋의 문서입니다."},
]


def test_kiwi_analyzer_drops_particles_and_endings():
    tokens = KiwiAnalyzer(["NNG", "NNP", "VV", "VA", "SL"])(["오픈서치는 검색을 지원합니다"])[0]
    assert "오픈서치" in tokens and "검색" in tokens
    assert "는" not in tokens and "을" not in tokens and "습니다" not in tokens


def test_kiwi_bm25_matches_inflected_forms_that_whitespace_misses():
    pairs = {"test": [{"source": "s", "query": "김치찌개가 뭐야", "positive_ids": ["b"]}]}
    kiwi = BM25Retriever("kiwi", KiwiAnalyzer(["NNG", "NNP"]))
    white = BM25Retriever("white", whitespace_tokens)
    assert evaluate_retriever(kiwi, DOCS, pairs, 10)["s"]["test"]["ndcg@10"] == 1.0
    assert evaluate_retriever(white, DOCS, pairs, 10)["s"]["test"]["ndcg@10"] == 0.0


def test_each_dataset_searches_only_its_own_collection_and_zero_scores_are_not_hits():
    retriever = BM25Retriever("white", whitespace_tokens)
    retriever.index([d["text"] for d in DOCS if d["source"] == "s"])
    assert retriever.search(["없는단어"], 10) == [[]]
    pairs = {"test": [{"source": "t", "query": "다른 문서입니다.", "positive_ids": ["z"]}]}
    result = evaluate_retriever(retriever, DOCS, pairs, 10)
    assert list(result) == ["t"] and result["t"]["test"]["queries"] == 1
    assert result["t"]["test"]["mrr@10"] == 1.0
