"""Korean–English synonym dictionary: candidate pairs from the corpus, embeddings and a curated file.

Three sources feed `data/synonyms/base.json` (stage 04):
- gloss: the corpus glosses a term in brackets, `모델(model)`, `model(모델)`,
  `인공지능(AI)`; Kiwi finds where a multi-word Korean term starts
  (`타림 분지(Tarim Basin)`, not `분지`);
- embedding: Korean nouns and English words of the corpus whose multilingual
  embeddings are each other's top-k neighbours above a threshold;
- curated: `data_sources/curated_pairs.tsv`, written for this project.

English is stored lower-cased: the tokenizer and the Kiwi analyzer lower-case
too, so case never separates two spellings of one term.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from kosparse.errors import InputError

_PAREN = re.compile(r"\([^)]*\)")
_ARTICLE = re.compile(r"^(?:to|a|an|the)\s+")
HANGUL_TERM = re.compile(r"^[\uac00-\ud7a3]+(?: [\uac00-\ud7a3]+)*$")
LATIN_TERM = re.compile(r"^[a-z][a-z0-9.&'\-]*(?: [a-z][a-z0-9.&'\-]*)*$")
# Function words and Latin tokens that are not terms (units of one letter are dropped by length).
STOP_EN = frozenset(
    "a an and are as at be by for from in inc is it of on or the to was with "
    "vs etc co ltd jr sr st mr mrs dr no".split()
)
NOUN_TAGS = frozenset({"NNG", "NNP"})
# Morphemes that may continue a multi-word Korean term leftwards: nouns, noun prefixes/suffixes, roots.
TERM_TAGS = frozenset({"NNG", "NNP", "XPN", "XSN", "XR"})

# KO(EN) / KO[EN]: Latin content up to a comma, semicolon or the closing bracket.
_KO_EN = re.compile(r"(?<=[\uac00-\ud7a3])\s?[(\[]\s*([A-Za-z][A-Za-z0-9.&'\- ]{0,60}?)\s*[,;)\]]")
# EN(KO) / EN[KO]: up to four Latin words, then Hangul words in brackets.
_EN_KO = re.compile(
    r"((?:[A-Za-z][A-Za-z0-9.&'\-]*\s){0,3}[A-Za-z][A-Za-z0-9.&'\-]*)\s?[(\[]\s*"
    r"([\uac00-\ud7a3]+(?: [\uac00-\ud7a3]+){0,4})\s*[)\]]"
)


def normalize_en(text: str) -> str:
    """Comparison form of an English term: lower case, no parenthetical, no leading article or 'to', naive singular.

    The singular rule (drop one trailing 's' unless it follows 's', 'u', 'i'
    or an apostrophe) lets 'models' meet 'model' without a lemmatiser and
    leaves 'class', 'bus', 'analysis' alone.
    """
    text = unicodedata.normalize("NFC", _PAREN.sub(" ", text)).lower()
    text = " ".join(re.sub(r"[^\w\s\-.&']", " ", text).split()).strip(" .")
    text = _ARTICLE.sub("", text)
    if len(text) > 3 and text.endswith("s") and text[-2] not in "sui'":
        text = text[:-1]
    return text


def clean_en(text: str) -> str:
    """Lower case, NFC, single spaces, no surrounding punctuation."""
    return " ".join(unicodedata.normalize("NFC", text).lower().split()).strip(" .,;:-'")


def clean_ko(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def is_en_term(term: str, min_chars: int = 2) -> bool:
    letters = sum(ch.isalpha() for ch in term)
    words = term.split()
    return (bool(LATIN_TERM.match(term)) and letters >= min_chars and not all(w in STOP_EN for w in words)) and words[
        0
    ] not in STOP_EN


def is_ko_term(term: str, min_chars: int = 2) -> bool:
    return bool(HANGUL_TERM.match(term)) and len(term.replace(" ", "")) >= min_chars


# ---------------------------------------------------------------- curated pairs


def load_curated(path: str | Path) -> list[tuple[str, str]]:
    """`korean<TAB>english` per line; `#` comments and blank lines skipped; a bad line is an error naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "curated pairs file not found")
    pairs = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            raise InputError(
                path, f"expected 'korean<TAB>english', got {len(fields)} field(s): {line!r}", f"line {lineno}"
            )
        ko, en = clean_ko(fields[0]), clean_en(fields[1])
        if not is_ko_term(ko):
            raise InputError(path, f"first field {fields[0]!r} is not a Hangul term", f"line {lineno}")
        if not is_en_term(en):
            raise InputError(path, f"second field {fields[1]!r} is not a Latin-script term", f"line {lineno}")
        pairs.append((ko, en))
    if not pairs:
        raise InputError(path, "no pairs")
    return pairs


# ---------------------------------------------------------------- corpus terms


def corpus_terms(kiwi, texts: Sequence[str], max_en_words: int = 3) -> tuple[Counter, Counter]:
    """Korean nouns (Kiwi NNG/NNP) and English words/phrases (runs of adjacent SL morphemes), with counts.

    A phrase counts each of its sub-runs starting at its first word, so
    'search engine optimization' also counts 'search' and 'search engine'.
    """
    korean: Counter = Counter()
    english: Counter = Counter()
    for tokens in kiwi.tokenize(list(texts)):
        run: list = []
        for token in [*tokens, None]:
            if token is not None and token.tag in NOUN_TAGS:
                korean[token.form] += 1
            adjacent = token is not None and token.tag == "SL" and (not run or token.start - _end(run[-1]) <= 1)
            if adjacent:
                run.append(token)
                continue
            for i in range(len(run)):
                for j in range(i + 1, min(len(run), i + max_en_words) + 1):
                    english[clean_en(" ".join(t.form for t in run[i:j]))] += 1
            run = [token] if token is not None and token.tag == "SL" else []
    korean = Counter({t: c for t, c in korean.items() if is_ko_term(t)})
    english = Counter({t: c for t, c in english.items() if is_en_term(t)})
    return korean, english


def _end(token) -> int:
    return token.start + token.len


def frequent(counts: Counter, min_count: int, limit: int) -> list[str]:
    """The `limit` most frequent terms with at least `min_count` occurrences (ties by term)."""
    ranked = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    return ranked[:limit]


# ---------------------------------------------------------------- gloss patterns


def _term_start(tokens, end: int, max_words: int) -> int | None:
    """Start offset of the noun run that ends at `end` (None when the last morpheme is not a noun).

    Walks left over nouns and noun affixes separated by at most one space and
    stops after `max_words` space-separated words. A run that starts inside a
    word is widened to the word's start: Kiwi splits unknown names
    (타림 → 타/MM + 림/NNG), and a term never starts mid-word.
    """
    run = [t for t in tokens if _end(t) <= end]
    if not run or _end(run[-1]) != end or run[-1].tag not in NOUN_TAGS:
        return None
    start, words = run[-1].start, 1
    for token in reversed(run[:-1]):
        gap = start - _end(token)
        if token.tag not in TERM_TAGS or gap > 1:
            break
        if gap == 1:
            if words == max_words:
                break
            words += 1
        start = token.start
    return start


def gloss_pairs(kiwi, texts: Sequence[str], max_words: int, window: int = 60) -> Counter:
    """(korean, english) pairs from bracket glosses, with how often each occurs."""
    found: Counter = Counter()
    ko_en = []  # (text before the bracket, english)
    for text in texts:
        for m in _KO_EN.finditer(text):
            en = clean_en(m.group(1))
            before = text[max(0, m.start() - window) : m.start()].rstrip()
            acronym = m.group(1).strip().isupper() and " " not in m.group(1).strip()
            limit = max_words if acronym else min(max_words, len(en.split()) + 1)
            ko_en.append((before, en, limit))
        for m in _EN_KO.finditer(text):
            ko = clean_ko(m.group(2))
            words = clean_en(m.group(1)).split()
            while words and words[0] in STOP_EN:
                words = words[1:]
            en = " ".join(words[-(len(ko.split()) + 1) :])
            found[(ko, en)] += 1
    # The Korean side of EN(KO) must be nouns only: `graphein(쓰다 또는 기록하다)` explains, it does not translate.
    korean = sorted({ko for ko, _ in found})
    nouns = {ko for ko, tokens in zip(korean, kiwi.tokenize(korean), strict=True) if _all_term_tags(tokens)}
    found = Counter({p: c for p, c in found.items() if p[0] in nouns})
    for (before, en, limit), tokens in zip(ko_en, kiwi.tokenize([b for b, _, _ in ko_en]), strict=True):
        start = _term_start(tokens, len(before), limit)
        if start is not None:
            while start > 0 and "\uac00" <= before[start - 1] <= "\ud7a3":
                start -= 1
            found[(clean_ko(before[start:]), en)] += 1
    return Counter({p: c for p, c in found.items() if is_ko_term(p[0]) and is_en_term(p[1])})


def _all_term_tags(tokens) -> bool:
    return bool(tokens) and tokens[-1].tag in NOUN_TAGS and all(t.tag in TERM_TAGS for t in tokens)


# ---------------------------------------------------------------- embeddings


def embed(model, terms: Sequence[str], batch_size: int = 64) -> dict[str, np.ndarray]:
    """Unit vectors per distinct term; sorted by length first so batches pad little."""
    unique = sorted(set(terms), key=lambda t: (len(t), t))
    if not unique:
        return {}
    vectors = model.encode(
        unique, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=len(unique) > 500
    )
    return dict(zip(unique, np.asarray(vectors, dtype=np.float32), strict=True))


def similarity(vectors: dict[str, np.ndarray], a: str, b: str) -> float:
    return round(float(vectors[a] @ vectors[b]), 4)


def mutual_top_k(
    korean: Sequence[str], english: Sequence[str], vectors: dict[str, np.ndarray], k: int, threshold: float
) -> list[tuple[str, str, float]]:
    """Pairs each in the other's top-k by cosine, with cosine ≥ threshold."""
    if not korean or not english:
        return []
    scores = np.stack([vectors[t] for t in korean]) @ np.stack([vectors[t] for t in english]).T
    k_en, k_ko = min(k, len(english)), min(k, len(korean))
    top_en = np.argsort(-scores, axis=1, kind="stable")[:, :k_en]
    top_ko = np.argsort(-scores, axis=0, kind="stable")[:k_ko, :]
    pairs = []
    for i, row in enumerate(top_en):
        for j in row:
            if scores[i, j] >= threshold and i in top_ko[:, j]:
                pairs.append((korean[i], english[j], round(float(scores[i, j]), 4)))
    return pairs


# ---------------------------------------------------------------- the dictionary


def build_dictionary(candidates: Iterable[dict]) -> dict:
    """Pairs merged across sources, and groups = connected components of the pair graph.

    Each candidate is {ko, en, source, similarity, ...}; one pair found by two
    sources keeps both under `sources`, with each source's own evidence
    (gloss count, rank). Terms need no language tag: Korean ones have Hangul,
    English ones none.
    """
    pairs: dict[tuple[str, str], dict] = {}
    for cand in candidates:
        key = (cand["ko"], cand["en"])
        pair = pairs.setdefault(key, {"ko": cand["ko"], "en": cand["en"], "sources": {}, "similarity": None})
        pair["sources"][cand["source"]] = {
            k: v for k, v in cand.items() if k not in ("ko", "en", "source", "similarity")
        }
        if cand.get("similarity") is not None:
            pair["similarity"] = cand["similarity"]
    ordered = [pairs[k] for k in sorted(pairs)]
    return {"pairs": ordered, "groups": groups_of(ordered)}


def groups_of(pairs: Sequence[dict]) -> list[list[str]]:
    """Connected components over ko–en edges (union–find), each sorted; groups sorted by first term."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        a, b = find(pair["ko"]), find(pair["en"])
        if a != b:
            parent[max(a, b)] = min(a, b)
    members: dict[str, list[str]] = {}
    for term in parent:
        members.setdefault(find(term), []).append(term)
    return sorted(sorted(group) for group in members.values())


def counterparts(pairs: Sequence[dict]) -> dict[str, list[str]]:
    """Each term's direct partners in the other language (sorted)."""
    table: dict[str, set[str]] = {}
    for pair in pairs:
        table.setdefault(pair["ko"], set()).add(pair["en"])
        table.setdefault(pair["en"], set()).add(pair["ko"])
    return {term: sorted(partners) for term, partners in sorted(table.items())}


def source_counts(pairs: Sequence[dict]) -> dict[str, int]:
    counts: Counter = Counter(source for pair in pairs for source in pair["sources"])
    return dict(sorted(counts.items()))


def paired_terms(pairs: Sequence[dict]) -> set[str]:
    return {term for pair in pairs for term in (pair["ko"], pair["en"])}


def contexts(texts: Sequence[str], terms: Iterable[str], width: int) -> dict[str, str]:
    """For each term, a `width`-character window of the first document that contains it ('' if none).

    English terms are found case-insensitively (they are stored lower-cased).
    One joined, lower-cased corpus string makes each lookup a single `find`.
    """
    corpus = "\n".join(t.replace("\n", " ") for t in texts)
    lowered = corpus.lower()
    found: dict[str, str] = {}
    for term in sorted(set(terms)):
        at = lowered.find(term.lower())
        if at < 0:
            found[term] = ""
            continue
        line_start = corpus.rfind("\n", 0, at) + 1
        line_end = corpus.find("\n", at)
        line_end = len(corpus) if line_end < 0 else line_end
        begin = max(line_start, at - (width - len(term)) // 2)
        found[term] = corpus[begin : min(line_end, begin + width)]
    return found
