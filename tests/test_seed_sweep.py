import subprocess

import pytest
import yaml
from conftest import REPO

from benchmarks.seed_sweep import (
    delta_markdown,
    interval_markdown,
    seeded_run,
    stage_items,
    summary_markdown,
    with_overrides,
)
from kosparse.errors import KosparseError


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
    assert lines[3] == "| v2 − v1 | msmarco_ko | 42: -0.0100 | -0.0100 |"  # one pair: no spread
    assert len(lines) == 4


def test_sweep_trains_each_variant_on_the_pipelines_own_data_and_dictionary():
    train, serve = stage_items(REPO / "dvc.yaml")
    assert train["v2"]["pairs"] == "data/mix/v2/pairs.jsonl"
    assert serve["v2"]["synonyms"] == "data/synonyms/enhanced.json" and serve["v1"]["synonyms"].endswith("base.json")


def test_intervals_pair_queries_within_a_seed_and_claim_a_gain_only_when_it_excludes_zero():
    def runs(scores):
        return {"msmarco_ko": {"test": {f"q{i}": s for i, s in enumerate(scores)}}}

    per_query = {
        "v1_adapt": {42: runs([0.5] * 40)},
        "v2_adapt": {42: runs([0.6] * 40), 7: runs([1.0] * 40)},  # seed 7: no baseline run to pair with
    }
    lines = interval_markdown(per_query).splitlines()
    assert lines[2:] == ["| v2_adapt − v1_adapt | 42 | msmarco_ko | +10.0 [+10.0, +10.0] gain |"]
    per_query["v2_adapt"][42] = runs([0.6, 0.4] * 20)  # as many queries lost as won
    assert interval_markdown(per_query).splitlines()[2].endswith("no significant difference |")


def test_recipe_overrides_replace_existing_keys_only():
    params = {"seed": 42, "train": {"max_steps": 120, "eval_steps": 60}}
    changed = with_overrides(params, ["train.max_steps=540", "train.eval_steps=90"])
    assert changed["train"] == {"max_steps": 540, "eval_steps": 90} and params["train"]["max_steps"] == 120
    for typo in ("train.max_step=540", "train.max_steps", "trian.max_steps=1", "seed.x=1"):
        with pytest.raises(KosparseError, match="expected key=value"):
            with_overrides(params, [typo])


def _kept_run(run_dir, params, with_per_query=True):
    run_dir.mkdir()
    (run_dir / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    for name in ("train.json", "query_idf.json", "encode.json", "eval.json"):
        (run_dir / name).write_text("{}", encoding="utf-8")
    if with_per_query:
        (run_dir / "per_query.json").write_text("{}", encoding="utf-8")


def test_a_finished_run_is_kept_and_a_run_with_other_params_is_refused(tmp_path):
    items = ({"pairs": "missing.jsonl", "negatives": "missing.jsonl"}, {"synonyms": "missing.json"})
    _kept_run(tmp_path / "v1_s1", {"seed": 1})
    assert seeded_run("v1", {"seed": 1}, tmp_path / "v1_s1", *items) == tmp_path / "v1_s1" / "eval.json"
    with pytest.raises(KosparseError, match="made with other params"):
        seeded_run("v1", {"seed": 2}, tmp_path / "v1_s1", *items)


@pytest.mark.slow  # the evaluate step starts (and fails) in a subprocess: ≈ 20 s of imports
def test_a_run_kept_without_per_query_scores_is_only_re_evaluated(tmp_path):
    _kept_run(tmp_path / "v1_s1", {"seed": 1}, with_per_query=False)
    items = ({"pairs": "missing.jsonl", "negatives": "missing.jsonl"}, {"synonyms": "missing.json"})
    with pytest.raises(subprocess.CalledProcessError) as failed:  # nothing to evaluate here: the step itself fails
        seeded_run("v1", {"seed": 1}, tmp_path / "v1_s1", *items)
    assert "scripts.16_evaluate" in failed.value.cmd and "scripts.12_train" not in failed.value.cmd
