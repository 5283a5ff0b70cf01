from conftest import REPO

from benchmarks.seed_sweep import delta_markdown, stage_items, summary_markdown


def _eval(korquad, msmarco=None):
    out = {"korquad": {"test": {"ndcg@10": korquad}}}
    if msmarco is not None:
        out["msmarco_ko"] = {"test": {"ndcg@10": msmarco}}
    return out


def test_summary_gives_each_seed_then_mean_and_sample_sd():
    lines = summary_markdown({"v1": {1: _eval(0.93, 0.90), 2: _eval(0.95, 0.92), 3: _eval(0.94)}}).splitlines()
    assert lines[2] == "| v1 | korquad | 1: 0.9300, 2: 0.9500, 3: 0.9400 | 0.9400 ± 0.0100 |"
    assert lines[3] == "| v1 | msmarco_ko | 1: 0.9000, 2: 0.9200 | 0.9100 ± 0.0141 |"


def test_deltas_pair_each_variant_with_the_first_seed_by_seed():
    results = {
        "v1": {42: _eval(0.93, 0.90), 1: _eval(0.94, 0.91)},
        "v2": {42: _eval(0.94, 0.89), 1: _eval(0.96), 2: _eval(0.99)},  # seed 2: no v1 run to pair with
    }
    lines = delta_markdown(results).splitlines()
    assert lines[2] == "| v2 − v1 | korquad | 1: +0.0200, 42: +0.0100 | 0.0150 ± 0.0071 |"
    assert lines[3] == "| v2 − v1 | msmarco_ko | 42: -0.0100 | -0.0100 ± nan |"
    assert len(lines) == 4


def test_sweep_trains_each_variant_on_the_pipelines_own_data_and_dictionary():
    train, serve = stage_items(REPO / "dvc.yaml")
    assert train["v2"]["pairs"] == "data/mix/v2/pairs.jsonl"
    assert serve["v2"]["synonyms"] == "data/synonyms/enhanced.json" and serve["v1"]["synonyms"].endswith("base.json")
