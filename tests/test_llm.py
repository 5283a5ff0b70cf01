import json
import socket
import subprocess
import sys
import time
import urllib.request

import jsonschema
import pytest
from conftest import QWEN_ID, REPO, SMOLLM2_ID

from kosparse.data.text import has_hangul
from kosparse.errors import KosparseError
from kosparse.io import load_params
from kosparse.llm import prompts
from kosparse.llm.answer_cache import AnswerCache, answer_key
from kosparse.llm.backends import decoding_settings
from kosparse.llm.base import Sampling, parse_reply
from kosparse.llm.llama_cpp import LlamaCppBackend
from kosparse.llm.openai_api import OpenAIBackend
from kosparse.llm.transformers_local import TransformersBackend
from kosparse.models import OFFLINE, resolve

SCHEMA = {
    "type": "object",
    "properties": {"colour": {"type": "string", "minLength": 1, "maxLength": 20}},
    "required": ["colour"],
}
ASK = [[{"role": "user", "content": f"Name a colour of {thing}. Answer as JSON."}] for thing in ("grass", "the sky")]
GREEDY = Sampling(temperature=0.0, top_p=1.0, max_tokens=32, seed=7)


def test_parse_reply_keeps_only_the_validated_answer():
    assert parse_reply('<think>maybe {"colour": 3}</think>\n{"colour": "red"}', SCHEMA) == ({"colour": "red"}, None)
    harmony = '<|channel|>analysis<|message|>think {"x": 1}<|end|><|channel|>final<|message|>{"colour": "blue"}<|end|>'
    assert parse_reply(harmony, SCHEMA) == ({"colour": "blue"}, None)
    assert parse_reply('Sure! {"colour": "green"} hope that helps', SCHEMA) == ({"colour": "green"}, None)
    assert parse_reply("", SCHEMA) == (None, "empty")
    assert parse_reply("no json here", SCHEMA) == (None, "invalid_json")
    assert parse_reply('{"colour": ', SCHEMA) == (None, "invalid_json")
    assert parse_reply('{"color": "red"}', SCHEMA) == (None, "schema")


def test_answer_key_changes_with_everything_that_shapes_the_answer():
    decoding = {"backend": "llama_cpp", "parallel": 8}
    base = ("m@abc", decoding, "v1", GREEDY, SCHEMA, ASK[0])
    key = answer_key(*base)
    assert answer_key(*base) == key
    assert answer_key("m@abd", *base[1:]) != key
    assert answer_key(base[0], {**decoding, "parallel": 1}, *base[2:]) != key
    assert answer_key(*base[:2], "v2", *base[3:]) != key
    assert answer_key(*base[:3], Sampling(0.1, 1.0, 32, 7), *base[4:]) != key
    assert answer_key(*base[:5], [{"role": "user", "content": "other text"}]) != key


def test_decoding_settings_follow_what_changes_answers_not_speed():
    llm = load_params(REPO / "params.yaml")["llm"]
    settings = decoding_settings(llm)
    assert settings["backend"] == llm["backend"]

    def changed(section: str, key: str, value) -> dict:
        return decoding_settings({**llm, section: {**llm[section], key: value}})

    # Batched decoding and the grammar change the arithmetic or the tokens allowed: new answers.
    assert changed("llama_cpp", "parallel", 1) != settings
    assert changed("llama_cpp", "grammar", "always") != settings
    assert changed("llama_cpp", "n_batch", 64) != settings
    # Threads, servers and timeouts only change how fast the same answers come.
    assert changed("llama_cpp", "n_threads", 1) == settings
    assert changed("openai", "base_urls", ["http://other:8000/v1"]) == settings
    assert decoding_settings({**llm, "retries": 0}) != settings


def test_answer_cache_survives_a_torn_last_line(tmp_path):
    path = tmp_path / "answers.jsonl"
    with AnswerCache(path) as cache:
        cache.put("a", {"data": {"x": 1}})
        cache.put("b", {"data": {"x": 2}})
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"key": "c", "data": {"x"')  # SIGKILL mid-write
    with AnswerCache(path) as cache:
        assert set(cache.answers) == {"a", "b"}
        cache.put("c", {"data": {"x": 3}})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["a", "b", "c"]


def test_offline_model_is_assembled_and_checked(smollm2_gguf, tmp_path):
    assert smollm2_gguf.stat().st_size == 98_362_432
    assert resolve(str(smollm2_gguf)) == smollm2_gguf  # a local path is used as is
    with pytest.raises(KosparseError, match="no-such-org/no-such-model"):
        resolve("no-such-org/no-such-model", cache_dir=tmp_path)


@pytest.mark.parametrize("grammar,retries", [("always", 0), ("fallback", 1)])
def test_llama_cpp_backend_returns_schema_valid_json(smollm2_gguf, grammar, retries):
    backend = LlamaCppBackend(SMOLLM2_ID, 512, 1, "none", 256, retries=retries, grammar=grammar)
    replies = dict(backend.complete(ASK, SCHEMA, GREEDY))
    assert sorted(replies) == [0, 1]
    for reply in replies.values():
        assert reply.error is None
        jsonschema.validate(reply.data, SCHEMA)
        assert reply.completion_tokens > 0
    assert backend.speed()["decode_tps"] > 0


def test_parallel_decoding_answers_each_prompt_the_same_whatever_ran_before(smollm2_gguf):
    """Prompts decoded side by side; a chunk's answers depend only on the chunk (what resuming needs)."""
    backend = LlamaCppBackend(SMOLLM2_ID, 512, 1, "none", 256, retries=1, grammar="fallback", parallel=2)
    sampled = Sampling(temperature=0.7, top_p=0.9, max_tokens=32, seed=7)
    other = [[{"role": "user", "content": "Name a colour of snow. Answer as JSON."}]]
    first = dict(backend.complete(ASK, SCHEMA, sampled))
    dict(backend.complete(other + other, SCHEMA, sampled))
    again = dict(backend.complete(ASK, SCHEMA, sampled))
    assert sorted(first) == [0, 1]
    for index, reply in first.items():
        assert reply.error is None and reply.completion_tokens > 0
        jsonschema.validate(reply.data, SCHEMA)
        assert (reply.data, reply.completion_tokens) == (again[index].data, again[index].completion_tokens)
    # the shared chat-template prefix is evaluated once for the two prompts
    answers = backend.decoder.generate([backend.decoder.tokens(m) for m in ASK], 0.7, 0.9, 32, 7)
    assert sum(a.prompt_evaluated for a in answers) < sum(a.prompt_tokens for a in answers)
    assert backend.speed()["decode_tps"] > 0


def test_parallel_decoding_needs_the_fallback_grammar_mode(smollm2_gguf):
    with pytest.raises(KosparseError, match="parallel > 1 answers freely first: it needs grammar: fallback"):
        LlamaCppBackend(SMOLLM2_ID, 512, 1, "none", 256, retries=0, grammar="always", parallel=2)


def test_llama_cpp_unknown_grammar_mode_is_an_error(smollm2_gguf):
    with pytest.raises(KosparseError, match="llm.llama_cpp.grammar = 'sometimes'"):
        LlamaCppBackend(SMOLLM2_ID, 512, 1, "none", 256, retries=0, grammar="sometimes")


@pytest.mark.slow
def test_qwen_writes_korean_queries_for_a_korean_passage(qwen_gguf, korquad):
    passage = korquad["data"][0]["paragraphs"][0]["context"][:600]
    backend = LlamaCppBackend(QWEN_ID, n_ctx=2048, n_threads=1, n_gpu_layers="none", n_batch=512, retries=0)
    schema = prompts.DOC2QUERY.schema(3, 80)
    messages = prompts.doc2query_messages(passage, 3)
    [(_, reply)] = list(backend.complete([messages], schema, Sampling(0.0, 1.0, 160, 7)))
    assert reply.error is None, reply
    assert len(reply.data["queries"]) == 3
    assert sum(has_hangul(q) for q in reply.data["queries"]) >= 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(smollm2_gguf):
    """A real llama.cpp OpenAI-compatible server (llama-cpp-python's) on 127.0.0.1."""
    port = _free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_gguf), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "512", "--n_threads", "1", "--model_alias", SMOLLM2_ID]  # fmt: skip
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/models", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("llama_cpp.server did not come up in 60 s")
    yield url
    server.terminate()
    server.wait(timeout=30)


def _openai(urls, timeout_s=60.0, max_retries=1):
    return OpenAIBackend(SMOLLM2_ID, urls, "KOSPARSE_TEST_KEY", 2, timeout_s, max_retries, "json_object", 0)


def test_openai_backend_against_a_real_server(llama_server, monkeypatch):
    monkeypatch.setenv("KOSPARSE_TEST_KEY", "secret-not-logged")
    backend = _openai([llama_server, llama_server])
    replies = dict(backend.complete(ASK, SCHEMA, GREEDY))
    assert sorted(replies) == [0, 1]
    for reply in replies.values():
        assert reply.error is None
        jsonschema.validate(reply.data, SCHEMA)
    assert backend.speed()["decode_tps"] > 0


def test_openai_timeout_is_a_counted_rejection(llama_server):
    [(_, reply)] = list(_openai([llama_server], timeout_s=0.001, max_retries=0).complete(ASK[:1], SCHEMA, GREEDY))
    assert (reply.data, reply.error) == (None, "timeout")


def test_openai_server_down_is_one_clear_error():
    down = f"http://127.0.0.1:{_free_port()}/v1"
    with pytest.raises(KosparseError, match="unreachable"):
        list(_openai([down], max_retries=0).complete(ASK[:1], SCHEMA, GREEDY))


@pytest.mark.slow
def test_transformers_backend_batches_a_real_model(smollm2_gguf):
    backend = TransformersBackend(SMOLLM2_ID, None, "float32", None, None, batch_size=2, retries=1)
    replies = dict(backend.complete(ASK, SCHEMA, GREEDY))
    assert sorted(replies) == [0, 1]
    for reply in replies.values():
        # No grammar here: each answer is schema-valid data or a named rejection, never raw text.
        assert (reply.data is None) != (reply.error is None)
        if reply.data is not None:
            jsonschema.validate(reply.data, SCHEMA)
        assert reply.completion_tokens > 0
    speed = backend.speed()  # read after every answer, as 05_synthesize does
    assert speed["decode_tps"] > 0
    assert speed["prompt_tokens_evaluated"] == sum(r.prompt_tokens for r in replies.values()) > 0


def test_offline_registry_pins_every_hash():
    for model_id, spec in OFFLINE.items():
        assert len(spec.sha256) == 64, model_id
        assert len(spec.packages) == len(spec.members), model_id
