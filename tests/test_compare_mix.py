import pytest

from kosparse.compare import (
    acceptance_rows,
    codeswitch_markdown,
    codeswitch_table,
    comparison,
    differing_queries,
    distillation_sentence,
    markdown_table,
    retrieval_rows,
    verdict,
)
from kosparse.errors import KosparseError
from kosparse.mix import mix_pairs, synthetic_training_pairs


def _result(ndcg):
    return {"ko": {"test": {"ndcg@10": ndcg, "mrr@10": ndcg, "recall@10": ndcg, "recall@100": ndcg}}}


def test_comparison_and_verdict_follow_the_numbers():
    table = comparison({"bm25_kiwi": _result(0.9)}, {"v1": {"v1": _result(0.70)}, "v2": {"v2": _result(0.75)}})
    assert table["ko"]["ndcg@10"] == {"bm25_kiwi": 0.9, "v1": 0.7, "v2": 0.75, "v2-v1": 0.05}
    assert verdict(table).startswith("Synthetic data helped")
    flat = comparison({}, {"v1": {"v1": _result(0.70)}, "v2": {"v2": _result(0.71)}})
    assert verdict(flat).startswith("No clear gain")
    worse = comparison({}, {"v1": {"v1": _result(0.70)}, "v2": {"v2": _result(0.60)}})
    assert verdict(worse).startswith("Synthetic data hurt")


def test_the_distilled_variant_gets_its_own_delta_to_v1():
    models = {"v1": {"v1": _result(0.70)}, "v2": {"v2": _result(0.71)}, "v1_distill": {"v1_distill": _result(0.655)}}
    table = comparison({}, models)
    assert table["ko"]["ndcg@10"]["v1_distill-v1"] == -0.045 and table["ko"]["ndcg@10"]["v2-v1"] == 0.01
    assert distillation_sentence(table, "kl", "gemma") == (
        "Distillation (kl from `gemma`, v1's data): v1_distill − v1 = ko -4.5 nDCG@10 points."
    )
    assert "| ndcg@10 | 0.7000 | 0.6550 | -0.0450 |" in markdown_table(table, ["v1", "v1_distill", "v1_distill-v1"])
    assert distillation_sentence(comparison({}, {"v1": {"v1": _result(0.7)}}), "kl", "gemma").endswith("yet.")


def test_differing_queries_lists_fixes_first():
    queries = [{"query": q, "positive_ids": ["a"]} for q in ("same", "fixed", "broken")]
    v1 = [["a", "b"], ["b", "a"], ["a", "c"]]
    v2 = [["a", "c"], ["a", "b"], ["c", "a"]]
    rows = differing_queries(queries, v1, v2, limit=5)
    assert [(r["query"], r["v1_correct"], r["v2_correct"]) for r in rows] == [
        ("fixed", False, True),
        ("broken", True, False),
    ]


SYNTHETIC = [
    {"kind": "doc2query", "query": "훈민정음 반포 연도", "doc_id": "d1", "source": "ko"},
    {"kind": "paraphrase", "query": "한글 만든 왕", "doc_id": "d2", "source": "ko"},
    {"kind": "query2doc", "query": "세종", "document": "세종은 …", "source": "ko"},
]


def test_synthetic_pairs_point_at_collection_documents_only():
    pairs = synthetic_training_pairs(SYNTHETIC)
    assert [(p["query"], p["positive_ids"], p["synthetic"]) for p in pairs] == [
        ("훈민정음 반포 연도", ["d1"], "doc2query"),
        ("한글 만든 왕", ["d2"], "paraphrase"),
    ]
    assert pairs == synthetic_training_pairs(list(reversed(SYNTHETIC)))[::-1]  # ids do not depend on order


def test_mix_ratio_zero_is_v1_data_and_ratio_caps_at_what_exists():
    real = [{"query_id": f"r{i}"} for i in range(4)]
    synthetic = synthetic_training_pairs(SYNTHETIC)
    assert mix_pairs(real, synthetic, 0.0, 1) == (real, 0)
    mixed, wanted = mix_pairs(real, synthetic, 0.25, 1)
    assert mixed[:4] == real and len(mixed) == 5 and wanted == 1
    mixed, wanted = mix_pairs(real, synthetic, 2.0, 1)
    assert len(mixed) == 6 and wanted == 8
    with pytest.raises(KosparseError, match="synthetic_ratio = -1"):
        mix_pairs(real, synthetic, -1, 1)


def test_plot_rows_and_codeswitch_table_come_from_the_metrics():
    table = comparison({"bm25_kiwi": _result(0.9)}, {"v1": {"v1": _result(0.70)}, "v2": {"v2": _result(0.75)}})
    rows = retrieval_rows(table, ["bm25_kiwi", "v1", "v2", "v2-v1"])
    assert [r["run"] for r in rows] == ["ko · bm25_kiwi", "ko · v1", "ko · v2"]
    assert rows[2] == {"run": "ko · v2", "ndcg@10": 0.75, "mrr@10": 0.75, "recall@100": 0.75}
    synthesize = {"generators": {"doc2query": {"accepted": 7, "rejected": {"length": 2, "hangul": 0}}}}
    assert acceptance_rows(synthesize) == [
        {"outcome": "doc2query · accepted", "count": 7},
        {"outcome": "doc2query · length", "count": 2},
    ]
    run = {"ko": {"codeswitch": {"ndcg@10": 0.5}, "original": {"ndcg@10": 0.8}}}
    codeswitch = {"queries": {"switched": 3}, "v1": run, "v1+base": run, "expansion_alpha": 0.5}
    assert codeswitch_table(codeswitch) == {"ko": {"v1": 0.5, "v1+base": 0.5}}
    assert "| v1+base | 0.5000 |" in codeswitch_markdown(codeswitch_table(codeswitch))
