import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(os.environ.get("KOSPARSE_SHARED_DATASETS", REPO.parent / "shared" / "datasets")).resolve()
KORQUAD = SHARED_DATASETS / "korquad_v1.0_dev" / "KorQuAD_v1.0_dev.json"
MSMARCO_KO = SHARED_DATASETS / "msmarco_kor_translated" / "data" / "msmarco_kor.json"


@pytest.fixture
def real_data() -> Path:
    if not KORQUAD.is_file():
        pytest.fail(f"shared data sets not found at {SHARED_DATASETS} (set KOSPARSE_SHARED_DATASETS)")
    return SHARED_DATASETS


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
