"""Load declared data sources from the local mirror, or from their online home.

Each source in `params.yaml` (`collect.sources`) has a `kind` that fixes the
shape of its records after loading:

- `qa`: SQuAD-style articles ``{"title", "paragraphs": [{"context", "qas":
  [{"id", "question"}]}]}``; paragraphs become documents, questions queries.
- `query_passages`: ``{"id": int, "query", "positive": [passage, ...]}``.
- `docs`: ``{"id", "title", "text", "date"?}``, documents without queries.

Mirror files are read first; a missing mirror file falls back to the online
source (a Hugging Face dataset, or a URL to a file in the mirror's format).
`collect.prefer_online` reverses that for sources that declare an online home.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from pathlib import Path
from typing import Any

from kosparse.errors import InputError, KosparseError
from kosparse.io import read_json, sha256_file

log = logging.getLogger(__name__)

KINDS = ("qa", "query_passages", "docs")


def _require(obj: Any, key: str, typ: type | tuple, path: Path, record: str) -> Any:
    if not isinstance(obj, dict):
        raise InputError(path, f"expected an object, got {type(obj).__name__}", record)
    if key not in obj:
        raise InputError(path, f'missing field "{key}"', record)
    value = obj[key]
    if not isinstance(value, typ) or isinstance(value, bool):
        names = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
        raise InputError(path, f'field "{key}" should be {names}, got {type(value).__name__}', record)
    return value


def validate_squad(data: Any, path: Path) -> list[dict]:
    """Check SQuAD JSON and return its articles in file order."""
    articles = _require(data, "data", list, path, "top level")
    if not articles:
        raise InputError(path, 'no articles in "data"', "top level")
    for a, article in enumerate(articles):
        _require(article, "title", str, path, f"data[{a}]")
        for p, paragraph in enumerate(_require(article, "paragraphs", list, path, f"data[{a}]")):
            where = f"data[{a}].paragraphs[{p}]"
            _require(paragraph, "context", str, path, where)
            for q, qa in enumerate(_require(paragraph, "qas", list, path, where)):
                _require(qa, "id", (str, int), path, f"{where}.qas[{q}]")
                _require(qa, "question", str, path, f"{where}.qas[{q}]")
    return articles


def validate_query_passages(data: Any, path: Path) -> list[dict]:
    if not isinstance(data, list):
        raise InputError(path, f"expected a JSON list of records, got {type(data).__name__}", "top level")
    if not data:
        raise InputError(path, "no records", "top level")
    for i, row in enumerate(data):
        where = f"record {i}"
        _require(row, "id", int, path, where)
        where = f"record {i} (id={row['id']})"
        _require(row, "query", str, path, where)
        positives = _require(row, "positive", list, path, where)
        for j, passage in enumerate(positives):
            if not isinstance(passage, str):
                raise InputError(path, f"positive[{j}] should be str, got {type(passage).__name__}", where)
    return data


def validate_docs(data: Any, path: Path) -> list[dict]:
    if not isinstance(data, list):
        raise InputError(path, f"expected a JSON list of documents, got {type(data).__name__}", "top level")
    for i, row in enumerate(data):
        _require(row, "id", (str, int), path, f"record {i}")
        _require(row, "text", str, path, f"record {i}")
        if "date" in row and row["date"] is not None:
            _require(row, "date", str, path, f"record {i}")
    return data


VALIDATORS = {"qa": validate_squad, "query_passages": validate_query_passages, "docs": validate_docs}


def qa_rows_to_articles(rows: list[dict]) -> dict:
    """Group flat question rows (Hugging Face SQuAD/KLUE-MRC layout) into SQuAD articles.

    Rows arrive grouped by article and paragraph; consecutive runs of the same
    title form one article, keeping file order (which the split depends on).
    """
    articles: list[dict] = []
    for row in rows:
        if not articles or articles[-1]["title"] != row["title"]:
            articles.append({"title": row["title"], "paragraphs": []})
        paragraphs = articles[-1]["paragraphs"]
        if not paragraphs or paragraphs[-1]["context"] != row["context"]:
            paragraphs.append({"context": row["context"], "qas": []})
        qid = row.get("id", row.get("guid"))
        paragraphs[-1]["qas"].append({"id": qid, "question": row["question"]})
    return {"data": articles}


def _load_hf(online: dict, kind: str) -> Any:
    try:
        import datasets
    except ImportError as e:
        raise KosparseError(
            "the `datasets` package is needed for online sources: pip install -r requirements.txt"
        ) from e
    rows: list[dict] = []
    for split in online.get("splits", ["train"]):
        ds = datasets.load_dataset(online["hf"], online.get("config"), split=split)
        limit = online.get("max_rows")
        rows.extend(ds.select(range(min(limit, len(ds)))) if limit else ds)
    return hf_rows_to_records(rows, online, kind)


def hf_rows_to_records(rows: list[dict], online: dict, kind: str) -> Any:
    """Hugging Face rows → the mirror layout of `kind`, field names from the source's `online` spec.

    `drop_if` names a boolean field whose true rows are left out (KLUE-MRC's
    unanswerable questions are not positives); `id_field`, `text_field` and
    `date_field` map a docs set's columns (news sets have no `id`, only a link).
    """
    if online.get("drop_if"):
        rows = [r for r in rows if not r[online["drop_if"]]]
    if kind == "qa":
        return qa_rows_to_articles(rows)
    if kind == "docs":
        id_field, text_field = online.get("id_field", "id"), online.get("text_field", "text")
        date_field = online.get("date_field")
        return [
            {
                "id": r[id_field],
                "title": r.get("title", ""),
                "text": r[text_field],
                "date": str(r[date_field]) if date_field else None,
            }
            for r in rows
        ]
    return [{"id": int(r["id"]), "query": r["query"], "positive": list(r["positive"])} for r in rows]


def _load_url(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read().decode("utf-8"))


def load_source(name: str, cfg: dict, mirror_dir: str | Path, prefer_online: bool = False) -> tuple[list[dict], dict]:
    """Return (validated records, provenance) for one declared source.

    The mirror file is read when it exists, unless `prefer_online` and the
    source declares an online home (the GB10 profile: full Hugging Face sets
    where the mirror holds a dev slice).
    """
    kind = cfg.get("kind")
    if kind not in KINDS:
        raise KosparseError(f"collect.sources.{name}.kind = {kind!r}: expected one of {', '.join(KINDS)}")
    path = Path(mirror_dir) / cfg["mirror_file"] if cfg.get("mirror_file") else None
    use_mirror = not (prefer_online and (cfg.get("online") or {}))
    if use_mirror and path is not None and path.is_file():
        return VALIDATORS[kind](read_json(path), path), {
            "mirror_file": str(cfg["mirror_file"]),
            "sha256": sha256_file(path),
        }
    online = cfg.get("online") or {}
    where = online.get("hf") or online.get("url")
    if not where:
        raise KosparseError(
            f"source {name}: mirror file {path} not found and no online source declared; "
            f"put the file there or set collect.sources.{name}.online"
        )
    log.info(
        "source %s: loading %s (mirror file %s %s)", name, where, path, "absent" if use_mirror else "not preferred"
    )
    try:
        data = _load_hf(online, kind) if online.get("hf") else _load_url(online["url"])
    except KosparseError:
        raise
    except Exception as e:  # any network or hub failure ends in the same actionable message
        looked = f"looked for mirror file {path} (absent) and " if use_mirror else ""
        fallback = (
            f"download it and place it at {path}, or set collect.mirror_dir to a folder that holds it"
            if use_mirror
            else "set collect.prefer_online: false to read the mirror file instead"
        )
        raise KosparseError(
            f"source {name}: {looked}could not load {where} ({type(e).__name__}: {e}); {fallback}"
        ) from None
    label = Path(f"<{where}>")
    return VALIDATORS[kind](data, label), {"online": where}
