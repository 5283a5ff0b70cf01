"""The backend `llm.backend` names, built from its params section."""

from __future__ import annotations

from kosparse.errors import KosparseError
from kosparse.llm.base import Backend
from kosparse.llm.llama_cpp import LlamaCppBackend
from kosparse.llm.openai_api import OpenAIBackend
from kosparse.llm.transformers_local import TransformersBackend

# Backend settings that change how fast answers come, never what they say: the answer cache
# key leaves them out, so moving a run to more threads or servers reuses every answer.
SPEED_ONLY = frozenset({"n_threads", "concurrency", "base_urls", "api_key_env", "timeout_s", "max_retries"})


def decoding_settings(cfg: dict) -> dict:
    """What of `llm` shapes an answer besides model, sampling and prompt: the backend, its retries and its
    section less SPEED_ONLY (llama.cpp's `parallel` batches prompts, `grammar` constrains them, `n_batch`
    and GPU offload change the arithmetic)."""
    kind = cfg["backend"]
    section = {k: v for k, v in cfg.get(kind, {}).items() if k not in SPEED_ONLY}
    return {"backend": kind, "retries": cfg.get("retries", 1), **section}


def load_backend(cfg: dict) -> Backend:
    """The backend `llm.backend` names, built from its section of params."""
    kind, retries = cfg["backend"], cfg.get("retries", 1)
    if kind == "llama_cpp":
        c = cfg["llama_cpp"]
        return LlamaCppBackend(
            cfg["model"],
            c["n_ctx"],
            c["n_threads"],
            c["n_gpu_layers"],
            c["n_batch"],
            retries,
            c["grammar"],
            c.get("parallel", 1),
        )
    if kind == "openai":
        c = cfg["openai"]
        return OpenAIBackend(
            cfg["model"],
            c["base_urls"],
            c.get("api_key_env", ""),
            c["concurrency"],
            c["timeout_s"],
            c["max_retries"],
            c["response_format"],
            retries,
        )
    if kind == "transformers":
        c = cfg["transformers"]
        return TransformersBackend(
            cfg["model"],
            c.get("gguf_file"),
            c["dtype"],
            c.get("device_map"),
            c.get("max_memory"),
            c["batch_size"],
            retries,
        )
    raise KosparseError(f"llm.backend = {kind!r}: choose llama_cpp, openai or transformers")
