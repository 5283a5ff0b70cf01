import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import yaml
from conftest import REPO, SMOLLM2_ID

from kosparse.data.analyzers import KiwiAnalyzer
from kosparse.evaluation.retrieval import BM25Retriever
from kosparse.llm.synthesis import (
    Candidate,
    Task,
    copy_ratio,
    dedup_key,
    expand,
    pair_record,
    plan_tasks,
    round_trip,
    summarise,
    text_rules,
)

CFG = {"query_chars": [4, 40], "passage_chars": [20, 400], "near_copy_ratio": 0.9, "near_copy_min_chars": 15}
DOC = "세종은 1443년에 훈민정음을 창제하고 1446년에 반포하였다. 훈민정음은 오늘날 한글의 바탕이 되었다."


def _cand(text, kind="doc2query", reference=DOC, doc_id="d0", query=None):
    return Candidate(kind, query or text, "ko", doc_id, text, reference, 0, 0)


def test_dedup_key_ignores_case_spacing_and_punctuation():
    assert dedup_key("훈민정음  반포 연도?") == dedup_key("훈민정음 반포연도")
    assert dedup_key("OpenSearch 라이선스") == dedup_key("opensearch 라이선스!")
    assert dedup_key("훈민정음 반포") != dedup_key("훈민정음 창제")


def test_copy_ratio_measures_the_longest_verbatim_run():
    assert copy_ratio("1443년에 훈민정음을 창제하고", DOC) == 1.0
    assert copy_ratio("훈민정음 창제 연도", DOC) < 0.6


def test_text_rules_count_each_rejection_under_its_rule():
    candidates = [
        _cand("what year was it"),  # no Hangul
        _cand("훈민정음为何存在"),  # Chinese its passage does not have
        _cand("훈민정음(訓民正音) 반포 연도", reference="훈민정음(訓民正音)은 1446년에 반포되었다."),  # Hanja it quotes
        _cand("한글"),  # too short
        _cand("세종은 1443년에 훈민정음을 창제하고"),  # verbatim span of the passage
        _cand("훈민정음 반포 연도"),
        _cand("훈민정음 반포연도?"),  # duplicate of the previous after normalisation
        _cand("한글의 바탕이 된 문자"),  # equal to a real query
        _cand("훈민정음은 언제 반포", kind="paraphrase", reference="훈민정음은 언제 반포?"),  # not a rewrite
        _cand("세종이 훈민정음을 반포한 해", kind="paraphrase", reference="훈민정음은 언제 반포?"),
    ]
    kept, rejected = text_rules(candidates, CFG, seen={dedup_key("한글의 바탕이 된 문자")})
    assert [c.text for c in kept] == [
        "훈민정음(訓民正音) 반포 연도",
        "훈민정음 반포 연도",
        "세종이 훈민정음을 반포한 해",
    ]
    assert [rule for _, rule in rejected] == [
        "hangul",
        "script",
        "length",
        "near_copy",
        "duplicate",
        "duplicate",
        "near_copy",
    ]


def test_round_trip_keeps_queries_that_find_their_source():
    documents = [
        {"id": "d0", "source": "ko", "text": DOC},
        {"id": "d1", "source": "ko", "text": "오픈서치는 아파치 라이선스 2.0으로 배포되는 검색 엔진이다."},
        {"id": "d2", "source": "ko", "text": "김치는 배추와 고춧가루로 담그는 한국의 발효 음식이다."},
    ]
    good = _cand("훈민정음 반포 연도", doc_id="d0")
    wrong = _cand("오픈서치 라이선스", doc_id="d0")  # finds d1, not its source
    passage = _cand(
        "오픈서치는 검색 엔진이며 라이선스는 아파치 2.0이다.", kind="query2doc", doc_id="", query="오픈서치 라이선스"
    )
    analyzer = KiwiAnalyzer(["NNG", "NNP", "SL", "SN"])
    kept, rejected = round_trip([good, wrong, passage], documents, 1, lambda: BM25Retriever("k", analyzer))
    assert kept == [good, passage]
    assert [(c, r) for c, r in rejected] == [(wrong, "round_trip")]
    assert good.scores["bm25_rank"] == 1 and wrong.scores["bm25_rank"] is None


def test_generated_passages_never_change_a_query_verdict():
    documents = [
        {"id": "d0", "source": "ko", "text": DOC},
        {"id": "d1", "source": "ko", "text": "오픈서치는 아파치 라이선스 2.0으로 배포되는 검색 엔진이다."},
    ]
    analyzer = KiwiAnalyzer(["NNG", "NNP", "SL", "SN"])

    def verdict(with_passage: bool) -> list:
        query = _cand("오픈서치 라이선스", doc_id="d1")
        passage = _cand("오픈서치 라이선스.", kind="query2doc", doc_id="", query="오픈서치 라이선스")
        kept, _ = round_trip(
            [query, passage] if with_passage else [query], documents, 1, lambda: BM25Retriever("k", analyzer)
        )
        return [c.kind for c in kept]

    assert verdict(False) == ["doc2query"]
    assert verdict(True) == ["doc2query", "query2doc"], "the short passage outranks d1 only in its own index"


def _korquad_collect(korquad, root, paragraphs=12):
    """A tiny collect folder from real KorQuAD paragraphs: documents and training pairs."""
    data = korquad["data"]
    docs, pairs = [], []
    for article in data[:4]:
        for paragraph in article["paragraphs"][:3]:
            doc_id = f"korquad:{len(docs)}"
            docs.append({"id": doc_id, "source": "korquad", "text": paragraph["context"]})
            for qa in paragraph["qas"][:1]:
                pairs.append(
                    {"query_id": qa["id"], "query": qa["question"], "positive_ids": [doc_id], "source": "korquad"}
                )
    root.mkdir(parents=True)
    for name, rows in [("documents.jsonl", docs[:paragraphs]), ("pairs_train.jsonl", pairs)]:
        (root / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return docs, pairs


def _tiny_params(tmp_path, grammar="always", retries=0, parallel=1):
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["llm"].update(model=SMOLLM2_ID, max_tokens=128, retries=retries)
    # SmolLM2 needs the grammar to answer in JSON: always, or on the retry after a parallel free attempt
    params["llm"]["llama_cpp"].update(n_ctx=4096, grammar=grammar, parallel=parallel)
    params["synthesize"]["max_doc_chars"] = 150  # SmolLM2 spends ~3 tokens per Hangul syllable
    s = params["synthesize"]
    s["doc2query"].update(sources=["korquad"], num_docs=5, per_doc=2)
    s["paraphrase"].update(sources=["korquad"], num_queries=2)
    s["query2doc"].update(sources=["korquad"], num_queries=1)
    s["llm_negative"].update(sources=["korquad"], num_queries=1)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return path, params


def test_plan_is_fixed_and_sized_by_params(tmp_path, korquad):
    docs, pairs = _korquad_collect(korquad, tmp_path / "collect")
    _, params = _tiny_params(tmp_path)
    tasks = plan_tasks(docs, pairs, params["synthesize"], seed=42)
    assert Counter(t.kind for t in tasks) == {"doc2query": 5, "paraphrase": 2, "query2doc": 1, "llm_negative": 1}
    assert [t.messages for t in tasks] == [t.messages for t in plan_tasks(docs, pairs, params["synthesize"], seed=42)]
    larger = {**params["synthesize"], "doc2query": {**params["synthesize"]["doc2query"], "num_docs": 8}}
    doc_ids = lambda plan: [t.item["id"] for t in plan if t.kind == "doc2query"]  # noqa: E731
    assert doc_ids(plan_tasks(docs, pairs, larger, seed=42))[:5] == doc_ids(tasks)
    # Untrusted document text enters the prompt only as a quoted JSON string.
    limit = params["synthesize"]["max_doc_chars"]
    assert json.dumps(tasks[0].item["text"][:limit], ensure_ascii=False) in tasks[0].messages[-1]["content"]
    records = [{"data": None, "error": "schema"}] + [{"data": {}, "error": None}] * (len(tasks) - 1)
    kept = [_cand(f"질의 {i}") for i in range(7)]  # doc2query: 7 kept, 1 rejected, 2 lost with the bad answer
    report = summarise(tasks, records, kept, [(_cand("x"), "hangul")])["doc2query"]
    assert (report["requested"], report["generated"], report["accepted"]) == (10, 8, 7)
    assert report["rejected"]["llm"] == 2 and report["rejected"]["hangul"] == 1
    assert report["llm_errors"] == {"schema": 1}


def test_passage_records_name_the_real_query_positive_that_mix_must_not_mine_as_a_negative():
    pair = {"query_id": "q1", "query": "한글 창제 연도", "positive_ids": ["d7"], "source": "ko", "positive_text": DOC}
    records = {}
    for kind, answer in (("query2doc", {"passage": "한글은 1443년에 창제되었다."}),
                         ("llm_negative", {"passage": "한글날은 10월 9일이다."})):  # fmt: skip
        [cand] = expand(0, Task(kind, pair, [], {}, 1), answer)
        records[kind] = pair_record(cand, "model", "v")
    assert records["query2doc"]["doc_id"] == records["llm_negative"]["doc_id"] == "d7"
    assert records["query2doc"]["document"] == "한글은 1443년에 창제되었다."
    assert records["llm_negative"]["negative"] == "한글날은 10월 9일이다." and "document" not in records["llm_negative"]


def _synthesize(tmp_path, params, cache, out):
    cmd = [sys.executable, "-m", "scripts.05_synthesize", "--params", str(params),
           "--collect-dir", str(tmp_path / "collect"), "--out-dir", str(out),
           "--metrics", str(out) + ".json", "--times", str(out) + ".times.json", "--cache", str(cache)]  # fmt: skip
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _lines(path):
    return path.read_text(encoding="utf-8").count("\n") if path.exists() else 0


@pytest.mark.slow
@pytest.mark.parametrize("grammar,retries,parallel", [("always", 0, 1), ("fallback", 1, 3)])
def test_sigkill_at_several_points_then_resume_gives_the_uninterrupted_output(
    tmp_path, smollm2_gguf, korquad, grammar, retries, parallel
):
    """Also with 3 prompts decoded together: a resumed run gets the same chunks, hence the same answers."""
    _korquad_collect(korquad, tmp_path / "collect")
    params, _ = _tiny_params(tmp_path, grammar, retries, parallel)
    reference = _synthesize(tmp_path, params, tmp_path / "ref_cache.jsonl", tmp_path / "ref")
    assert reference.wait(timeout=600) == 0, reference.stderr.read()

    cache = tmp_path / "cache.jsonl"
    for kill_after in (1, 4, 7):  # answers cached when the stage is killed
        proc = _synthesize(tmp_path, params, cache, tmp_path / "out")
        while _lines(cache) < kill_after and proc.poll() is None:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert not (tmp_path / "out").exists()  # nothing half-written
    final = _synthesize(tmp_path, params, cache, tmp_path / "out")
    assert final.wait(timeout=600) == 0, final.stderr.read()

    keys = [json.loads(line)["key"] for line in cache.read_text(encoding="utf-8").splitlines()]
    assert len(keys) == len(set(keys)) == 9  # nothing lost, nothing asked twice
    for name in ("pairs.jsonl", "rejected.jsonl"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "ref" / name).read_bytes(), name
    metrics = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    times = json.loads((tmp_path / "out.times.json").read_text(encoding="utf-8"))
    assert metrics["llm_requests"] == 9 and times["llm_requests_fresh"] == 9 - 7
    assert metrics == json.loads((tmp_path / "ref.json").read_text(encoding="utf-8")), "no wall-clock field in it"
    counted = sum(sum(g["rejected"].values()) + g["accepted"] for g in metrics["generators"].values())
    assert counted == metrics["requested"]
