import datetime as dt
import json
import subprocess
import sys

import pytest
import yaml
from conftest import REPO, TINY_DOCUMENT_SIDE

from kosparse.data.trends import document_date, terms_per_document, trending
from kosparse.errors import InputError, KosparseError
from kosparse.synonyms.idf_adjust import apply_boosts, query_idf, set_query_idf, shared_idf

CFG = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))["trends"]
NEWEST = dt.date(2026, 3, 31)


def dated_corpus() -> list[dict]:
    """120 history documents over 90 days and 20 recent ones (7 days).

    오픈서치 surges (absent before, in 12 of 20 recent documents); 날씨 is flat
    (in every third document of both windows); 2026 is digits only.
    """
    docs = []
    for i in range(120):
        text = "오늘 서울 날씨 맑음 2026" if i % 3 == 0 else "주식 시장 소식 2026"
        docs.append({"id": f"h{i}", "text": text, "date": (NEWEST - dt.timedelta(days=7 + i % 90)).isoformat()})
    for i in range(20):
        parts = ["오늘 서울 날씨 맑음" if i % 3 == 0 else "주식 시장 소식", "오픈서치 검색 엔진 출시" if i < 12 else ""]
        docs.append({"id": f"r{i}", "text": " ".join(parts), "date": (NEWEST - dt.timedelta(days=i % 7)).isoformat()})
    return docs


@pytest.fixture(scope="module")
def kiwi():
    from kiwipiepy import Kiwi

    return Kiwi(num_workers=1)


def test_a_surging_term_is_found_and_boosted_within_bounds_and_a_flat_one_is_not(kiwi):
    docs = dated_corpus()
    result = trending([document_date(d, "x") for d in docs], terms_per_document(kiwi, [d["text"] for d in docs]), CFG)
    assert result["status"] == "ok" and result["documents"] == {
        "total": 140,
        "dated": 140,
        "recent": 20,
        "history": 120,
    }
    assert result["windows"]["recent"] == ["2026-03-25", "2026-03-31"]
    by_term = {t["term"]: t for t in result["terms"]}
    assert "오픈서치" in by_term and by_term["오픈서치"]["recent_df"] == 12 and by_term["오픈서치"]["history_df"] == 0
    assert 1.0 < by_term["오픈서치"]["boost"] <= CFG["max_boost"]
    assert "날씨" not in by_term and "2026" not in by_term and "서울" not in by_term
    assert all(1.0 <= t["boost"] <= CFG["max_boost"] for t in result["terms"])


def test_undated_documents_give_an_empty_result_and_one_log_line(tmp_path):
    docs = tmp_path / "documents.jsonl"
    docs.write_text(
        "".join(
            json.dumps({"id": f"d{i}", "source": "s", "text": "오픈서치 검색"}, ensure_ascii=False) + "\n"
            for i in range(3)
        ),
        encoding="utf-8",
    )
    out, metrics = tmp_path / "trends.json", tmp_path / "metrics.json"
    done = subprocess.run(
        [sys.executable, "-m", "scripts.03_trends", "--documents", str(docs), "--out", str(out),
         "--metrics", str(metrics)],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["status"] == "no_dates" and result["terms"] == [] and result["documents"]["dated"] == 0
    assert [line for line in done.stderr.splitlines() if "03_trends" in line] == [
        next(line for line in done.stderr.splitlines() if "no document has a date (3 documents)" in line)
    ]


def test_a_malformed_date_names_the_document():
    with pytest.raises(InputError, match="docs.jsonl: document d7: date '31/03/2026' is not ISO 8601"):
        document_date({"id": "d7", "date": "31/03/2026"}, "docs.jsonl")
    assert document_date({"id": "d8"}, "x") is None
    assert document_date({"id": "d9", "date": "2026-03-31T10:00:00Z"}, "x") == NEWEST


def test_boosts_and_shared_idf_change_only_single_token_terms_within_bounds(splade_tiny):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(splade_tiny)
    idf = {"car": 2.0, "automobile": 4.0, "search": 3.0, "engine": 1.0, "##s": 0.5}
    boosted, stats = apply_boosts(idf, {"search": 9.0, "engine": 1.2, "searchengines": 2.0}, tok, max_boost=1.5)
    assert boosted["search"] == 4.5 and boosted["engine"] == 1.2 and boosted["##s"] == 0.5
    assert stats == {"terms": 3, "boosted_keys": 2}
    shared, stats = shared_idf(idf, [["car", "automobile"], ["search"]], tok, "max")
    assert shared["car"] == shared["automobile"] == 4.0 and shared["search"] == 3.0
    assert stats["groups_applied"] == 1 and stats["keys_changed"] == 1
    mean, _ = shared_idf(idf, [["car", "automobile"]], tok, "mean")
    assert mean["car"] == 3.0


def test_served_query_idf_shares_then_boosts_and_leaves_documents_alone(splade_tiny, splade_tiny_idf):
    import json

    import torch

    from kosparse.model.sparse_model import build_model

    model = build_model(splade_tiny, splade_tiny_idf, 64, **TINY_DOCUMENT_SIDE)
    trained = json.loads(splade_tiny_idf.read_text(encoding="utf-8"))
    trend = [{"term": "engines", "boost": 1.4}]
    table, stats = query_idf(trained, [["search", "engines"]], trend, model.tokenizer, "min", max_boost=1.5)
    low = min(trained["search"], trained["engines"])
    assert table["search"] == low and table["engines"] == round(low * 1.4, 6)
    assert stats["shared_idf"]["groups_applied"] == 1 and stats["trend_boosts"]["boosted_keys"] == 1
    assert stats["keys_changed"] == sum(table[k] != trained[k] for k in trained) >= 1

    docs = ["Search engines rank web pages."]
    before_docs = model.encode_document(docs, convert_to_tensor=True).to_dense()
    set_query_idf(model, table)
    query = model.encode_query(["search engines"], convert_to_tensor=True).to_dense()[0]
    ids = model.tokenizer("search engines", add_special_tokens=False)["input_ids"]
    assert sorted(round(float(query[i]), 5) for i in ids) == sorted([round(low, 5), round(low * 1.4, 5)])
    assert torch.equal(model.encode_document(docs, convert_to_tensor=True).to_dense(), before_docs)
    with pytest.raises(KosparseError, match="does not match the tokenizer"):
        set_query_idf(model, {"search": 1.0})
