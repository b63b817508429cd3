"""The names a chapter writes, surveyed in one pass, and the forms its speech tags use grouped into
characters: variants and families merged, the fullest name the book knows each by, their genders."""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from audiodrama.attribution.characters import key
from audiodrama.attribution.tags import GENDERED_NOUNS
from audiodrama.attribution.titles import TITLE_PATTERN, TITLES, title_gender
from audiodrama.text.chapter import Chapter, Kind, word_set

PROPER_NAME = re.compile(
    rf"(?:(?:{TITLE_PATTERN})\s+)?[A-Z][\w'’]*[a-z](?:\s+[A-Z][\w'’]*[a-z])*(?:-(?:sama|chan|kun|san|sensei|senpai|dono|hime)\b)?"
)
"""A proper name: capitalised words, a title before them, an honorific after ("Miss Pringle", "Naruto-kun")."""
_HONORIFIC = re.compile(r"-(?:sama|chan|kun|san|sensei|senpai|dono|hime)$", re.IGNORECASE)
"""An honorific suffix ("-kun"): the name without it is the same character's."""
NOT_NAMES = word_set(
    """The He She It I We You They This That Then There Here But And Or So Yes No Oh Ah Well Now
    What Who Why How When Where His Her Their My Your Our One Not All Some Mother Father God
    Sir Madam Miss Mister Mrs Mr If As At In On To For With Of By From After Before Again Still
    Chapter Yet Monday Tuesday Wednesday Thursday Friday Saturday
    Sunday January February March April July August September October November December"""
)
"""Capitalised words that open sentences or name no one on their own."""
_PRONOUN_NEAR = re.compile(r"\b(he|she)\b", re.IGNORECASE)
"""The pronouns after a name that say its gender."""
_QUOTE_MARK = re.compile(r"[\"“”]")
"""A quotation mark: the pronouns past it are someone's speech, not the narration's."""

POSSESSIVE_END = re.compile(r"['’]s$")
"""A possessive ending ("Marilla's"): the name without it is the character."""

_WORD_BEFORE_NAME = re.compile(r"([A-Za-z]+)[,;]?\s+$")
"""The word just before a name, for telling a sentence's middle from its start."""

_PLACE_WORDS = word_set("in at from into near towards toward through across around within")
"""Prepositions that put a place after them ("lived in India")."""

_FAMILY_TITLES = {"mr": "male", "mrs": "female", "miss": "female", "ms": "female"}
"""Titles that, with a surname, name one member of a family each."""

_KNOWN_BY_FULL_NAME = 0.1
"""How often, against the one word the tags use, a full name must be written for the book to know
the character by it ("James Harthouse" for "Harthouse"; not "Elizabeth Bennet" for "Elizabeth")."""

_TOGETHER = 0.08
"""The share of paragraphs naming both that makes a title and surname, and a first name, two people."""

_MIN_FULL = 2
"""How often a full name no tag uses must be written to be taken for a character's."""


@dataclass
class Survey:
    """What one pass over the chapter's capitalised names tells about each (names with blanks folded)."""

    names: Counter[str] = field(default_factory=Counter)
    """How often each whole name (with its title) is written."""
    inside: Counter[str] = field(default_factory=Counter)
    """How often each word is written capitalised inside a sentence (not first of it)."""
    placed: Counter[str] = field(default_factory=Counter)
    """How often each word comes right after a preposition of place."""
    votes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    """For each whole name, the genders of the pronouns just after it (before the next name)."""
    lower: Counter[str] = field(default_factory=Counter)
    """How often each word is written in lower case."""
    titled: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    """For each word, the genders of the titles written before it ("Lady Brett")."""
    paragraphs: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    """For each whole name, the paragraphs (by their start) it is written in."""
    @functools.cached_property
    def surnames(self) -> set[str]:
        """Words written after "Mrs.", or last in a full name ("Thorpe" of "Mrs. Thorpe" and "John
        Thorpe"; not "Edmund" of "Poor Edmund", nor "Robert" of "Mr. Robert")."""
        married = {n.split()[1] for n in self.names if len(n.split()) == 2 and title_of(n) == "mrs"}
        return married | {n.split()[1] for n in _full_names(self, 1).values()}
    """For each whole name, the paragraphs (by their start) it is written in."""

    def name_like(self, word: str) -> bool:
        """True when `word` is written as a name: capitalised inside sentences more often than in
        lower case, and not mostly after "in" or "at" (a place)."""
        inside = self.inside[word]
        return (word not in NOT_NAMES and inside > 0 and self.lower[word.lower()] < inside
                and self.placed[word] * 2 < inside)


def survey_names(chapter: Chapter) -> Survey:
    """Counts of the chapter's capitalised names outside its headings (`Survey`)."""
    text = chapter.text
    survey = Survey()
    survey.lower.update(re.findall(r"\b[a-z]+\b", text))
    for para in chapter.paragraphs:
        if para.kind != Kind.TEXT:
            continue
        found = list(PROPER_NAME.finditer(text, para.start, para.end))
        for k, m in enumerate(found):
            name = " ".join(m.group().split())
            words = name.split()
            survey.names[name] += 1
            gender = title_gender(name)
            if gender:
                survey.titled[words[-1]][gender] += 1  # "Lady Brett": Brett is a woman
                if len(words) > 2:
                    survey.titled[words[1]][gender] += 1
            survey.paragraphs[name].add(para.start)
            before = _WORD_BEFORE_NAME.search(text, max(para.start, m.start() - 20), m.start())
            if before and before.group(1)[0].islower():
                survey.inside[words[0]] += 1
                survey.placed[words[0]] += before.group(1) in _PLACE_WORDS
            for word in words[1:]:
                survey.inside[word] += 1
            until = min(para.end, m.end() + 80, found[k + 1].start() if k + 1 < len(found) else para.end)
            quote = _QUOTE_MARK.search(text, m.end(), until)
            for p in _PRONOUN_NEAR.findall(text, m.end(), quote.start() if quote else until)[:2]:
                survey.votes[name]["male" if p.lower() == "he" else "female"] += 1
    return survey


def title_of(surface: str) -> str | None:
    """The title a name begins with, lower case and without its full stop ("mrs" for "Mrs. Bennet")."""
    words = surface.split()
    first = words[0].rstrip(".").lower()
    return first if len(words) > 1 and first in TITLES else None


def _base(surface: str) -> str:
    """The name without honorific suffix or title: "Mr. Darcy" -> "darcy", "Naruto-kun" -> "naruto"."""
    words = _HONORIFIC.sub("", surface).split()
    if len(words) > 1 and re.fullmatch(TITLE_PATTERN, words[0]):
        words = words[1:]
    return key(" ".join(words))


def _full_names(survey: Survey, least: int = _MIN_FULL) -> dict[str, str]:
    """The chapter's untitled names of two words written at least `least` times, each word
    written as a name and the first never in lower case ("Bill Gorton", not "Admiral Crawford"),
    by their `key`, in the form written most."""
    found: dict[str, str] = {}
    for name, count in survey.names.most_common():
        words = name.split()
        if (count >= least and len(words) == 2 and key(words[0]) not in TITLES
                and not POSSESSIVE_END.search(name) and not survey.lower[words[0].lower()]
                and all(survey.name_like(w) for w in words)):
            found.setdefault(key(name), name)
    return found


def merge(counts: Counter[str], survey: Survey, narrator: str | None = None) -> list[tuple[str, list[str], int]]:
    """Group surface forms naming the same person; (name, forms, tag count), most tags first. A
    one-word name joins the one longer name with that word (tagged, or written in full in the text:
    "Bill" and "Bill Gorton"); with a family title, the one of that gender ("Mr. Crawford" and
    "Henry Crawford"); "Mr.", "Mrs." and "Miss" with one surname are three people. The name shown
    is the fullest form the book knows the character by (the narrator's as `narrator` gives it).
    Forms and ties keep the order the tags first use them in, never a set's."""
    groups: dict[str, list[str]] = defaultdict(list)
    for surface in counts:
        groups[_base(surface)].append(surface)
    groups = {b: part for base, forms in groups.items() for b, part in _by_title(base, forms, survey)}
    full = _full_names(survey)
    for b in list(groups):
        if " " not in b:
            continue
        shown = full.get(b)
        if shown is not None and shown not in groups[b]:
            groups[b].append(shown)
    for b in sorted(groups, key=lambda b: (len(b), b)):
        base, _, title = b.partition("|")
        if " " in base or base.startswith("the "):
            continue
        target = _longer(base, title, groups, full, survey)
        if target is None:
            continue
        if target not in groups:
            groups[target] = [full[target]]
        groups[target].extend(groups.pop(b))
    _join_roles(groups)
    result = []
    for forms in groups.values():
        lines = sum(counts[f] for f in forms)
        short = max((survey.names[f] for f in forms if len(f.split()) == 1), default=0)
        shown = [f for f in forms
                 if _fullness(f) < 2 or f == narrator or survey.names[f] >= _KNOWN_BY_FULL_NAME * short]
        name = max(shown, key=lambda f: (_fullness(f), counts[f], survey.names[f], len(f)))
        result.append((name, list(dict.fromkeys(forms)), lines))
    result.sort(key=lambda r: -r[2])
    return [r for r in result if r[2] >= 2 or not r[0].lower().startswith("the ")]


def _join_roles(groups: dict[str, list[str]]) -> None:
    """Join "the count" to the one character titled so ("Count Mippipopolous"), in place."""
    titled: dict[str, list[str]] = defaultdict(list)
    for b, forms in groups.items():
        for title in dict.fromkeys(title_of(f) for f in forms):
            if title is not None:
                titled[title].append(b)
    for b in [b for b in groups if b.startswith("the ") and len(b.split()) == 2]:
        bearers = titled.get(b.split()[1], [])
        if len(bearers) == 1 and bearers[0] in groups:
            groups[bearers[0]].extend(groups.pop(b))


def _fullness(surface: str) -> int:
    """How full a name is: first and last name (2) over a title and name (1) over one word (0)."""
    words = surface.split()
    if len(words) == 1 or surface.lower().startswith("the "):
        return 0
    return 1 if title_of(surface) else 2


def _by_title(base: str, forms: list[str], survey: Survey) -> list[tuple[str, list[str]]]:
    """A name's forms split into people by family title: "Mr. Bennet", "Mrs. Bennet" and "Miss
    Bennet" apart; the bare "Bennet" with the man, else with the title of the gender its pronouns
    say, or when it is a first name they do not deny ("Miss Louisa" and "Louisa"). Keyed by base
    and title ("bennet|mrs"); a full name's part with its bare form keeps the base ("john
    dashwood" beside "john dashwood|mrs"), and so does a full name no family title splits but
    "Mrs." (Mr. James Harthouse and James Harthouse are one man; Mrs. John Dashwood is his wife)."""
    titles = dict.fromkeys(title_of(f) for f in forms)
    family = [t for t in titles if t in _FAMILY_TITLES]
    if not family or (" " in base and (len(titles) == 1 or (len(family) < 2 and "mrs" not in family))):
        return [(base, forms)]
    parts: dict[str | None, list[str]] = defaultdict(list)
    for f in forms:
        parts[title_of(f)].append(f)
    bare = parts.pop(None, [])
    home = None
    if bare:
        gender = _votes_gender(sum((survey.votes[f] for f in bare), Counter()))
        home = next((t for t in family if _FAMILY_TITLES[t] == "male"), None)
        first_name = bare[0] not in survey.surnames
        if home is None and len(family) == 1 and (gender == "female" or (gender is None and first_name)):
            home = family[0]
        if home is None:
            return [(base, bare), *((f"{base}|{t}", part) for t, part in parts.items())]
        parts[home] = bare + parts[home]
    return [(base if t == home and " " in base else f"{base}|{t}", part) for t, part in parts.items()]


def _longer(base: str, title: str, groups: dict[str, list[str]], full: dict[str, str], survey: Survey) -> str | None:
    """The longer name a one-word name joins: the only one (tagged, or written in full) that holds
    the word; with "Mr.", the only man's (or maybe man's) whose last word it is ("Mr. Crawford"
    for "Henry Crawford") unless his first name and the title are often written together (father
    and son); "Mrs." and "Miss" join none (her first name is as often a daughter's or a sister's:
    "Miss Steele" is Anne, the eldest, when Lucy Steele is the one named in full), nor does a name
    the tags also give with another title ("Sir John")."""
    if title in ("mrs", "miss", "ms") or (title and title not in _FAMILY_TITLES):
        return None
    if not title and any(title_of(f) for f in groups[base]):
        return None  # "Sir John" is not John Dashwood, nor "Colonel Fitzwilliam" Fitzwilliam Darcy
    longer = [b for b in dict.fromkeys([*groups, *full]) if b != base and "|" not in b and not b.startswith("the ")
              and base in b.split()]
    if title:
        wanted = _FAMILY_TITLES[title]
        genders = {b: _gender_of(b, groups, full, survey) for b in longer if b.split()[-1] == base}
        longer = [b for b, gender in genders.items() if gender in (wanted, None)]  # Thomas Gradgrind may be Mr.
        if len(longer) != 1 or genders[longer[0]] != wanted:
            return None
        if _together(groups[f"{base}|{title}"], _first_names(longer[0], groups, full), survey):
            return None
    return longer[0] if len(longer) == 1 else None


def _first_names(b: str, groups: dict[str, list[str]], full: dict[str, str]) -> list[str]:
    """The first name of the full name `b` as written ("George" for "george emerson")."""
    written = [*groups.get(b, ()), full.get(b, "")]
    return list(dict.fromkeys(f.split()[-2] for f in written if len(f.split()) > 1 and f.split()[-2] != "Mr."))


def _together(forms: list[str], others: list[str], survey: Survey) -> bool:
    """True when two names are often written in the same paragraph (in more than `_TOGETHER` of
    those of the rarer): two people ("Mr. Emerson" and his son George), not one called two ways."""
    one = set().union(*(survey.paragraphs[f] for f in forms))
    two = set().union(*(survey.paragraphs[f] for f in others))
    return len(one & two) > _TOGETHER * min(len(one), len(two))


def _gender_of(b: str, groups: dict[str, list[str]], full: dict[str, str], survey: Survey) -> str | None:
    """The gender of the longer name `b` (a group's base), from its forms' pronouns and those of its
    first name's group."""
    forms = [*groups.get(b, ()), full.get(b, "")]
    first = b.split()[0]
    forms += groups.get(first, [])
    return gender_of_forms(forms, survey)


def gender_of_forms(forms: list[str], survey: Survey) -> str | None:
    """`male` or `female` from a title or a description's noun (the forms in the order given: the
    shown name first, then the others in the order the tags first use them, never a set's hash
    order), else from the titles the text writes before its one-word forms ("Lady Brett"), else
    from the pronouns following their mentions. A surname's titles are its family's, not its own."""
    for form in forms:
        gender = title_gender(form) or _noun_gender(form)
        if gender:
            return gender
    titled = _votes_gender(sum((survey.titled[f] for f in forms if f and " " not in f and f not in survey.surnames),
                               Counter()))
    return titled or _votes_gender(sum((survey.votes[f] for f in forms if f), Counter()))


def _noun_gender(form: str) -> str | None:
    """The gender of the noun of a name by description ("the Queen", "the old gentleman")."""
    words = form.split()
    return GENDERED_NOUNS.get(words[-1].lower()) if len(words) > 1 and words[0].lower() == "the" else None


def _votes_gender(votes: Counter[str]) -> str | None:
    """The gender the pronouns after a name say, when one clearly outnumbers the other."""
    if votes["male"] > 1.5 * votes["female"]:
        return "male"
    if votes["female"] > 1.5 * votes["male"]:
        return "female"
    return None
