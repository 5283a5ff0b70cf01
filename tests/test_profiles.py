import shutil

import pytest
import yaml
from conftest import REPO

from kosparse.dryrun import dry_run
from kosparse.errors import KosparseError
from kosparse.io import load_params
from kosparse.profiles import apply_profile, load_profile


def test_gb10_profile_switches_encoder_and_keeps_everything_else():
    params = load_params(REPO / "params.yaml")
    merged = apply_profile(params, load_profile("gb10", REPO / "profiles"))
    assert merged["base"]["name"] == merged["tokenizer"]["name"] == "klue/bert-base"
    assert merged["train"]["bf16"] is True and merged["train"]["max_length"] == 384
    assert merged["train"]["document_regularizer_weight"] == params["train"]["document_regularizer_weight"]
    sources = merged["collect"]["sources"]
    assert sources["msmarco_ko"] == params["collect"]["sources"]["msmarco_ko"]
    assert sources["korquad"]["mirror_file"] == params["collect"]["sources"]["korquad"]["mirror_file"]
    assert sources["korquad"]["online"]["splits"] == ["train", "validation"] and merged["collect"]["prefer_online"]
    assert merged["llm"]["llama_cpp"]["n_gpu_layers"] == 22 and merged["llm"]["model"].endswith(".gguf")
    assert merged["llm"]["openai"]["api_key_env"] == params["llm"]["openai"]["api_key_env"]
    assert params["base"]["name"] == "scratch", "the input is not modified"


def test_unknown_profile_key_is_an_error():
    with pytest.raises(KosparseError, match=r"profile sets train\.batchsize, which params.yaml does not have"):
        apply_profile({"train": {"batch_size": 1}}, {"train": {"batchsize": 2}})


def test_unknown_profile_name_lists_the_known_ones():
    with pytest.raises(KosparseError, match=r"no such profile \(known: gb10\)"):
        load_profile("gb11", REPO / "profiles")


def test_gb10_dry_run_resolves_every_stage_and_builds_what_needs_no_download():
    default, gb10 = dry_run(REPO, None), dry_run(REPO, "gb10")
    assert gb10["stages"] == default["stages"] and {"train@v1", "train@v2", "query_idf@v2"} <= set(gb10["stages"])
    assert gb10["sources"]["korquad"] == "hf:squad_kor_v1 ['train', 'validation']"
    assert gb10["sources"]["klue_mrc"].startswith("hf:klue (mrc)")
    assert {"ko_wikipedia", "naver_news"} <= gb10["sources"].keys()
    assert default["sources"]["korquad"].startswith("mirror ../shared/datasets/")
    assert gb10["llm"] == {"backend": "llama_cpp", "model": gb10["downloads"]["llm"], "n_gpu_layers": 22}
    assert gb10["downloads"]["base encoder"] == "klue/bert-base" and gb10["train"]["bf16"] is True
    assert default["downloads"] == {}, "the default profile runs offline"


def test_dry_run_builds_the_openai_pool_without_sending_anything(tmp_path):
    shutil.copytree(REPO / "profiles", tmp_path / "profiles")
    (tmp_path / "dvc.yaml").write_bytes((REPO / "dvc.yaml").read_bytes())
    params = load_params(REPO / "params.yaml")
    params["llm"].update(backend="openai", model="Qwen/Qwen2.5-14B-Instruct-AWQ")
    params["llm"]["openai"].update(base_urls=["http://10.0.0.1:8000/v1", "http://10.0.0.2:8000/v1"], concurrency=8)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    report = dry_run(tmp_path, None)
    assert report["llm"] == {"backend": "openai", "model": "Qwen/Qwen2.5-14B-Instruct-AWQ", "servers": 2,
                             "concurrent_requests": 16}  # fmt: skip


def test_a_profile_may_add_sources_and_licences_but_no_other_new_keys():
    params = {"collect": {"sources": {"a": {"kind": "qa"}}}, "export": {"data_licences": {"a": "x"}}}
    merged = apply_profile(
        params, {"collect": {"sources": {"b": {"kind": "docs"}}}, "export": {"data_licences": {"b": "y"}}}
    )
    assert set(merged["collect"]["sources"]) == {"a", "b"} and merged["export"]["data_licences"]["b"] == "y"
    with pytest.raises(KosparseError, match=r"profile sets collect\.sourcez"):
        apply_profile(params, {"collect": {"sourcez": {}}})


def test_switching_profile_keeps_params_comments_and_sets_the_values(tmp_path):
    import subprocess
    import sys

    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    shutil.copytree(REPO / "profiles", tmp_path / "profiles")
    before = (tmp_path / "params.yaml").read_text(encoding="utf-8")
    subprocess.run([sys.executable, "-m", "kosparse.profiles", "gb10"], cwd=tmp_path, check=True, env={
        "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})  # fmt: skip
    after = (tmp_path / "params.yaml").read_text(encoding="utf-8")
    comments = lambda text: [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]  # noqa: E731
    assert comments(before) and set(comments(before)) <= set(comments(after)) | {
        c for c in comments(before) if "klue" in c
    }
    expected = apply_profile(load_params(REPO / "params.yaml"), load_profile("gb10", REPO / "profiles"))
    assert yaml.safe_load(after) == expected
