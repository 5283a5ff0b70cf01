import ast
import json
import os
import subprocess
import sys

import pytest
import yaml
from conftest import REPO

from kosparse.errors import InputError
from kosparse.models import load_sentence_transformer
from kosparse.synonyms.dictionary import (
    build_dictionary,
    clean_en,
    contexts,
    corpus_terms,
    counterparts,
    embed,
    gloss_pairs,
    load_curated,
    mutual_top_k,
    normalize_en,
)

CURATED = REPO / "data_sources" / "curated_pairs.tsv"
GOLD_FOLDERS = ("muse_ko_en", "cc_kedict", "tech_glossaries_ko_en", "kengdic", "wiktionary", "tatoeba", "parallel")
# Everything that builds a dictionary or trend list: none of it may read a gold lexicon.
SOURCE_BUILDING = [
    "kosparse/synonyms/dictionary.py",
    "kosparse/synonyms/verify.py",
    "kosparse/synonyms/prompts.py",
    "kosparse/data/trends.py",
    "scripts/03_trends.py",
    "scripts/04_synonyms.py",
    "scripts/06_verify_synonyms.py",
]


@pytest.fixture(scope="module")
def kiwi():
    from kiwipiepy import Kiwi

    return Kiwi(num_workers=1)


@pytest.fixture(scope="module")
def gemma():
    return load_sentence_transformer("google/embeddinggemma-300m", "synonyms.embedding.model", device="cpu")


def test_curated_file_loads_and_a_malformed_line_names_itself(tmp_path):
    pairs = load_curated(CURATED)
    assert len(pairs) >= 100 and ("모델", "model") in pairs and len(set(pairs)) == len(pairs)
    bad = tmp_path / "pairs.tsv"
    bad.write_text("# comment\n모델\tmodel\n검색\tsearch\textra\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"pairs.tsv: line 3: expected 'korean<TAB>english', got 3 field"):
        load_curated(bad)
    bad.write_text("model\t모델\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 1: first field 'model' is not a Hangul term"):
        load_curated(bad)
    bad.write_text("# only a comment\n", encoding="utf-8")
    with pytest.raises(InputError, match="no pairs"):
        load_curated(bad)


def test_gloss_patterns_find_where_a_multi_word_korean_term_starts(kiwi):
    texts = [
        "중국 서부의 타림 분지(Tarim Basin)는 사막이 넓다.",
        "그는 인공지능(AI) 연구자다.",
        "이 model(모델)은 크다.",
        "그는 시위를 주도한 혐의(charge)로 체포되었다.",
        "이 단어는 gank(동사)로 쓰인다.",
        "색인[index]을 만든다.",
    ]
    found = gloss_pairs(kiwi, texts, max_words=4)
    assert ("타림 분지", "tarim basin") in found
    assert ("인공지능", "ai") in found
    assert ("모델", "model") in found
    assert ("혐의", "charge") in found and not any(ko.startswith("주도") for ko, _ in found)
    assert ("색인", "index") in found
    assert ("동사", "gank") in found  # a label, not a translation: the similarity threshold drops it later


def test_corpus_terms_on_real_korquad_paragraphs(kiwi, korquad):
    data = korquad["data"]
    texts = [p["context"] for article in data[:5] for p in article["paragraphs"]]
    korean, english = corpus_terms(kiwi, texts + ["search engine 과 search 엔진"])
    assert korean.most_common(1)[0][1] > 5 and all(len(t) >= 2 for t in korean)
    assert english["search engine"] == 1 and english["search"] == 2
    assert "the" not in english and not any(t.isdigit() for t in english)


def test_embedding_mutual_top_k_pairs_translations_and_not_noise(gemma):
    korean, english = ["모델", "대통령", "바나나"], ["model", "president", "banana", "gank"]
    vectors = embed(gemma, korean + english)
    pairs = mutual_top_k(korean, english, vectors, k=1, threshold=0.8)
    assert [(ko, en) for ko, en, _ in pairs] == [("모델", "model"), ("대통령", "president"), ("바나나", "banana")]
    assert all(score >= 0.8 for *_, score in pairs)
    assert mutual_top_k(korean, english, vectors, k=1, threshold=0.99) == []


@pytest.mark.slow
def test_unknown_embedding_model_is_a_clear_one_line_error(tmp_path):
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["synonyms"]["embedding"]["model"] = "no-such-org/no-such-embedder"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    (tmp_path / "docs.jsonl").write_text(
        json.dumps({"id": "d", "source": "s", "text": "모델(model)을 학습한다."}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "base.json"
    done = subprocess.run(
        [sys.executable, "-m", "scripts.04_synonyms", "--params", str(tmp_path / "params.yaml"),
         "--documents", str(tmp_path / "docs.jsonl"), "--curated", str(CURATED),
         "--out", str(out), "--metrics", str(tmp_path / "m.json")],
        cwd=REPO, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert done.returncode == 2 and not out.exists()
    assert "error: synonyms.embedding.model: model 'no-such-org/no-such-embedder'" in done.stderr


def test_dictionary_merges_sources_and_groups_terms():
    candidates = [
        {"ko": "모델", "en": "model", "source": "curated", "similarity": 0.95},
        {"ko": "모델", "en": "model", "source": "gloss", "similarity": 0.95, "count": 3},
        {"ko": "모형", "en": "model", "source": "embedding", "similarity": 0.9},
        {"ko": "검색", "en": "search", "source": "curated", "similarity": 0.9},
    ]
    d = build_dictionary(candidates)
    assert [(p["ko"], p["en"], sorted(p["sources"])) for p in d["pairs"]] == [
        ("검색", "search", ["curated"]),
        ("모델", "model", ["curated", "gloss"]),
        ("모형", "model", ["embedding"]),
    ]
    assert d["pairs"][1]["sources"]["gloss"] == {"count": 3}
    assert d["groups"] == [["model", "모델", "모형"], ["search", "검색"]]
    assert counterparts(d["pairs"])["model"] == ["모델", "모형"]


def test_english_normalisation_and_contexts():
    assert normalize_en("The Models") == "model" and normalize_en("class") == "class"
    assert normalize_en("to search (verb)") == "search" and clean_en(" Deep  Learning. ") == "deep learning"
    found = contexts(["첫 문서", "검색 엔진 OpenSearch 는 빠르다"], ["opensearch", "없는말"], width=12)
    assert "OpenSearch" in found["opensearch"] and found["없는말"] == ""


def test_no_source_building_code_reads_the_gold_lexicons():
    """Gold is for measurement: neither the dictionary/trend code nor its DVC stages may touch it."""
    for rel in SOURCE_BUILDING:
        text = (REPO / rel).read_text(encoding="utf-8")
        assert not any(folder in text for folder in GOLD_FOLDERS), rel
        imported = {
            alias.name if isinstance(node, ast.Import) else node.module
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in (node.names if isinstance(node, ast.Import) else [node])
        }
        assert not any("lexicons" in (name or "") or "synonym_eval" in (name or "") for name in imported), rel
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    for stage in ("trends", "synonyms", "verify_synonyms"):
        deps = " ".join(stages[stage]["deps"]) + stages[stage]["cmd"]
        assert "mirror_dir" not in deps and "shared" not in deps and "gold" not in deps, stage
    # Transitively, too: importing the stage scripts must not load the gold module.
    probe = (
        "import importlib, sys\n"
        + "".join(
            f"importlib.import_module('scripts.{name}')\n"
            for name in ("03_trends", "04_synonyms", "06_verify_synonyms")
        )
        + "print('kosparse.synonyms.lexicons' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
