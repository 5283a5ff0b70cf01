from kosparse.data.expansion import expanded_documents

DOCS = [
    {"id": "d1", "text": "세종은 1446년에 훈민정음을 반포하였다."},
    {"id": "d2", "text": "오픈서치는 검색 엔진이다."},
]
SYNTHETIC = [
    {"kind": "doc2query", "doc_id": "d1", "query": "훈민정음 반포 연도"},
    {"kind": "paraphrase", "doc_id": "d1", "query": "한글 만든 해"},
    {"kind": "doc2query", "doc_id": "d1", "query": "세종 업적"},
]


def test_only_named_documents_grow_and_only_by_the_chosen_generators():
    out = expanded_documents(DOCS, SYNTHETIC, ["doc2query"])
    assert out[0]["text"] == "세종은 1446년에 훈민정음을 반포하였다.\n훈민정음 반포 연도\n세종 업적"
    assert out[1] is DOCS[1] and DOCS[0]["text"].endswith("반포하였다.")  # inputs untouched
    assert expanded_documents(DOCS, SYNTHETIC, []) == DOCS
