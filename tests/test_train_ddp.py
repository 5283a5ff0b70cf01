"""12_train data-parallel under torchrun (2 CPU processes, gloo): one model folder, written by rank 0."""

import json
import subprocess
import sys

import pytest
import yaml
from conftest import REPO, TRAIN_CFG

from kosparse.evaluation.retrieval import SparseRetriever, evaluate_retriever
from kosparse.model.sparse_model import load_encoder


def _inputs(tmp_path, tiny_data, splade_tiny_idf):
    documents, pairs, negatives = tiny_data
    collect = tmp_path / "collect"
    collect.mkdir()
    for name, rows in [("documents", documents), ("pairs_train", pairs), ("pairs_validation", pairs)]:
        (collect / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    rows = [{"query_id": q, "negative_ids": n} for q, n in negatives.items()]
    (tmp_path / "neg.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "stats.json").write_text(json.dumps({"avgdl": 12.0, "functional_token_ids": []}))
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["train"] = {**TRAIN_CFG, "threads": 1, "max_steps": 4, "batch_size": 2}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")


def _train(tmp_path, splade_tiny, splade_tiny_idf, name, launcher):
    args = [
        "-m", "scripts.12_train", "v1", "--params", str(tmp_path / "params.yaml"),
        "--pairs", str(tmp_path / "collect/pairs_train.jsonl"), "--negatives", str(tmp_path / "neg.jsonl"),
        "--collect-dir", str(tmp_path / "collect"), "--base", str(splade_tiny), "--idf", str(splade_tiny_idf),
        "--document-stats", str(tmp_path / "stats.json"), "--out", str(tmp_path / name / "model"),
        "--curves", str(tmp_path / name / "curves"), "--metrics", str(tmp_path / name / "train.json"),
    ]  # fmt: skip
    done = subprocess.run([sys.executable, *launcher, *args], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((tmp_path / name / "train.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_two_process_training_writes_one_model_that_scores_like_a_single_process_run(
    tmp_path, tiny_data, splade_tiny, splade_tiny_idf
):
    _inputs(tmp_path, tiny_data, splade_tiny_idf)
    torchrun = ["-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517"]
    ddp = _train(tmp_path, splade_tiny, splade_tiny_idf, "ddp", torchrun)
    single = _train(tmp_path, splade_tiny, splade_tiny_idf, "single", [])

    written = sorted(p.name for p in (tmp_path / "ddp").iterdir())
    assert written == ["curves", "model", "train.json"], "rank 1 wrote nothing, rank 0 wrote each output once"
    assert not list((tmp_path / "ddp").glob(".*")), "no temporary folder or checkpoint left behind"
    assert ddp["steps"] == single["steps"] == 4
    assert ddp["recipe"]["examples_seen"] == 2 * single["recipe"]["examples_seen"]  # 2 ranks × batch

    documents, pairs, _ = tiny_data
    scores = {
        name: evaluate_retriever(SparseRetriever(name, load_encoder(tmp_path / name / "model"), 4), documents,
                                 {"test": pairs}, 10)["en"]["test"]["ndcg@10"]
        for name in ("ddp", "single")
    }  # fmt: skip
    assert scores["ddp"] == pytest.approx(scores["single"], abs=0.15)
