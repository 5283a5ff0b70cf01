"""The default stages on a small real slice of ../shared/datasets, in a temporary directory:
collect → idf → BM25 evaluation, then base encoder → hard negatives → train v1 (a few steps) → evaluate v1,
and teacher scores → a distilled v1."""

import json
import subprocess
import sys

import pytest
import yaml
from conftest import REPO


def _run(*args):
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True)


def _stage(*args):
    result = _run(*args)
    assert result.returncode == 0, result.stderr[-3000:]


def _train_args(variant, params, data, models, metrics):
    return [
        "scripts.12_train", variant, "--params", str(params), "--pairs", str(data / "collect/pairs_train.jsonl"),
        "--negatives", str(data / "neg.jsonl"), "--collect-dir", str(data / "collect"), "--base", str(models / "base"),
        "--idf", str(data / "idf/idf.json"), "--document-stats", str(data / "idf/document_stats.json"),
        "--out", str(models / variant),
        "--curves", str(metrics / f"train_{variant}"), "--metrics", str(metrics / f"train_{variant}.json"),
    ]  # fmt: skip


@pytest.mark.slow
def test_collect_idf_bm25_on_a_real_slice(tmp_path, small_mirror):
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["collect"]["mirror_dir"] = str(small_mirror)
    params["collect"]["sources"]["korquad"]["mirror_file"] = "korquad/dev.json"
    params["collect"]["sources"]["msmarco_ko"]["mirror_file"] = "msmarco/ko.json"
    params["tokenizer"]["vocab_size"] = 4000
    params["base"].update(layers=2, hidden=64, heads=2, seq_len=64, budget_tokens=4096, batch_size=16)
    params["train"].update(max_length=64, batch_size=8, max_steps=4, eval_steps=2, probe_steps=2, probe_documents=8)
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    d, m = tmp_path / "data", tmp_path / "metrics"

    _stage("scripts.01_collect", "--params", str(p), "--out-dir", str(d / "collect"), "--metrics", str(m / "c.json"))
    collect = json.loads((m / "c.json").read_text(encoding="utf-8"))
    assert collect["korquad"]["articles"] == 10
    assert collect["korquad"]["articles_per_split"] == {"train": 6, "validation": 2, "test": 2}
    assert collect["msmarco_ko"]["pairs"]["validation"] == 0
    assert collect["msmarco_ko"]["pairs"]["test"] == 60  # ids 1..300, id % 5 == 4
    assert collect["leaked_positives"] == {"validation": 0, "test": 0}
    docs = [json.loads(line) for line in (d / "collect/documents.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(docs) == collect["total"]["documents"] and len({doc["id"] for doc in docs}) == len(docs)

    first = (d / "collect/documents.jsonl").read_bytes()
    _stage("scripts.01_collect", "--params", str(p), "--out-dir", str(d / "collect"), "--metrics", str(m / "c.json"))
    assert (d / "collect/documents.jsonl").read_bytes() == first, "collect is byte-identical across runs"

    idf_args = [
        "--params",
        str(p),
        "--documents",
        str(d / "collect/documents.jsonl"),
        "--tokenizer-dir",
        str(d / "tok"),
        "--idf",
        str(d / "idf/idf.json"),
        "--document-stats",
        str(d / "idf/document_stats.json"),
        "--metrics",
        str(m / "i.json"),
    ]
    _stage("scripts.02_idf", *idf_args)
    idf = json.loads((d / "idf/idf.json").read_text(encoding="utf-8"))
    assert json.loads((m / "i.json").read_text(encoding="utf-8"))["idf_keys"] == len(idf) > 1000
    assert "[CLS]" not in idf and idf["모델"] > idf["."] if "모델" in idf else idf["."] < max(idf.values())
    first_idf = (d / "idf/idf.json").read_bytes()
    _stage("scripts.02_idf", *idf_args)
    assert (d / "idf/idf.json").read_bytes() == first_idf, "idf is byte-identical across runs"

    _stage(
        "scripts.16_evaluate",
        "bm25",
        "--params",
        str(p),
        "--collect-dir",
        str(d / "collect"),
        "--tokenizer-dir",
        str(d / "tok"),
        "--document-stats",
        str(d / "idf/document_stats.json"),
        "--out",
        str(m / "bm25.json"),
    )
    bm25 = json.loads((m / "bm25.json").read_text(encoding="utf-8"))
    for retriever in ("bm25_whitespace", "bm25_kiwi", "bm25_tokens"):
        assert set(bm25[retriever]) == {"korquad", "msmarco_ko"}
        assert set(bm25[retriever]["korquad"]) == {"validation", "test"}
        assert set(bm25[retriever]["korquad"]["test"]) == {"ndcg@10", "mrr@10", "recall@10", "recall@100", "queries"}
    for dataset in ("korquad", "msmarco_ko"):
        assert bm25["bm25_kiwi"][dataset]["test"]["ndcg@10"] > bm25["bm25_whitespace"][dataset]["test"]["ndcg@10"]
    assert bm25["bm25_kiwi"]["korquad"]["test"]["ndcg@10"] > 0.8

    # the encoder: a tiny scratch base, hard negatives, a few training steps, evaluation
    _stage(
        "scripts.10_base_encoder",
        "--params",
        str(p),
        "--documents",
        str(d / "collect/documents.jsonl"),
        "--tokenizer-dir",
        str(d / "tok"),
        "--out",
        str(tmp_path / "models/base"),
        "--metrics",
        str(m / "base.json"),
    )
    base = json.loads((m / "base.json").read_text(encoding="utf-8"))
    assert base["mlm_loss_after"] < base["mlm_loss_before"]
    assert (tmp_path / "models/base/config.json").is_file() and (tmp_path / "models/base/tokenizer.json").is_file()

    _stage(
        "scripts.08_hard_negatives",
        "--params",
        str(p),
        "--collect-dir",
        str(d / "collect"),
        "--out",
        str(d / "neg.jsonl"),
        "--metrics",
        str(m / "neg.json"),
    )
    negatives = [json.loads(line) for line in (d / "neg.jsonl").read_text(encoding="utf-8").splitlines()]
    train_pairs = [
        json.loads(line) for line in (d / "collect/pairs_train.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [n["query_id"] for n in negatives] == [t["query_id"] for t in train_pairs]
    assert all(not set(n["negative_ids"]) & set(t["positive_ids"]) for n, t in zip(negatives, train_pairs, strict=True))

    _stage(*_train_args("v1", p, d, tmp_path / "models", m))
    summary = json.loads((m / "train_v1.json").read_text(encoding="utf-8"))
    assert summary["steps"] == 4 and summary["best_checkpoint_step"] in (0, 2, 4)
    assert summary["best_validation_ndcg@10"] >= summary["step0_validation_ndcg@10"] > 0
    assert (tmp_path / "models/v1/idf.json").read_bytes() == (d / "idf/idf.json").read_bytes()
    assert (m / "train_v1/plots/metrics/validation/ndcg@10.tsv").is_file()

    encode_args = ["--params", str(p), "--collect-dir", str(d / "collect"), "--model", str(tmp_path / "models/v1"),
                   "--out", str(d / "encoded/v1"), "--metrics", str(m / "encode_v1.json")]  # fmt: skip
    _stage("scripts.15_encode", *encode_args)
    encoded = {f.name: f.read_bytes() for f in sorted((d / "encoded/v1").iterdir())}
    assert list(encoded) == ["korquad.safetensors", "msmarco_ko.safetensors"]
    _stage("scripts.15_encode", *encode_args)
    assert {f.name: f.read_bytes() for f in sorted((d / "encoded/v1").iterdir())} == encoded, "byte-identical"
    _stage(
        "scripts.16_evaluate",
        "sparse",
        "--params",
        str(p),
        "--collect-dir",
        str(d / "collect"),
        "--model",
        str(tmp_path / "models/v1"),
        "--encoded",
        str(d / "encoded/v1"),
        "--out",
        str(m / "eval_v1.json"),
        "--report",
        str(tmp_path / "t.md"),
    )
    ev = json.loads((m / "eval_v1.json").read_text(encoding="utf-8"))
    assert set(ev["v1"]["korquad"]["test"]) == set(bm25["bm25_kiwi"]["korquad"]["test"])
    assert ev["v1"]["korquad"]["test"]["queries"] == bm25["bm25_kiwi"]["korquad"]["test"]["queries"]
    assert ev["sparsity"]["doc_active_dims_mean"] > 0 and ev["sparsity"]["query_active_dims_mean"] > 0
    stored = json.loads((m / "encode_v1.json").read_text(encoding="utf-8"))
    stored_nnz = sum(s["non_zeros"] for s in stored.values())
    assert stored_nnz / sum(s["documents"] for s in stored.values()) == pytest.approx(
        ev["sparsity"]["doc_active_dims_mean"], abs=0.01
    ), "evaluate scored the stored vectors"
    assert 0.0 <= ev["korean_quality"]["particle_ending_weight_share"] <= 1.0
    assert "| 1 |" in (tmp_path / "t.md").read_text(encoding="utf-8")

    # distillation: the teacher scores a seeded subset of the triples, training reads them as labels
    distill = yaml.safe_load(p.read_text(encoding="utf-8"))
    distill["distill"].update(max_triples=16, max_length=128)
    p3 = tmp_path / "distill.yaml"
    p3.write_text(yaml.safe_dump(distill, allow_unicode=True), encoding="utf-8")
    teacher_file = d / "teacher.jsonl"
    _stage(
        "scripts.11_teacher_scores", "--params", str(p3), "--pairs", str(d / "collect/pairs_train.jsonl"),
        "--negatives", str(d / "neg.jsonl"), "--collect-dir", str(d / "collect"), "--out", str(teacher_file),
        "--metrics", str(m / "teacher.json"),
    )  # fmt: skip
    scored = [json.loads(line) for line in teacher_file.read_text(encoding="utf-8").splitlines()]
    teacher = json.loads((m / "teacher.json").read_text(encoding="utf-8"))
    assert len(scored) == teacher["triples"] == 16 and teacher["positive_above_every_negative"] > 0.5
    _stage(*_train_args("v1_distill", p3, d, tmp_path / "models", m), "--teacher", str(teacher_file))
    summary = json.loads((m / "train_v1_distill.json").read_text(encoding="utf-8"))
    assert summary["steps"] == 4 and sum(summary["examples"].values()) == 16, "only the scored triples train"
    assert (tmp_path / "models/v1_distill/modules.json").is_file()

    # a collapsing run (huge FLOPS weight) stops with one clear error and leaves no model folder
    collapse = yaml.safe_load(p.read_text(encoding="utf-8"))
    collapse["train"].update(
        document_regularizer_weight=1.0e4,
        regularizer_warmup_ratio=0.01,
        learning_rate=5.0e-3,
        max_steps=12,
        eval_steps=12,
        probe_steps=1,
        collapse_min_active_dims=5.0,
    )
    p2 = tmp_path / "collapse.yaml"
    p2.write_text(yaml.safe_dump(collapse, allow_unicode=True), encoding="utf-8")
    result = _run(*_train_args("v9", p2, d, tmp_path / "models", m))
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "error: " in line]
    assert len(errors) == 1 and "collapsed at step" in errors[0] and "document_regularizer_weight" in errors[0]
    assert not (tmp_path / "models/v9").exists() and not (m / "train_v9.json").exists()
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(".v9")]
