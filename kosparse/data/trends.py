"""Trend keywords from dated documents: what is frequent *now* compared with before.

A term trends when the share of recent documents containing it is well above
its share in a history window that ends where the recent window starts. Both
windows end at the newest document date in the corpus — never at "now", and
undated documents are never given a date: a corpus without dates has no
trends (an earlier project dated everything "now", so "trending" meant
"frequent").

Terms are Kiwi morphemes with content tags (particles, endings, symbols
dropped), lower-cased; digits-only terms and tokenizer subword pieces are
removed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence

from kosparse.errors import InputError

CONTENT_TAGS = frozenset({"NNG", "NNP", "SL", "SH", "XR"})


def document_date(doc: dict, where: str) -> dt.date | None:
    """The document's `date` (ISO 8601, date part used), None when it has none; a malformed one is an error."""
    value = doc.get("date")
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InputError(where, f"date {value!r} is not ISO 8601 (YYYY-MM-DD…)", f"document {doc.get('id')}") from None


def is_trend_term(term: str) -> bool:
    return len(term) >= 2 and not term.isdigit() and not term.startswith("##")


def terms_per_document(kiwi, texts: Sequence[str]) -> list[set[str]]:
    return [
        {t.form.lower() for t in tokens if t.tag in CONTENT_TAGS and is_trend_term(t.form.lower())}
        for tokens in kiwi.tokenize(list(texts))
    ]


def windows(newest: dt.date, recent_days: int, history_days: int) -> tuple[tuple[dt.date, dt.date], ...]:
    """(recent, history) as inclusive date ranges: recent ends at `newest`, history ends the day before it."""
    recent_start = newest - dt.timedelta(days=recent_days - 1)
    history_end = recent_start - dt.timedelta(days=1)
    return (recent_start, newest), (history_end - dt.timedelta(days=history_days - 1), history_end)


def trending(dates: Sequence[dt.date | None], term_sets: Sequence[set[str]], cfg: dict) -> dict:
    """Trend scores and bounded boosts; an empty result (with the reason) when no document has a date.

    ratio = ((df_recent + s) / (N_recent + s)) / ((df_history + s) / (N_history + s)) with additive
    smoothing s, so a term absent from history gets a finite ratio. A term trends when it is in at least
    `min_count` recent documents and its ratio ≥ `min_ratio`; its boost is
    min(max_boost, 1 + boost_scale · ln(ratio)), never below 1.
    """
    dated = [(d, terms) for d, terms in zip(dates, term_sets, strict=True) if d is not None]
    result = {"documents": {"total": len(dates), "dated": len(dated), "recent": 0, "history": 0}, "terms": []}
    if not dated:
        return {**result, "status": "no_dates"}
    (r0, r1), (h0, h1) = windows(max(d for d, _ in dated), cfg["recent_days"], cfg["history_days"])
    recent = [terms for d, terms in dated if r0 <= d <= r1]
    history = [terms for d, terms in dated if h0 <= d <= h1]
    result["documents"].update(recent=len(recent), history=len(history))
    result["windows"] = {"recent": [r0.isoformat(), r1.isoformat()], "history": [h0.isoformat(), h1.isoformat()]}
    if not recent or not history:
        return {**result, "status": "empty_window"}
    df_recent = Counter(t for terms in recent for t in terms)
    df_history = Counter(t for terms in history for t in terms)
    s = cfg["smoothing"]
    found = []
    for term, count in df_recent.items():
        if count < cfg["min_count"]:
            continue
        ratio = ((count + s) / (len(recent) + s)) / ((df_history[term] + s) / (len(history) + s))
        if ratio >= cfg["min_ratio"]:
            boost = max(1.0, min(cfg["max_boost"], 1.0 + cfg["boost_scale"] * math.log(ratio)))
            found.append(
                {"term": term, "recent_df": count, "history_df": df_history[term],
                 "ratio": round(ratio, 4), "boost": round(boost, 4)}
            )  # fmt: skip
    found.sort(key=lambda t: (-t["ratio"], t["term"]))
    return {**result, "status": "ok", "terms": found[: cfg["top_k"]]}
