"""One interface to local LLMs: many chat prompts in, schema-valid JSON objects out.

Backends (params `llm.backend`):
- `llama_cpp`: a GGUF file in process through llama-cpp-python; the JSON schema
  becomes a grammar, and llama.cpp reuses the KV cache of the longest common
  prompt prefix, so a fixed system + few-shot prefix is evaluated once.
- `openai`: any OpenAI-compatible server (llama.cpp server, vLLM, Ollama,
  SGLang); a list of base URLs is a pool served by N concurrent requests each.
- `transformers`: a Hugging Face causal LM, batched with left padding and the
  model's chat template; the schema is enforced by validate-and-retry.

Every backend yields `(index, Reply)` as answers finish, so the caller can
persist each one before the next arrives; a reply is schema-valid data or a
named rejection, never raw text to execute.
"""
