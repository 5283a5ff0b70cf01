"""The GPU path, proven on a GPU: train → evaluate → export, and the transformers LLM backend, on CUDA.

Skipped (with the reason) where no CUDA device is visible, so CI on CPU stays green;
run them on a GPU machine with `pytest -m gpu`.
"""

import pytest
import torch
from conftest import SMOLLM2_ID, TINY_DOCUMENT_SIDE, TINY_PAIRS, TRAIN_CFG

from kosparse.device import torch_device

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible: the gpu tests need one"),
]


def test_train_evaluate_export_on_cuda(splade_tiny, splade_tiny_idf, tiny_data, tmp_path):
    import shutil

    from kosparse.evaluation.retrieval import SparseRetriever, evaluate_retriever
    from kosparse.export import artifacts, emulation, loading
    from kosparse.model.sparse_model import build_model, load_encoder, save_encoder
    from kosparse.model.training import retrieval_evaluator, train, training_examples

    assert torch_device() == "cuda"
    documents, pairs, negatives = tiny_data
    model = build_model(splade_tiny, splade_tiny_idf, 64, **TINY_DOCUMENT_SIDE).to("cuda")
    dataset = training_examples(pairs, negatives, {d["id"]: d["text"] for d in documents}, 1)
    evaluator = retrieval_evaluator(pairs, documents, "validation", 8)
    summary = train(model, dataset, evaluator, TRAIN_CFG, str(tmp_path / "work"), 42, [d["text"] for d in documents])
    assert summary["steps"] == TRAIN_CFG["max_steps"]
    save_encoder(model, tmp_path / "model")
    shutil.copyfile(splade_tiny_idf, tmp_path / "model" / "idf.json")

    loaded = load_encoder(tmp_path / "model")  # on the project's device: CUDA here
    assert next(loaded.parameters()).device.type == "cuda"
    metrics = evaluate_retriever(SparseRetriever("gpu", loaded, 4), documents, {"test": pairs}, 10)
    assert metrics["en"]["test"]["ndcg@10"] > 0.5

    variant = loading.load_variant(tmp_path / "model")  # the trace is made on the CPU, for OpenSearch's nodes
    zips = artifacts.build_zips(variant, artifacts.model_names("kosparse", "gpu"), TINY_PAIRS[0][1])
    parity = emulation.document_parity(variant, zips[artifacts.DOCUMENT_ZIP], [d for _, d in TINY_PAIRS])
    assert parity["max_abs_diff"] <= 1.0e-4


def test_transformers_llm_backend_on_cuda(smollm2_gguf):
    from kosparse.llm.base import Sampling
    from kosparse.llm.transformers_local import TransformersBackend

    backend = TransformersBackend(SMOLLM2_ID, None, "bfloat16", None, None, batch_size=2, retries=0)
    assert backend.model.device.type == "cuda"
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    prompts = [[{"role": "user", "content": 'Reply with JSON {"answer": "..."}: capital of France?'}]] * 2
    replies = dict(backend.complete(prompts, schema, Sampling(temperature=0.0, top_p=1.0, max_tokens=32, seed=1)))
    assert sorted(replies) == [0, 1] and all(r.completion_tokens > 0 for r in replies.values())
    assert backend.speed()["decode_tps"] > 0
