"""Bad input: one error naming the file and record; no partial output left behind."""

import json
import socket
import subprocess
import sys

import pytest
import yaml
from conftest import REPO

from kosparse.data.sources import hf_rows_to_records, load_source, qa_rows_to_articles, validate_docs
from kosparse.errors import InputError, KosparseError

QA = {"kind": "qa", "mirror_file": "dev.json"}
QP = {"kind": "query_passages", "mirror_file": "mm.json"}


def _write(tmp_path, name, text):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_malformed_json_names_file_and_line(tmp_path):
    _write(tmp_path, "dev.json", '{"data": [\n  {"title": "x",\n  "paragraphs": [}\n]}')
    with pytest.raises(InputError, match=r"dev\.json: line 3 column 18: malformed JSON"):
        load_source("kq", QA, tmp_path)


def test_empty_file_is_an_error(tmp_path):
    _write(tmp_path, "dev.json", "  \n")
    with pytest.raises(InputError, match=r"dev\.json: file is empty"):
        load_source("kq", QA, tmp_path)


def test_missing_field_names_the_record(tmp_path):
    bad = {
        "data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [{"id": "1", "question": "q"}, {"id": "2"}]}]}]
    }
    _write(tmp_path, "dev.json", json.dumps(bad))
    with pytest.raises(InputError, match=r'data\[0\]\.paragraphs\[0\]\.qas\[1\]: missing field "question"'):
        load_source("kq", QA, tmp_path)


def test_wrong_type_names_the_record_and_types(tmp_path):
    _write(tmp_path, "mm.json", json.dumps([{"id": 1, "query": "q", "positive": ["p"]}, {"id": 2, "query": 7}]))
    with pytest.raises(InputError, match=r'record 1 \(id=2\): field "query" should be str, got int'):
        load_source("mm", QP, tmp_path)
    _write(tmp_path, "mm.json", json.dumps([{"id": "3", "query": "q", "positive": []}]))
    with pytest.raises(InputError, match=r'record 0: field "id" should be int, got str'):
        load_source("mm", QP, tmp_path)


def test_unknown_kind_is_rejected(tmp_path):
    with pytest.raises(KosparseError, match=r"collect\.sources\.x\.kind = 'csv'"):
        load_source("x", {"kind": "csv", "mirror_file": "a"}, tmp_path)


def test_absent_mirror_and_unreachable_online_source_says_what_to_do(tmp_path):
    with socket.socket() as s:  # a closed local port: the "online" source cannot answer
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = {**QP, "online": {"url": f"http://127.0.0.1:{port}/mm.json"}}
    with pytest.raises(KosparseError) as err:
        load_source("mm", cfg, tmp_path)
    message = str(err.value)
    assert f"looked for mirror file {tmp_path / 'mm.json'}" in message
    assert "place it at" in message and "collect.mirror_dir" in message


def test_absent_mirror_without_online_source(tmp_path):
    with pytest.raises(KosparseError, match=r"mm\.json not found and no online source declared"):
        load_source("mm", QP, tmp_path)


def test_flat_hugging_face_rows_group_into_articles_in_order():
    rows = [
        {"id": "1", "title": "A", "context": "a1", "question": "q1"},
        {"id": "2", "title": "A", "context": "a1", "question": "q2"},
        {"id": "3", "title": "A", "context": "a2", "question": "q3"},
        {"id": "4", "title": "B", "context": "b1", "question": "q4"},
    ]
    data = qa_rows_to_articles(rows)["data"]
    assert [a["title"] for a in data] == ["A", "B"]
    assert [[len(p["qas"]) for p in a["paragraphs"]] for a in data] == [[2, 1], [1]]


def test_collect_stage_fails_cleanly_on_bad_input(tmp_path, small_mirror):
    (small_mirror / "msmarco/ko.json").write_text('[{"id": 1, "query": "질문", "positive": [3]}]', encoding="utf-8")
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["collect"]["mirror_dir"] = str(small_mirror)
    params["collect"]["sources"]["korquad"]["mirror_file"] = "korquad/dev.json"
    params["collect"]["sources"]["msmarco_ko"]["mirror_file"] = "msmarco/ko.json"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.01_collect",
            "--params",
            str(tmp_path / "params.yaml"),
            "--out-dir",
            str(out / "collect"),
            "--metrics",
            str(out / "collect.json"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {small_mirror / 'msmarco/ko.json'}: record 0 (id=1): positive[0] should be str, got int"
    )
    assert not out.exists() or not any(out.iterdir())


def test_hugging_face_rows_map_to_the_mirror_layout_by_the_declared_fields():
    klue = [
        {"title": "t", "context": "문단 하나", "question": "무엇?", "guid": "g1", "is_impossible": False},
        {"title": "t", "context": "문단 하나", "question": "답 없음?", "guid": "g2", "is_impossible": True},
    ]
    articles = hf_rows_to_records(klue, {"drop_if": "is_impossible"}, "qa")
    assert [q["id"] for q in articles["data"][0]["paragraphs"][0]["qas"]] == ["g1"]
    news = [{"link": "https://n/1", "title": "제목", "document": "본문", "date": "2022-07-03 17:14:37"}]
    online = {"id_field": "link", "text_field": "document", "date_field": "date"}
    (doc,) = validate_docs(hf_rows_to_records(news, online, "docs"), "news")
    assert doc == {"id": "https://n/1", "title": "제목", "text": "본문", "date": "2022-07-03 17:14:37"}


def test_prefer_online_skips_the_mirror_only_for_sources_with_an_online_home(tmp_path):
    article = {"title": "t", "paragraphs": [{"context": "문단", "qas": [{"id": "q1", "question": "무엇?"}]}]}
    _write(tmp_path, "dev.json", json.dumps({"data": [article]}))
    records, provenance = load_source("kq", QA, tmp_path, prefer_online=True)
    assert provenance["mirror_file"] == "dev.json", "no online home: the mirror is still read"
    cfg = {**QA, "online": {"url": "http://127.0.0.1:9/none.json"}}
    with pytest.raises(KosparseError, match=r"source kq: could not load .*set collect\.prefer_online: false"):
        load_source("kq", cfg, tmp_path, prefer_online=True)
