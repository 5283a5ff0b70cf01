import pytest
from conftest import REPO

from kosparse.errors import KosparseError
from kosparse.io import load_params
from kosparse.profiles import apply_profile, load_profile


def test_gb10_profile_switches_encoder_and_keeps_everything_else():
    params = load_params(REPO / "params.yaml")
    merged = apply_profile(params, load_profile("gb10", REPO / "profiles"))
    assert merged["base"]["name"] == merged["tokenizer"]["name"] == "klue/bert-base"
    assert merged["train"]["bf16"] is True and merged["train"]["max_length"] == 512
    assert merged["train"]["document_regularizer_weight"] == params["train"]["document_regularizer_weight"]
    assert merged["collect"] == params["collect"]
    assert merged["llm"]["llama_cpp"]["n_gpu_layers"] == "all" and merged["llm"]["model"].endswith(".gguf")
    assert merged["llm"]["openai"]["api_key_env"] == params["llm"]["openai"]["api_key_env"]
    assert params["base"]["name"] == "scratch", "the input is not modified"


def test_unknown_profile_key_is_an_error():
    with pytest.raises(KosparseError, match=r"profile sets train\.batchsize, which params.yaml does not have"):
        apply_profile({"train": {"batch_size": 1}}, {"train": {"batchsize": 2}})


def test_unknown_profile_name_lists_the_known_ones():
    with pytest.raises(KosparseError, match=r"no such profile \(known: gb10\)"):
        load_profile("gb11", REPO / "profiles")
