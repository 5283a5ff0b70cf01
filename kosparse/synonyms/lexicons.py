"""Gold Korean–English lexicons, for measurement only.

MUSE ko-en 0-5000, CC-KEDICT and the merged tech glossaries (under
`../shared/datasets`) judge the synonym dictionary and build the code-switched
test set. No stage that builds a dictionary may read them: only the
measurement and code-switch code imports this module, and a test checks that.

Every loader returns {Korean term: [English translations]} with English
normalised by `kosparse.synonyms.dictionary.normalize_en` (the form verification compares
too), translations in file order (first = preferred).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml

from kosparse.errors import InputError
from kosparse.synonyms.dictionary import normalize_en

MUSE = "muse_ko_en/ko-en.0-5000.txt"
KEDICT = "cc_kedict/kedict.yml"
TECH = "tech_glossaries_ko_en/tech_glossary_en_ko.tsv"

_PAREN = re.compile(r"\([^)]*\)")
_HANJA_PREFIX = re.compile(r"^[^:\s]{0,4}:\s*")  # "男: man" and ": family" (hanja sense labels)


def normalize_ko(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", _PAREN.sub(" ", text)).split())


def _add(table: dict[str, list[str]], ko: str, en: str) -> None:
    ko, en = normalize_ko(ko), normalize_en(en)
    if ko and en and en not in table.setdefault(ko, []):
        table[ko].append(en)


def load_muse(path: str | Path) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if len(parts) != 2:
            raise InputError(path, f"expected 'korean english', got {line!r}", f"line {lineno}")
        _add(table, *parts)
    return table


def load_kedict(path: str | Path) -> dict[str, list[str]]:
    """Nouns, proper nouns and abbreviations; each definition split on ',' and ';' (short glosses only)."""
    table: dict[str, list[str]] = {}
    for entry in yaml.safe_load(Path(path).read_text(encoding="utf-8")):
        if entry.get("pos") not in ("n", "propn", "abbrev"):
            continue
        for definition in entry.get("defs") or []:
            gloss = _HANJA_PREFIX.sub("", str(definition.get("def", "")))
            for item in re.split(r"[,;]", gloss):
                if 0 < len(item.split()) <= 4:
                    _add(table, str(entry["word"]), item)
    return table


def load_tech(path: str | Path) -> dict[str, list[str]]:
    """en<TAB>ko<TAB>source rows; 'a, b' alternatives on either side become separate pairs."""
    table: dict[str, list[str]] = {}
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines[1:], 2):
        parts = line.split("\t")
        if len(parts) != 3:
            raise InputError(path, "expected en<TAB>ko<TAB>source", f"line {lineno}")
        for ko in parts[1].split(","):
            for en in parts[0].split(","):
                _add(table, ko, en)
    return table


def load_gold(root: str | Path) -> dict[str, dict[str, list[str]]]:
    """Every gold lexicon by name: muse, kedict, tech."""
    root = Path(root)
    return {"muse": load_muse(root / MUSE), "kedict": load_kedict(root / KEDICT), "tech": load_tech(root / TECH)}


def merged(gold: dict[str, dict[str, list[str]]], order: tuple[str, ...] = ("tech", "muse", "kedict")) -> dict:
    """One {ko: [en]} table; translations of earlier lexicons first."""
    table: dict[str, list[str]] = {}
    for name in order:
        for ko, ens in gold[name].items():
            for en in ens:
                if en not in table.setdefault(ko, []):
                    table[ko].append(en)
    return table


def initials(phrase: str) -> str:
    return "".join(word[0] for word in re.split(r"[\s\-]+", phrase) if word)


def pair_is_correct(ko: str, en: str, gold: dict[str, list[str]]) -> bool | None:
    """None when gold does not cover `ko`; else whether `en` is one of its translations.

    An acronym counts when it spells the initials of a gold translation
    (인공지능 / ai against 'artificial intelligence').
    """
    translations = gold.get(normalize_ko(ko))
    if translations is None:
        return None
    en = normalize_en(en)
    return en in translations or any(
        len(en) >= 2 and " " not in en and initials(t) == en for t in translations if " " in t
    )
