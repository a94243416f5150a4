"""Russian text pipeline shared by indexing and querying: one analyser, so both sides agree.

normalise → tokenise → lemmatise (pymorphy3) → drop stopwords → fold synonyms. Queries also
get keyboard-layout repair. Tokens are pure runs of Cyrillic, Latin or digits, so
PostgreSQL's 'simple' parser splits the lemma text into exactly the same tokens.
"""

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import NamedTuple

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_TOKEN = re.compile(r"[a-z]+|[а-яё]+|[0-9]+", re.IGNORECASE)
_CYRILLIC_WORD = re.compile(r"[а-яё]+")
_HAS_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_HAS_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)

_EN = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
_RU = "йцукенгшщзхъфывапролджэячсмитьбюё"
_EN_TO_RU = str.maketrans(_EN + _EN.upper(), _RU + _RU.upper())
_RU_TO_EN = str.maketrans(_RU + _RU.upper(), _EN + _EN.upper())

# Function words and question words: they carry no meaning for a procedure search.
_STOPWORDS_TEXT = """
    а без бы быть в во вот все весь вы где да для до если же за и из или им их к как какой
    когда кто ли либо мой мы на над не нет ни но о об он она они оно от по под после при про
    с со так такой там тот то у уже хотеть что чтобы чей это этот я ко мочь нужно надо можно
    почему зачем сколько куда откуда ваш свой себя ну вообще очень еще тоже просто сейчас
"""
# What callers say around the question: greetings, politeness, «подскажите, есть ли…». Found
# in the failure analysis of client-phrased queries (issue 11): they matched articles that
# happen to say «пожалуйста» or «подскажите».
_CONTACT_CENTRE_TEXT = """
    здравствовать здравствуйте привет добрый пожалуйста спасибо благодарить подсказать
    сказать есть the a an to is are do does i my me you can please hello hi
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split()) | frozenset(_CONTACT_CENTRE_TEXT.split())


def normalize(text: str) -> str:
    """Lower case and ё→е: users type «счет» and «счёт» interchangeably."""
    return (text or "").lower().replace("ё", "е")


def en_to_ru(text: str) -> str:
    """What a word typed on the Latin layout would be on ЙЦУКЕН («rfr» → «как»)."""
    return text.translate(_EN_TO_RU)


def ru_to_en(text: str) -> str:
    return text.translate(_RU_TO_EN)


class Token(NamedTuple):
    text: str  # as written
    start: int
    end: int

    @property
    def norm(self) -> str:
        return normalize(self.text)


def tokenize(text: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text or "")]


@lru_cache(maxsize=1)
def morph():
    """The analyser loads its dictionaries once per process (about 0.1 s)."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """Dictionary form of one normalised word; digits and Latin words stay as they are."""
    if not _CYRILLIC_WORD.fullmatch(word):
        return word
    return normalize(morph().parse(word)[0].normal_form)


@lru_cache(maxsize=200_000)
def stem(term: str) -> str:
    """Snowball stem of a lemma («переводить» and «перевод» → «перевод»): an extra term
    beside the lemma, so words of one root meet across parts of speech."""
    if not _CYRILLIC_WORD.fullmatch(term) or len(term) < 5:
        return term
    return _stemmer().stemWord(term)


# Verb <-> action noun: «списывать»/«списать» -> «списание», «закрыть» -> «закрытие»,
# «подключить» -> «подключение», and back. Suffix pairs, each result kept only if the
# dictionary knows it; Snowball leaves these apart («списыва» vs «списан»).
_VERB_TO_NOUN = (
    ("ывать", "ание"),
    ("ивать", "ение"),
    ("овать", "ование"),
    ("ать", "ание"),
    ("ять", "яние"),
    ("ить", "ение"),
    ("ыть", "ытие"),
)
_NOUN_TO_VERB = (("ание", "ать"), ("ание", "ывать"), ("ение", "ить"), ("ытие", "ыть"))


@lru_cache(maxsize=50_000)
def derived(term: str) -> tuple[str, ...]:
    """Lemmas of the same root in the other part of speech (verb <-> action noun), only
    dictionary words; empty for anything else."""
    if not _CYRILLIC_WORD.fullmatch(term) or len(term) < 6:
        return ()
    pairs = _VERB_TO_NOUN if term.endswith("ть") else _NOUN_TO_VERB
    found = []
    for old, new in pairs:
        if term.endswith(old):
            candidate = term[: -len(old)] + new
            if len(candidate) > len(new) + 2 and is_known_word(candidate):
                lem = lemma(candidate)
                if lem != term and lem not in found:
                    found.append(lem)
    return tuple(found)


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("russian")


@lru_cache(maxsize=50_000)
def is_known_word(word: str) -> bool:
    return bool(_CYRILLIC_WORD.fullmatch(word)) and morph().word_is_known(word)


class Analyzer:
    """Lemmatiser plus the editors' synonym dictionary.

    Each synonym group folds to one canonical token (its first one-word term, else its first
    term's lemmas joined). Documents get the canonical token *in addition* to their words;
    queries get it *instead of* the phrase, so «индивидуальный инвестиционный счет» does not
    also count as three separate words.
    """

    max_phrase = 5

    def __init__(self, synonym_groups: Iterable[Iterable[str]] = ()):
        self.phrases: dict[tuple[str, ...], str] = {}
        self.groups: dict[str, list[str]] = {}
        for group in synonym_groups:
            keys = [k for k in (self.lemmas(term) for term in group) if k]
            if len(keys) < 2:
                continue
            singles = [k for k in keys if len(k) == 1]
            canonical = (singles or keys)[0]
            canonical_token = "".join(canonical)
            for key in keys:
                # The first group that claims a phrase keeps it; editors see conflicts in review.
                self.phrases.setdefault(key[: self.max_phrase], canonical_token)
            self.groups[canonical_token] = [" ".join(k) for k in keys]

    @staticmethod
    def lemmas(text: str) -> tuple[str, ...]:
        """Content lemmas of a text, in order, stopwords dropped."""
        out = []
        for token in tokenize(text):
            lem = lemma(token.norm)
            if lem not in STOPWORDS:
                out.append(lem)
        return tuple(out)

    def _spans(self, lems: list[str]) -> list[tuple[int, int, str]]:
        """Greedy longest synonym phrases: (start, end, canonical)."""
        spans, i = [], 0
        while i < len(lems):
            for n in range(min(self.max_phrase, len(lems) - i), 0, -1):
                canonical = self.phrases.get(tuple(lems[i : i + n]))
                if canonical is not None:
                    spans.append((i, i + n, canonical))
                    i += n
                    break
            else:
                i += 1
        return spans

    def index_terms(self, text: str) -> list[str]:
        """Tokens stored for a document field: lemmas plus canonical synonym tokens."""
        lems = list(self.lemmas(text))
        extra = [
            c for start, end, c in self._spans(lems) if not (end - start == 1 and lems[start] == c)
        ]
        known = set(lems)
        stems = [s for s in (stem(lem) for lem in lems) if s not in known]
        return lems + extra + stems

    def query_terms(self, text: str) -> list[tuple[str, str]]:
        """(term, original words) for a query; synonym phrases become their canonical token."""
        words = [t for t in tokenize(text) if lemma(t.norm) not in STOPWORDS]
        lems = [lemma(t.norm) for t in words]
        spans = {start: (end, c) for start, end, c in self._spans(lems)}
        out, i = [], 0
        while i < len(lems):
            if i in spans:
                end, canonical = spans[i]
                out.append((canonical, " ".join(w.text for w in words[i:end])))
                i = end
            else:
                out.append((lems[i], words[i].text))
                i += 1
        return out

    def highlight(self, text: str, terms: set[str], *, window: int | None = None) -> SafeString:
        """HTML with <mark> around words whose lemma (or synonym phrase) matched; rest escaped.

        With `window`, returns the run of `window` words holding the most matches.
        """
        tokens = tokenize(text)
        lems = [lemma(t.norm) for t in tokens]
        hit = [lem in terms for lem in lems]
        content = [i for i, lem in enumerate(lems) if lem not in STOPWORDS]
        for start, end, canonical in self._spans([lems[i] for i in content]):
            if canonical in terms:
                for j in content[start:end]:
                    hit[j] = True
        lo, hi = 0, len(tokens)
        if window and len(tokens) > window:
            best, lo = -1, 0
            running = sum(hit[:window])
            for i in range(len(tokens) - window + 1):
                if i:
                    running += hit[i + window - 1] - hit[i - 1]
                if running > best:
                    best, lo = running, i
            hi = lo + window
        if not tokens:
            return mark_safe(escape(text))  # noqa: S308 - escaped just here
        begin = 0 if lo == 0 else tokens[lo].start
        finish = len(text) if hi == len(tokens) else tokens[hi - 1].end
        parts, pos = [], begin
        for i in range(lo, hi):
            if hit[i]:
                tok = tokens[i]
                parts.append(escape(text[pos : tok.start]))
                parts.append(f"<mark>{escape(tok.text)}</mark>")
                pos = tok.end
        parts.append(escape(text[pos:finish]))
        html = ("…" if begin else "") + "".join(parts) + ("…" if finish < len(text) else "")
        return mark_safe(html)  # noqa: S308 - every piece above is escaped


def fix_layout(query: str, is_known: Callable[[str], bool]) -> tuple[str, list[tuple[str, str]]]:
    """Repair words typed on the wrong keyboard layout («rfr pfrhsnm bbc» → «как закрыть иис»).

    A whole whitespace-separated chunk is converted only when it is not a known word itself
    and its converted form is; `is_known` answers for a normalised word.
    """
    out, fixes = [], []
    for chunk in query.split():
        fixed = _fix_chunk(chunk, is_known)
        if fixed != chunk:
            fixes.append((chunk, fixed))
        out.append(fixed)
    return " ".join(out), fixes


def _fix_chunk(chunk: str, is_known: Callable[[str], bool]) -> str:
    low = normalize(chunk)
    if _HAS_LATIN.search(chunk) and not _HAS_CYRILLIC.search(chunk):
        if is_known(low.strip(",.;'[]`")):
            return chunk
        for candidate in (low, low.rstrip(",."), low.rstrip(",.?!")):
            converted = normalize(en_to_ru(candidate))
            if _CYRILLIC_WORD.fullmatch(converted) and is_known(converted):
                return converted + low[len(candidate) :]
    elif _HAS_CYRILLIC.search(chunk) and not _HAS_LATIN.search(chunk):
        word = low.strip(",.?!")
        if word.isalpha() and not is_known(word):
            converted = ru_to_en(word)
            if converted.isascii() and converted.isalpha() and is_known(converted):
                return converted
    return chunk
