import unicodedata

from kosparse.data.collect import Collection, add_qa_source, add_query_passages_source, check_no_leak, split_for_index
from kosparse.data.text import han_or_kana_absent_from, has_hangul, normalize_text

SPLIT = {"modulus": 5, "test_remainder": 4, "validation_remainder": 3}


def test_normalize_recomposes_hangul_and_collapses_whitespace():
    decomposed = unicodedata.normalize("NFD", "  모델\u00a0학습\n\t검색  ")
    assert len(decomposed) > len("모델 학습 검색") + 4
    assert normalize_text(decomposed) == "모델 학습 검색"


def test_has_hangul():
    assert has_hangul("BM25 검색")
    assert not has_hangul("BM25 search")


def test_han_or_kana_absent_from_names_only_characters_the_reference_lacks():
    assert han_or_kana_absent_from("침대 벌레为何存在", "침대 벌레는 왜 생기나요?") == "为何存在"
    assert han_or_kana_absent_from("日本에서 재배되는 작물", "일본 농업") == "日本"
    assert han_or_kana_absent_from("ポケモン 게임", "포켓몬") == "ポケモン"
    assert han_or_kana_absent_from("태평고(太平鼓)의 뜻", "엠블럼 태평고(太平鼓)") == ""
    assert han_or_kana_absent_from("BM25 검색, 2.0 版", "BM25") == "版"


def test_split_for_index_follows_the_modulo_rule():
    assert [split_for_index(i, 5, 4, 3) for i in range(10)] == (["train"] * 3 + ["validation", "test"]) * 2
    assert split_for_index(3, 5, 4, None) == "train"


def _articles(n):
    return [
        {
            "title": f"문서 {a}",
            "paragraphs": [
                {
                    "context": f"제목 {a}의 {p}번째 문단은 충분히 긴 한국어 문장입니다.",
                    "qas": [{"id": f"{a}-{p}-{q}", "question": f"질문 {a} {p} {q}?"} for q in range(2)],
                }
                for p in range(3)
            ],
        }
        for a in range(n)
    ]


def test_article_split_puts_each_article_in_one_split_only():
    col = Collection(min_doc_chars=5, min_query_chars=2)
    add_qa_source(col, "kq", _articles(12), SPLIT, {})
    article_splits = {}
    for split, pairs in col.pairs.items():
        for pair in pairs:
            article = pair["positive_ids"][0].split("-")[1]
            article_splits.setdefault(article, set()).add(split)
    assert all(len(s) == 1 for s in article_splits.values())
    assert article_splits["00004"] == {"test"} and article_splits["00003"] == {"validation"}
    assert article_splits["00009"] == {"test"} and article_splits["00000"] == {"train"}
    assert check_no_leak(col.pairs, col.documents) == {"validation": 0, "test": 0}
    assert col.metrics()["kq"]["articles_per_split"] == {"train": 8, "validation": 2, "test": 2}


def test_duplicate_documents_are_merged_and_pairs_remapped():
    articles = _articles(2)
    articles[1]["paragraphs"][0]["context"] = "  " + articles[0]["paragraphs"][2]["context"].replace(" ", "   ")
    col = Collection(min_doc_chars=5, min_query_chars=2)
    add_qa_source(col, "kq", articles, SPLIT, {})
    assert len(col.documents) == 5
    remapped = [p for p in col.pairs["train"] if p["query_id"].startswith("kq-1-0-")]
    assert [p["positive_ids"] for p in remapped] == [["kq-00000-002"], ["kq-00000-002"]]
    assert col.metrics()["kq"]["documents_dropped"] == {"duplicate": 1}


def test_short_documents_and_queries_are_dropped_with_reasons():
    col = Collection(min_doc_chars=10, min_query_chars=3)
    records = [
        {"id": 1, "query": "검색 엔진", "positive": ["짧다", "오픈서치는 검색 엔진입니다."]},
        {"id": 2, "query": "  ", "positive": ["오픈서치는 검색 엔진입니다."]},
        {"id": 4, "query": "희소 벡터", "positive": ["짧다"]},
        {"id": 9, "query": "희소 검색", "positive": ["희소 벡터로 검색하는 방법입니다."]},
    ]
    add_query_passages_source(col, "mm", records, {**SPLIT, "validation_remainder": None}, {"machine_translated": True})
    stats = col.metrics()["mm"]
    assert stats["documents_dropped"] == {"duplicate": 2, "too_short": 1}
    assert stats["queries_dropped"] == {"empty": 1, "no_positive_document": 1}
    assert [p["query_id"] for p in col.pairs["train"]] == ["mm-1"]
    assert col.pairs["train"][0]["positive_ids"] == ["mm-000001"]
    assert [p["query_id"] for p in col.pairs["test"]] == ["mm-9"]
    assert col.pairs["test"][0]["machine_translated"] is True
