import hashlib
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml
from conftest import REPO, TINY_DOCUMENT_SIDE, TINY_PAIRS
from scipy import sparse

from kosparse.errors import KosparseError
from kosparse.export import artifacts, emulation, loading, pruning, tracing
from kosparse.export.requests import build_requests, offline_vectors, prune_vector, read_export
from kosparse.model.sparse_model import build_model, document_modules

MAX_LENGTH = 64


@pytest.fixture(scope="module")
def model_dir(splade_tiny, splade_tiny_idf, tmp_path_factory):
    """SPLADE-tiny as a trained variant folder: the Router model plus the idf.json it was built with."""
    folder = tmp_path_factory.mktemp("variant") / "tiny"
    model = build_model(splade_tiny, splade_tiny_idf, MAX_LENGTH, **TINY_DOCUMENT_SIDE)
    with torch.no_grad():
        document_modules(model)[1].gate.fill_(0.01)  # as trained: the trace must carry the learned part too
    model.save(str(folder))
    shutil.copyfile(splade_tiny_idf, folder / "idf.json")
    return folder


@pytest.fixture(scope="module")
def variant(model_dir):
    return loading.load_variant(model_dir)


@pytest.fixture(scope="module")
def real_documents(korquad):
    """50 real KorQuAD paragraphs, from 50 different articles."""
    articles = korquad["data"]
    return [article["paragraphs"][0]["context"] for article in articles[:50]]


@pytest.fixture(scope="module")
def zips(variant, real_documents):
    return artifacts.build_zips(variant, artifacts.model_names("kosparse", "tiny"), real_documents[0])


def test_traced_document_encoder_matches_sparse_encoder_on_50_real_documents(variant, zips, real_documents):
    attention = variant.mlm.config._attn_implementation
    parity = emulation.document_parity(variant, zips[artifacts.DOCUMENT_ZIP], real_documents)
    assert variant.mlm.config._attn_implementation == attention, "the reference's kernel switch is undone"
    assert parity["documents"] == 50
    assert parity["max_abs_diff"] <= 1.0e-4
    assert parity["active_dims_mismatches"] == 0
    assert parity["special_token_max_weight"] == 0.0, "special tokens are zeroed in the export"
    assert parity["active_dims_mean"] > 10
    assert 0 <= parity["kernel_set_changes"] <= 50


def test_trace_gives_a_padded_batch_the_vectors_of_single_documents(variant, zips, real_documents):
    traced, tok = (
        emulation.zip_document_encoder(zips[artifacts.DOCUMENT_ZIP]),
        emulation.zip_tokenizer(zips[artifacts.DOCUMENT_ZIP]),
    )
    texts = [real_documents[1], "짧은 문서", TINY_PAIRS[0][1]]
    batch = tracing.encode_batch(tok, texts)
    assert len(set(batch["attention_mask"].sum(dim=1).tolist())) == 3
    with torch.no_grad():
        batched = traced(batch)["output"]
    single = emulation.opensearch_document_vectors(traced, tok, texts)
    assert torch.allclose(batched, single, atol=1.0e-5)
    assert ((batched > 0) == (single > 0)).all()


def test_query_vectors_built_the_opensearch_way_equal_the_query_encoder(variant, zips, korquad):
    questions = [q["question"] for p in korquad["data"][0]["paragraphs"]
                 for q in p["qas"]][:20]  # fmt: skip
    vocabulary_words = [w for w in variant.idf if w.isalpha() and w.isascii()][:300]
    long_query = " ".join(vocabulary_words)  # more distinct tokens than the query side keeps
    queries = [q for q, _ in TINY_PAIRS] + questions + [long_query]
    parity = emulation.query_parity(variant, zips[artifacts.TOKENIZER_ZIP], queries)
    assert parity["queries"] == len(queries)
    assert parity["mismatches"] == 0, parity["mismatch_examples"]
    files = artifacts.read_zip(zips[artifacts.TOKENIZER_ZIP])
    tok = emulation.zip_tokenizer(zips[artifacts.TOKENIZER_ZIP])
    long_vector = emulation.opensearch_query_vector(tok, json.loads(files["idf.json"]), long_query)
    assert len(long_vector) == MAX_LENGTH, "OpenSearch keeps as many query tokens as the project"


def test_every_idf_key_decodes_from_exactly_one_id_and_no_key_is_lost(variant, zips, model_dir):
    report = variant.idf_report
    assert report["missing"] == [] and report["unknown"] == [] and report["special"] == []
    assert report["collisions"] == []
    tok = emulation.zip_tokenizer(zips[artifacts.TOKENIZER_ZIP])
    special = set(variant.special_ids)
    decoded = [tok.decode([i]) for i in range(tok.get_vocab_size()) if i not in special]
    assert sorted(decoded) == sorted(variant.idf), "each key from exactly one id, every id has its key"
    assert not {tok.id_to_token(i) for i in special} & set(variant.idf)
    assert artifacts.read_zip(zips[artifacts.TOKENIZER_ZIP])["idf.json"] == (model_dir / "idf.json").read_bytes()


def test_zips_hold_exactly_the_expected_files_and_the_bodies_hash_them(variant, zips):
    document_files, tokenizer_files = (
        artifacts.read_zip(zips[name]) for name in (artifacts.DOCUMENT_ZIP, artifacts.TOKENIZER_ZIP)
    )
    assert sorted(document_files) == ["kosparse-tiny-doc.pt", "tokenizer.json"]
    pt = document_files["kosparse-tiny-doc.pt"]
    assert b".debug_pkl" not in pt and str(REPO).encode() not in pt, "no source paths: same bytes from any checkout"
    assert sorted(tokenizer_files) == ["idf.json", "tokenizer.json"]
    assert json.loads(document_files["tokenizer.json"])["truncation"]["max_length"] == MAX_LENGTH
    assert json.loads(tokenizer_files["tokenizer.json"])["truncation"]["max_length"] == MAX_LENGTH + 2
    bodies = artifacts.registration_bodies(variant, artifacts.model_names("kosparse", "tiny"), "1.0.0", zips)
    for body_name, zip_name, function in [
        (artifacts.DOCUMENT_REGISTRATION, artifacts.DOCUMENT_ZIP, "SPARSE_ENCODING"),
        (artifacts.TOKENIZER_REGISTRATION, artifacts.TOKENIZER_ZIP, "SPARSE_TOKENIZE"),
    ]:
        body = bodies[body_name]
        assert body["function_name"] == function and body["model_format"] == "TORCH_SCRIPT"
        assert body["model_content_hash_value"] == hashlib.sha256(zips[zip_name]).hexdigest()
        assert body["model_content_size_in_bytes"] == len(zips[zip_name])
        assert body["model_config"]["embedding_dimension"] == len(variant.encoder.tokenizer)


def test_a_missing_model_folder_is_one_clear_error(tmp_path):
    with pytest.raises(KosparseError, match=rf"{tmp_path / 'v9'}: model folder not found"):
        loading.load_variant(tmp_path / "v9")


def test_a_tokenizer_without_tokenizer_json_is_one_clear_error(model_dir, tmp_path):
    broken = shutil.copytree(model_dir, tmp_path / "tiny")
    (broken / "document_0_Transformer" / "tokenizer.json").unlink()
    with pytest.raises(KosparseError, match=r"document_0_Transformer: tokenizer has no tokenizer\.json"):
        loading.load_variant(broken)


def test_an_idf_that_does_not_match_the_tokenizer_is_one_clear_error(model_dir, tmp_path):
    broken = shutil.copytree(model_dir, tmp_path / "tiny")
    idf = json.loads((broken / "idf.json").read_text(encoding="utf-8"))
    del idf["retrieval"]
    (broken / "idf.json").write_text(json.dumps(idf), encoding="utf-8")
    with pytest.raises(KosparseError, match=rf"{broken / 'idf.json'} does not match the tokenizer"):
        loading.load_variant(broken)


def test_an_idf_other_than_the_trained_one_is_one_clear_error(model_dir, tmp_path):
    broken = shutil.copytree(model_dir, tmp_path / "tiny")
    idf = json.loads((broken / "idf.json").read_text(encoding="utf-8"))
    idf["retrieval"] += 1.0
    (broken / "idf.json").write_text(json.dumps(idf), encoding="utf-8")
    with pytest.raises(KosparseError, match=r"1 token weights differ from the model's query weights"):
        loading.load_variant(broken)


def test_pruning_follows_opensearch_prune_utils():
    row = sparse.csr_matrix(np.array([[10.0, 0.0, 8.0, 5.0, 2.0]]))
    kept = {
        "max_ratio": pruning.prune_rows(row, {"type": "max_ratio", "ratio": 0.7}),
        "top_k": pruning.prune_rows(row, {"type": "top_k", "ratio": 3}),
        "alpha_mass": pruning.prune_rows(row, {"type": "alpha_mass", "ratio": 0.8}),
        "abs_value": pruning.prune_rows(row, {"type": "abs_value", "ratio": 5.0}),
        "none": pruning.prune_rows(row, {"type": "none"}),
    }
    assert {k: sorted(m.indices.tolist()) for k, m in kept.items()} == {
        "max_ratio": [0, 2], "top_k": [0, 2, 3], "alpha_mass": [0, 2], "abs_value": [0, 2, 3], "none": [0, 2, 3, 4],
    }  # fmt: skip
    assert prune_vector({"a": 10.0, "b": 8.0, "c": 5.0, "d": 2.0}, {"type": "max_ratio", "ratio": 0.7}) == {
        "a": 10.0,
        "b": 8.0,
    }


@pytest.mark.parametrize(
    "setting", [{"type": "max_ratio", "ratio": 1.0}, {"type": "top_k", "ratio": 0.5}, {"type": "prune_all"}]
)
def test_bad_prune_settings_are_rejected(setting):
    with pytest.raises(KosparseError, match=r"export prune"):
        pruning.check_prune(setting)


@pytest.mark.slow
def test_export_stage_writes_identical_folders_and_the_requests_name_its_models(model_dir, tmp_path):
    """The stage script end to end, twice in fresh processes (TorchScript numbering is per process)."""
    collect = tmp_path / "collect"
    collect.mkdir()
    docs = [{"id": f"d{i}", "source": "en", "title": "", "text": d} for i, (_, d) in enumerate(TINY_PAIRS)]
    pairs = [{"query_id": f"q{i}", "query": q, "positive_ids": [f"d{i}"], "source": "en"}
             for i, (q, _) in enumerate(TINY_PAIRS)]  # fmt: skip
    for name, rows in [("documents", docs), ("pairs_validation", pairs[:3]), ("pairs_test", pairs[3:])]:
        (collect / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["collect"]["sources"] = {"en": {"machine_translated": False}}
    params["export"]["prune_table"] = [{"type": "none"}, {"type": "max_ratio", "ratio": 0.6}]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    metric = {"ndcg@10": 0.9, "mrr@10": 0.9, "recall@10": 1.0, "recall@100": 1.0, "queries": 5}
    (tmp_path / "eval.json").write_text(json.dumps({"tiny": {"en": {"test": metric}}, "sparsity": {}}))
    (tmp_path / "train.json").write_text(json.dumps({"examples": {"en": 8}, "best_checkpoint_step": 4}))

    encode = [sys.executable, "-m", "scripts.15_encode", "--params", str(tmp_path / "params.yaml"),
              "--collect-dir", str(collect), "--model", str(model_dir), "--out", str(tmp_path / "encoded"),
              "--metrics", str(tmp_path / "encode.json")]  # fmt: skip
    subprocess.run(encode, cwd=REPO, check=True, capture_output=True)

    def run_stage(out: str) -> None:
        command = [sys.executable, "-m", "scripts.18_export", "tiny", "--params", str(tmp_path / "params.yaml"),
                   "--model", str(model_dir), "--collect-dir", str(collect), "--encoded", str(tmp_path / "encoded"),
                   "--eval-metrics", str(tmp_path / "eval.json"), "--train-metrics", str(tmp_path / "train.json"),
                   "--out", str(tmp_path / out), "--metrics", str(tmp_path / f"{out}.json")]  # fmt: skip
        subprocess.run(command, cwd=REPO, check=True, capture_output=True)

    run_stage("first")
    run_stage("second")
    files = sorted(p.name for p in (tmp_path / "first").iterdir())
    assert files == sorted(artifacts.ARTIFACT_FILES)
    for name in files:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes(), name
    metrics = json.loads((tmp_path / "first.json").read_text(encoding="utf-8"))
    assert [row["prune"] for row in metrics["prune"]] == ["none", "max_ratio 0.6"]
    assert metrics["prune"][1]["doc_active_dims_mean"] < metrics["prune"][0]["doc_active_dims_mean"]
    card = (tmp_path / "first" / "README.md").read_text(encoding="utf-8")
    assert "| en | 8 | 8 | no |" in card and "max_ratio 0.1" in card

    manifest, bodies = read_export(tmp_path / "first")
    offline = offline_vectors(tmp_path / "first", TINY_PAIRS[0][0], TINY_PAIRS[0][1], manifest["prune"])
    requests = build_requests(manifest, bodies, "http://files:8000", "docs", "sparse retrieval", offline)
    registered = [r.body for r in requests if r.path == "/_plugins/_ml/models/_register"]
    assert [b["name"] for b in registered] == ["kosparse-tiny-doc", "kosparse-tiny-tokenizer"]
    assert registered[0]["url"] == "http://files:8000/document_encoder.zip"
    ingest = next(r.body for r in requests if r.path.startswith("/_ingest/pipeline/"))
    assert ingest["processors"][0]["sparse_encoding"]["prune_type"] == "max_ratio"
    idf = json.loads((model_dir / "idf.json").read_text(encoding="utf-8"))
    assert offline["query_tokens"] == pytest.approx({t: idf[t] for t in TINY_PAIRS[0][0].split()}, rel=1.0e-6)
    assert "retrieval" in offline["document_tokens"]
