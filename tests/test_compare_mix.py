import numpy as np
import pytest

from kosparse.data.mix import (
    from_sources,
    generated_texts,
    mix_pairs,
    synthetic_training_pairs,
    with_generated_negatives,
)
from kosparse.errors import KosparseError
from kosparse.evaluation.compare import (
    acceptance_rows,
    codeswitch_markdown,
    codeswitch_table,
    comparison,
    differing_queries,
    floor_sentence,
    interval_word,
    intervals,
    is_delta,
    markdown_table,
    paired_interval,
    retrieval_rows,
    variant_name,
    verdict,
)
from kosparse.evaluation.experiments import adaptation_sentence, distillation_sentence
from kosparse.model.training import training_examples


def _result(ndcg):
    return {"ko": {"test": {"ndcg@10": ndcg, "mrr@10": ndcg, "recall@10": ndcg, "recall@100": ndcg}}}


def test_comparison_shows_deltas_to_v1_and_to_the_lexical_floor():
    bm25 = {"bm25_kiwi": _result(0.9), "bm25_tokens": _result(0.8)}
    table = comparison(bm25, {"v1": {"v1": _result(0.70)}, "v2": {"v2": _result(0.85)}})
    assert table["ko"]["ndcg@10"] == {
        "bm25_kiwi": 0.9, "bm25_tokens": 0.8, "v1": 0.7, "v2": 0.85, "v2-v1": 0.15, "v1-floor": -0.1, "v2-floor": 0.05
    }  # fmt: skip


def test_floor_sentence_goes_by_the_intervals_not_the_point_estimates():
    deltas = {"ko": {"v1-bm25_tokens": {"delta": -0.1, "low": -0.15, "high": -0.05},
                     "v2-bm25_tokens": {"delta": -0.004, "low": -0.008, "high": 0.001}},
              "en": {"v1-bm25_tokens": {"delta": 0.02, "low": 0.01, "high": 0.03}}}  # fmt: skip
    sentence = floor_sentence(deltas, ["v1", "v2"])
    assert "significantly below it: v1 on ko;" in sentence and "significantly above it: v1 on en;" in sentence
    assert sentence.endswith("no significant difference: 1 of 3 (variant, test set) pairs.")
    assert floor_sentence({"ko": {}}, ["v1"]) == "BM25 over the encoder's tokens has not been evaluated yet."


def _per_query(values):
    return {"ko": {"test": {f"q{i}": v for i, v in enumerate(values)}}}


def test_verdict_claims_a_gain_or_loss_only_when_the_interval_excludes_zero():
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 1, 400)
    table = {"ko": {}}
    runs = lambda shift, noise: {"v1": _per_query(base), "v2": _per_query(base + shift + rng.normal(0, noise, 400))}  # noqa: E731
    assert verdict(table, 0.02, intervals(runs(0.05, 0.05))).startswith("Synthetic data helped")
    assert verdict(table, 0.02, intervals(runs(-0.05, 0.05))).startswith("Synthetic data hurt")
    noisy = intervals(runs(0.01, 0.5))  # a small mean difference drowned in per-query noise
    assert noisy["ko"]["v2-v1"]["low"] < 0 < noisy["ko"]["v2-v1"]["high"]
    assert verdict(table, 0.02, noisy).startswith("No clear effect")


def test_paired_interval_is_seeded_and_brackets_the_mean():
    a = {f"q{i}": float(i % 7) / 7 for i in range(300)}
    b = {q: v + (0.1 if i % 3 else -0.05) for i, (q, v) in enumerate(a.items())}
    first, second = paired_interval(a, b), paired_interval(a, b)
    assert first == second and first["queries"] == 300
    assert first["low"] < first["delta"] < first["high"] and first["low"] > 0
    with pytest.raises(ValueError, match="share no query"):
        paired_interval(a, {"other": 1.0})


def test_paired_interval_rounds_its_bounds_outward():
    a = {f"q{i}": 0.5 for i in range(50)}
    tiny = paired_interval(a, {q: v - 4e-6 for q, v in a.items()})  # every query a hair worse
    assert (tiny["low"], tiny["high"]) == (-1e-4, 0.0) and interval_word(tiny) == "no significant difference"
    assert str(tiny["high"]) == "0.0"  # not -0.0, which reads as a loss the verdict does not claim


def test_the_distilled_variant_gets_its_own_delta_to_v1():
    models = {"v1": {"v1": _result(0.70)}, "v2": {"v2": _result(0.71)}, "v1_distill": {"v1_distill": _result(0.655)}}
    table = comparison({}, models)
    assert table["ko"]["ndcg@10"]["v1_distill-v1"] == -0.045 and table["ko"]["ndcg@10"]["v2-v1"] == 0.01
    loss = {"ko": {"v1_distill-v1": {"delta": -0.045, "low": -0.06, "high": -0.03}}}
    assert distillation_sentence(loss, "kl", "gemma") == (
        "Distillation (kl from `gemma`, v1's data): v1_distill − v1 = ko -4.5 [-6.0, -3.0] loss "
        "(nDCG@10 points, 95% intervals)."
    )
    shown = markdown_table(table, ["v1", "v1_distill", "v1_distill-v1"])
    assert "| v1_distill-v1 | -0.0450 |" in shown and shown.index("| v1 |") < shown.index("| v1_distill |")
    assert distillation_sentence({"ko": {}}, "kl", "gemma").endswith("yet.")


def test_differing_queries_show_as_many_losses_as_wins():
    names = ["fix1", "fix2", "fix3", "break1", "break2", "same"]
    queries = [{"query": q, "positive_ids": ["a"]} for q in names]
    v1 = [["b"], ["b"], ["b"], ["a"], ["a"], ["b"]]
    v2 = [["a"], ["a"], ["a"], ["c"], ["c"], ["c"]]
    rows = differing_queries(queries, v1, v2, limit=4)
    assert [(r["query"], r["v1_correct"], r["v2_correct"]) for r in rows] == [
        ("fix1", False, True),
        ("fix2", False, True),
        ("break1", True, False),
        ("break2", True, False),
    ]
    assert [r["query"] for r in differing_queries(queries, v1, v2, limit=6)] == names


SYNTHETIC = [
    {"kind": "doc2query", "query": "훈민정음 반포 연도", "doc_id": "d1", "source": "ko"},
    {"kind": "paraphrase", "query": "한글 만든 왕", "doc_id": "d2", "source": "ko"},
    {"kind": "query2doc", "query": "세종", "doc_id": "d3", "document": "세종은 조선의 넷째 왕이다.", "source": "ko"},
    {"kind": "llm_negative", "query": "세종", "doc_id": "d3", "negative": "세종시는 행정 도시이다.", "source": "ko"},
]


def test_every_generator_gives_training_pairs_and_passages_travel_as_texts():
    pairs = synthetic_training_pairs(SYNTHETIC)
    d2q, para, q2d, neg = pairs
    assert [(p["query"], p["synthetic"]) for p in pairs] == [(r["query"], r["kind"]) for r in SYNTHETIC]
    assert (d2q["positive_ids"], para["positive_ids"]) == (["d1"], ["d2"])
    assert "texts" not in d2q and "texts" not in para
    [(q2d_text_id, q2d_text)] = q2d["texts"].items()
    assert q2d["positive_ids"] == [q2d_text_id, "d3"] and q2d_text == "세종은 조선의 넷째 왕이다."
    assert neg["positive_ids"] == ["d3"] and list(neg["texts"].values()) == ["세종시는 행정 도시이다."]
    assert len({p["query_id"] for p in pairs}) == 4, "the same query gives distinct pairs per generator"
    assert pairs == synthetic_training_pairs(list(reversed(SYNTHETIC)))[::-1]  # ids do not depend on order


def test_generated_passages_become_the_positive_or_the_first_negative_of_a_training_row():
    pairs = synthetic_training_pairs(SYNTHETIC)
    collection = {"d1": "훈민정음", "d2": "한글", "d3": "세종대왕", "d4": "집현전", "d5": "경복궁"}
    mined = [{"query_id": p["query_id"], "negative_ids": ["d4", "d5"]} for p in pairs]
    rows = with_generated_negatives(pairs, mined, k=2)
    assert rows[:3] == mined[:3]
    assert rows[3]["negative_ids"] == [*pairs[3]["texts"], "d4"], "the passage first, k kept"
    doc_text = collection | generated_texts(pairs, collection)
    negatives = {r["query_id"]: r["negative_ids"] for r in rows}
    examples = training_examples(pairs, negatives, doc_text, negatives_per_query=1)["ko"]
    assert examples[2]["positive"] == "세종은 조선의 넷째 왕이다." and examples[2]["negative_1"] == "집현전"
    assert examples[3]["positive"] == "세종대왕" and examples[3]["negative_1"] == "세종시는 행정 도시이다."


def test_a_generated_text_id_that_names_a_collection_document_is_refused():
    pairs = synthetic_training_pairs(SYNTHETIC)
    clash = next(iter(pairs[2]["texts"]))
    with pytest.raises(KosparseError, match=f"pair {pairs[2]['query_id']}: generated text id '{clash}'"):
        generated_texts(pairs, {clash: "collection text"})


def test_mix_ratio_zero_is_v1_data_and_ratio_caps_at_what_exists():
    real = [{"query_id": f"r{i}"} for i in range(4)]
    synthetic = synthetic_training_pairs(SYNTHETIC)
    assert mix_pairs(real, synthetic, 0.0, 1) == (real, 0)
    mixed, wanted = mix_pairs(real, synthetic, 0.25, 1)
    assert mixed[:4] == real and len(mixed) == 5 and wanted == 1
    mixed, wanted = mix_pairs(real, synthetic, 2.0, 1)
    assert len(mixed) == 8 and wanted == 8
    with pytest.raises(KosparseError, match="synthetic_ratio = -1"):
        mix_pairs(real, synthetic, -1, 1)


def test_from_sources_keeps_the_named_collections_and_names_a_misspelt_one():
    pairs = [{"query_id": "a", "source": "korquad"}, {"query_id": "b", "source": "msmarco_ko"}]
    assert from_sources(pairs, None, "mix.v1_adapt.real_sources") == pairs
    assert from_sources(pairs, ["korquad"], "mix.v1_adapt.real_sources") == pairs[:1]
    with pytest.raises(KosparseError, match=r"mix.v1_adapt.real_sources names \['korqad'\]"):
        from_sources(pairs, ["korqad"], "mix.v1_adapt.real_sources")


def test_the_adaptation_pair_is_compared_with_each_other_on_the_target_collection():
    models = {name: {name: _result(v)} for name, v in (("v1", 0.8), ("v1_adapt", 0.7), ("v2_adapt", 0.74))}
    row = comparison({"bm25_tokens": _result(0.75)}, models)["ko"]["ndcg@10"]
    assert row["v2_adapt-v1_adapt"] == 0.04 and row["v1_adapt-v1"] == -0.1 and row["v2_adapt-floor"] == -0.01
    assert is_delta("v2_adapt-v1_adapt") and is_delta("v1_adapt-v1") and not is_delta("v2_adapt")
    per_query = {"v1_adapt": {"ko": {"test": {"q1": 0.5, "q2": 0.6, "q3": 0.4}}},
                 "v2_adapt": {"ko": {"test": {"q1": 0.9, "q2": 1.0, "q3": 0.8}}}}  # fmt: skip
    deltas = intervals(per_query)
    assert deltas["ko"]["v2_adapt-v1_adapt"]["low"] > 0
    sentence = adaptation_sentence(deltas, ["korquad"], "ko", 154)
    assert sentence.startswith("Adaptation (real queries of korquad only; tested on ko, whose real queries")
    assert "v2_adapt, with 154 LLM queries for ko documents, − v1_adapt = +40.0 [+40.0, +40.0] gain" in sentence
    assert "not been evaluated" in adaptation_sentence(deltas, ["korquad"], "msmarco_ko", 154)
    assert "For scale" not in sentence  # no v1 run to compare with
    deltas["ko"]["v1_adapt-v1"] = {"delta": -0.02, "low": -0.03, "high": -0.01}
    assert (
        sentence + " For scale, ko's own real training queries (v1 has them, v1_adapt does not) give "
        "v1 − v1_adapt = +2.0 [+1.0, +3.0] gain there." == adaptation_sentence(deltas, ["korquad"], "ko", 154)
    )


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


def test_the_variant_of_an_evaluation_is_not_its_hybrid_or_a_summary():
    evaluation = {"hybrid": {"sparse_weight": 0.2}, "korean_quality": {}, "sparsity": {}, "v2": {}, "v2+bm25_kiwi": {}}
    assert variant_name(evaluation) == "v2"
    assert variant_name({"hybrid": {}, "sparsity": {}}) is None
