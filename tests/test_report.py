import yaml
from conftest import REPO

from kosparse.evaluation.experiments import experiments_markdown
from kosparse.evaluation.report import index_markdown, results_page, retrieval_markdown
from kosparse.io import read_json


def _scores(ndcg: float) -> dict:
    return {"ndcg@10": ndcg, "mrr@10": ndcg - 0.01}


def test_retrieval_table_lists_hybrids_and_only_retrievers_every_collection_has():
    test = {
        d: {m: {name: _scores(v)[m] for name, v in rows.items()} for m in ("ndcg@10", "mrr@10")}
        for d, rows in {
            "korquad": {"bm25_kiwi": 0.9414, "v1": 0.9345, "v2": 0.9, "v1+bm25_kiwi": 0.9433},
            "msmarco_ko": {"bm25_kiwi": 0.894, "v1": 0.9075, "v1+bm25_kiwi": 0.9121},
        }.items()
    }
    lines = retrieval_markdown(test).splitlines()
    assert lines[0] == "| retriever | korquad nDCG@10 | korquad MRR@10 | msmarco_ko nDCG@10 | msmarco_ko MRR@10 |"
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| bm25_kiwi", "| v1", "| v1+bm25_kiwi"]
    assert lines[3] == "| v1 | 0.9345 | 0.9245 | 0.9075 | 0.8975 |"


def test_index_table_says_when_a_variant_has_no_export():
    evaluated = {
        "sparsity": {"doc_active_dims_mean": 76.8, "doc_active_dims_p50": 68.0, "doc_active_dims_p99": 195.62,
                     "query_active_dims_mean": 12.28},
        "korean_quality": {"particle_ending_weight_share": 0.0, "word_weight_share": 0.9181},
    }  # fmt: skip
    parity = {"documents": {"max_abs_diff": 5.96e-8, "documents": 50}, "queries": {"mismatches": 0, "queries": 3792}}
    rows = index_markdown({"v1": evaluated, "v2": evaluated}, {"v1": {"parity": parity}}).splitlines()[2:]
    assert rows[0] == "| v1 | 76.8 / 68 / 196 | 12.3 | 0.0% | 91.8% | 6.0e-08 (50) | 0 of 3,792 |"
    assert rows[1].endswith("| not exported | — |")


def test_committed_results_page_is_what_the_committed_metrics_generate():
    """docs/results.md is never edited by hand: it must equal the page the `report` stage writes."""
    metrics = REPO / "metrics"
    stage = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]["report"]["cmd"].split()
    variants, trained, exported = (stage[stage.index(flag) + 1 : stage.index(after)] for flag, after in
                                   (("--variants", "--trained"), ("--trained", "--exported"),
                                    ("--exported", "--metrics-dir")))  # fmt: skip
    page = results_page(metrics / "compare.json", metrics / "synthesize.json", metrics, variants, trained, exported)
    assert (REPO / "docs" / "results.md").read_text(encoding="utf-8") == page, "run `dvc repro report`"


def test_committed_experiments_page_is_what_the_committed_metrics_generate():
    """docs/experiments.md is the `experiments` stage's: its summary, and the variants' eval, train, export metrics."""
    metrics = REPO / "metrics"
    stage = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]["experiments"]["cmd"].split()
    variants, exported = (stage[stage.index(flag) + 1 : stage.index(after)] for flag, after in
                          (("--variants", "--exported"), ("--exported", "--metrics-dir")))  # fmt: skip
    assert "v1_distill" in variants and "v2_adapt" in variants
    kinds = (("eval", variants), ("train", variants), ("export", exported))
    evals, trains, exports = ({v: read_json(metrics / f"{kind}_{v}.json") for v in names} for kind, names in kinds)
    page = experiments_markdown(read_json(metrics / "experiments.json"), evals, exports, trains,
                                read_json(metrics / "mix_v2_adapt.json"))  # fmt: skip
    assert (REPO / "docs" / "experiments.md").read_text(encoding="utf-8") == page, "run `make experiments`"
