"""Speech tags: "said Naruto", "Naruto said", "he replied weakly", "Mrs. Bennet said to her husband:"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from audiodrama.attribution.subjects import is_adverb, speaker_among, subjects
from audiodrama.attribution.titles import ABBREVIATED_TITLES
from audiodrama.text.chapter import word_set

SPEECH_VERBS = word_set(
    """
    said says say saying replied replies reply answered answers asked asks cried cries returned
    rejoined inquired enquired exclaimed added continued observed remarked whispered whispers
    muttered murmured repeated interposed retorted demanded explained began begun pursued sighed
    growled interrupted gasped admitted shouted shouts yelled yells called screamed laughed snapped
    sneered stammered suggested urged resumed responded agreed protested insisted declared groaned
    moaned sobbed hissed roared bellowed shrieked faltered ventured persisted concluded commented
    warned ordered pleaded begged announced whimpered panted breathed drawled chuckled giggled
    echoed corrected objected assented replied returned mumbled grumbled grunted snarled barked
    called greeted joked teased scoffed shot spat offered agreed confessed exploded blurted wailed
    howled thundered boomed squeaked squealed chirped cooed purred soothed reasoned argued countered
    stated noted told asserted conceded acknowledged complained lamented cautioned promised prompted
    mocked taunted whined croaked rasped wheezed sputtered stuttered spoke subjoined corroborated
    reported proceeded ejaculated vociferated hazarded volunteered queried expostulated remonstrated
    mourned assured implored confided acquiesced proclaimed reiterated commanded questioned entreated
    bawled fumed prattled admonished rebuked informed chattered sniffed
    """
)
THOUGHT_VERBS = word_set(
    """
    thought thinks think wondered wonders mused reflected pondered
    """
)
"""Verbs that make the quote a thought rather than speech."""

_PARTICLE_VERBS = {"went": ("on",), "put": ("in",), "broke": ("in",), "cut": ("in",), "chimed": ("in",)}
"""Verbs that report speech with their particle ("went on", "put in")."""
_PARTICLES = ("out", "up", "in", "on")
"""Particles a speech verb may take ("called out", "spoke up")."""
_SUBJECT_FIRST_PARTICLES = ("out", "up")
"""Particles taken into a tag after its verb ("she called out", "he spoke up"); not "in" or "on",
which after a subject and verb begin a phrase of their own ("he said in a low voice")."""

_TAG_WORDS = 6
"""At most this many words make a bare tag opening the next quote ("Babs said,")."""
_FRAME_NOUNS = word_set("voice voices reply answer response cry tones words")
"""Nouns that frame a speaker after a speech verb ("came the voice of Syme")."""
_MODIFIERS = 3
"""How many modifiers may stand before a name after its verb ("said the more candid Lady Bertram")."""
PAIR = re.compile(r"\S.*\s+and\s+\S.*", re.DOTALL)
"""A tag's subject of two joined by "and" ("Rabbit and Piglet"): a group."""
_POSSESSIVE_AFTER = re.compile(r"['’]s\b")
"""A possessive right after a name."""
_SPOKEN_NOUN = re.compile(
    r"['’]s\s+(?:[a-z]+\s+)?(?:reply|answer|response|remark|retort|rejoinder|exclamation|question|inquiry|words)\b")
"""A possessive naming what its owner said ("Edmund's only reply")."""
_AND = re.compile(r"\s+and\s+")
"""What joins two subjects of one tag ("Rabbit and Piglet said")."""
_CLOSERS = "\"”’'»"
"""Characters that close a quotation."""
_QUOTE_MARKS = "\"“‘'«"
"""Characters that open a quotation."""
ACTING = "acting"
"""The verb of the `Tag` an action beat makes (`action_beat`)."""
_PRONOUN_BEAT = re.compile(r"\s*(He|She)\b")
"""Narration before a quote that opens on "He" or "She"."""

_PARTICIPLES = word_set(
    """
    calling crying exclaiming adding murmuring whispering shouting asking answering replying
    observing remarking continuing interrupting muttering
    """
)
"""Speech verbs in -ing that make a tag before their quote ("he came in, calling out,")."""
_PERCEPTION_VERBS = word_set("heard hear hears saw see sees watched noticed listened overheard")
"""Verbs that put someone else's speech after their subject ("he heard a voice say")."""

PRONOUNS = {"he": "male", "she": "female", "him": "male", "her": "female", "i": "self", "we": "self", "my": "self"}
"""Subject pronouns and the gender they point at (`self` for the first-person narrator); "my" only
as a tag says "was my reply"."""

GENDERED_NOUNS = {
    **dict.fromkeys(
        word_set(
            """wife mother lady sister aunt daughter girl woman niece grandmother mistress maid
            mamma mama madam widow governess nurse queen duchess hostess"""
        ),
        "female",
    ),
    **dict.fromkeys(
        word_set(
            """husband father brother uncle son boy man gentleman nephew grandfather master lord
            papa sir king duke host fellow youth"""
        ),
        "male",
    ),
}
"""Nouns of descriptors ("his wife", "the old gentleman") and the gender they imply."""

DESCRIPTOR = re.compile(
    r"(?:his|her|their|my|the|a|an|its)\s+(?:[a-z][\w-]*\s+){0,2}?(" + "|".join(GENDERED_NOUNS) + r")\b",
    re.IGNORECASE,
)
"""A descriptor naming someone by role: "his wife", "her mother", "the old gentleman"."""

GROUP = re.compile(
    r"(?:they|(?:all|both|each|some|many|several|two|three|four) of them|the others"
    r"|the rest|the crowd|(?:his|her|their|our|my|your|the|its|several|some|many|two|three|four)\s+"
    r"(?:[a-z][\w-]*\s+){0,2}?(?:friends|companions|comrades|guards|soldiers|men|women|boys|girls|children|people"
    r"|villagers|students|twins|sisters|brothers|others|voices))\b",
    re.IGNORECASE,
)
"""A subject naming several speakers at once: "they cried", "her friends yelled", "the guards said"
(when the cast has no character by that name). Not a bare "everyone" or "all", which as often end
the clause before the speaker's verb ("she thanked everyone and said")."""

_TITLE_BEFORE = re.compile(rf"(?<![\w.])(?i:{'|'.join(sorted(ABBREVIATED_TITLES, key=len, reverse=True))})$")
"""A title ending just before a full stop ("Mrs" in "Mrs. Bennet")."""
_WORD = re.compile(r"[^\W\d_][\w'’.-]*|\S", re.UNICODE)


@dataclass(frozen=True)
class Tag:
    """A speech tag next to a quote."""

    start: int
    """Offset of the tag's subject (the speaker's name or pronoun)."""
    end: int
    """Offset just past the subject."""
    subject: str
    """The subject as written: a name, an epithet or a pronoun."""
    verb: str
    """The speech verb, lower case."""
    after: bool
    """True for a tag after its quote ("..., said he"), False for one before it ("He said: ...")."""
    phrase: tuple[int, int] | None = None
    """(start, end) of the bare tag, subject and verb with their adverbs ("he said weakly"), when
    nothing else comes between them; None for a tag inside an action ("he turned and asked")."""

    @property
    def thought(self) -> bool:
        """True when the verb reports a thought."""
        return self.verb in THOUGHT_VERBS

    @property
    def action(self) -> bool:
        """True for an action beat rather than a speech tag (`action_beat`)."""
        return self.verb == ACTING


def _is_verb(word: str, more: frozenset[str] = frozenset()) -> bool:
    """True for a speech or thought verb (or one of `more`), a full stop allowed ("replied.")."""
    w = _verb(word)
    return w in SPEECH_VERBS or w in THOUGHT_VERBS or w in more


def _verb(word: str) -> str:
    """A verb token as the tag keeps it: lower case, without a full stop."""
    return word.rstrip(".").lower()


def words(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """(start, end, word) for each word or punctuation mark of text[start:end]."""
    return [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text, start, end)]


def tag_after(text: str, start: int, end: int, subject_at) -> Tag | None:
    """A tag right after a quote: "said Naruto", "Naruto said", "he replied softly".

    `subject_at(pos, limit)` returns the (start, end) of a name or pronoun beginning at `pos`, or None.
    """
    toks = words(text, start, min(end, start + 160))
    i = 0
    while i < len(toks) and toks[i][2] in ",—–-;":
        i += 1
    if i >= len(toks):
        return None
    w0 = toks[i]
    if w0[2].lower() == "from" and i + 1 < len(toks):  # "From Sleary.", "... from the Gryphon"
        span = subject_at(toks[i + 1][0], end)
        return Tag(span[0], span[1], text[span[0] : span[1]], "from", True, (w0[0], span[1])) if span else None
    if (_is_verb(w0[2]) and w0[2][0].islower()) or w0[2].lower() in ("was", "came", *_PARTICLE_VERBS):
        j = i + 1
        verb = _verb(w0[2])
        if j < len(toks) and toks[j][2] in _PARTICLE_VERBS.get(w0[2].lower(), _PARTICLES):
            verb = f"{verb} {toks[j][2]}"  # "went on", "put in", "called out"
            j += 1
        elif w0[2].lower() in _PARTICLE_VERBS:
            return None  # "put" without its "in" reports no speech
        while j < len(toks) and is_adverb(toks[j][2]):
            j += 1
        if j < len(toks):
            span = subject_at(toks[j][0], end) or subject_at(toks[_past_frame(toks, j)][0], end)
            if span and _POSSESSIVE_AFTER.match(text, span[1]) and not _SPOKEN_NOUN.match(text, span[1]):
                return None  # "said Dan's girl": someone of Dan's, not Dan ("was Edmund's reply" is his)
            if span:
                span = _with_partner(text, span, end, subject_at)
                phrase = (w0[0], _adverbs_end(toks, span[1]))
                return Tag(span[0], span[1], text[span[0] : span[1]], verb, True, phrase)
        return None
    span = subject_at(w0[0], end)
    if not span or _opens_next(text, start, end):
        return None
    j = i
    while j < len(toks) and toks[j][0] < span[1]:
        j += 1
    while j < len(toks) and is_adverb(toks[j][2]):
        j += 1
    if j < len(toks) and _is_verb(toks[j][2]):
        verb, verb_end = _verb_with_particle(toks, j)
        return Tag(span[0], span[1], text[span[0] : span[1]], verb, True, (span[0], _adverbs_end(toks, verb_end)))
    particles = _PARTICLE_VERBS.get(toks[j][2]) if j < len(toks) else None
    if particles and j + 1 < len(toks) and toks[j + 1][2].rstrip(".") in particles:
        phrase = (span[0], _adverbs_end(toks, toks[j + 1][1]))  # "the Hatter went on"
        return Tag(span[0], span[1], text[span[0] : span[1]], f"{toks[j][2]} {particles[0]}", True, phrase)
    return None


def _past_frame(toks: list[tuple[int, int, str]], j: int) -> int:
    """The index of the name in a frame or behind modifiers after a speech verb ("came the muffled
    voice of Carver", "said dour Captain Hale", "said the bewildered Colonel"), else `j`."""
    k = j + (toks[j][2].lower() in ("the", "a", "an"))
    for _ in range(_MODIFIERS):
        if k + 1 < len(toks) and toks[k][2].lower() in _FRAME_NOUNS and toks[k + 1][2].lower() in ("of", "from"):
            return k + 2
        if k >= len(toks) or not toks[k][2].isalpha() or not toks[k][2].islower():
            break
        k += 1
    return k if k < len(toks) and k > j and toks[k][2][:1].isupper() else j


def _with_partner(text: str, span: tuple[int, int], end: int, subject_at) -> tuple[int, int]:
    """`span`, taking in a second subject joined to it by "and" ("Pooh and Piglet"): a group."""
    joined = _AND.match(text, span[1], end)
    partner = subject_at(joined.end(), end) if joined else None
    return (span[0], partner[1]) if partner else span


def _opens_next(text: str, start: int, end: int) -> bool:
    """True when the narration text[start:end] between a quote ended by a full stop or mark and the
    next quote ends on a comma or colon: a tag opening the next quote ("...long?" Babs said, "Have
    you..."), not one closing the last."""
    gap = text[start:end].rstrip()
    return text[start - 2 : start - 1] in (".", "!", "?") and gap[-1:] in (",", ":") and \
        text[end : end + 1] in _QUOTE_MARKS and len(gap.split()) <= _TAG_WORDS


def tag_before(text: str, start: int, end: int, subject_at, known_at=None) -> Tag | None:
    """A tag introducing the quote that follows: "Naruto said:", "Then he turned and asked,"; its
    subject is the clause's ("Miss Bartlett, under the impression that she was snubbing George,
    added:"), the one a "who" hangs on ("met by Lydia, who, flying to her, cried"), or the name
    right before the verb ("and Elizabeth said"). `known_at` is `subject_at` without the proper
    names the roster lacks (a capitalised word opening a sentence is as often none: "Presently")."""
    tail = text[start:end].rstrip()
    if tail.endswith(".") and len(tail) > 1 and _ends_on_verb(tail[:-1]) and text[start - 1 : start] not in _CLOSERS:
        tail = tail[:-1]  # a sentence of its own opening the narration: "Miss Bertram began again."
    if not tail or (tail[-1] not in ",:—-" and not _ends_on_verb(tail)):
        return None
    clause_start = start + _clause_start(tail)
    toks = words(text, clause_start, end)
    verb_index = next((k for k in range(len(toks) - 1, -1, -1) if _is_verb(toks[k][2], _PARTICIPLES)), None)
    if verb_index is None:
        return None
    found = subjects(toks, verb_index, subject_at, known_at or subject_at)
    if not found:
        return None
    k, span, joins = speaker_among(toks, verb_index, found)
    partner = next((s for j, s, _ in found if j == k - 2 and joins and toks[k - 1][2] == "and"), None)
    if partner is not None and partner[1] == toks[k - 2][1]:
        span = (partner[0], span[1])  # "Rabbit and Piglet, who had come up, said": a group
    heard = next((i for i in range(k, verb_index) if toks[i][2].lower() in _PERCEPTION_VERBS), None)
    if heard is not None and all(t[2] != "," for t in toks[heard:verb_index]):
        return None  # "he heard a voice softly say": the one who says is not the one who hears
    between = [t for t in toks if span[1] <= t[0] < toks[verb_index][0]]
    bare = all(is_adverb(t[2]) for t in between)
    verb, verb_end = _verb_with_particle(toks, verb_index)
    phrase = (span[0], _adverbs_end(toks, verb_end)) if bare else None
    return Tag(span[0], span[1], text[span[0] : span[1]], verb, False, phrase)


def _ends_on_verb(tail: str) -> bool:
    """True when `tail` ends on a speech verb, perhaps with a particle and adverbs ("the Dodo
    suddenly called out", "the Queen said severely", "she began again")."""
    last = tail.split()[-3:]
    while len(last) > 1 and (is_adverb(last[-1]) or last[-1] in _PARTICLES or last[-1] == "again"):
        last.pop()
    return _is_verb(last[-1], _PARTICIPLES)


def _clause_start(tail: str) -> int:
    """Where the last clause of `tail` begins: just past its last full stop, mark or semicolon,
    passing over a title's full stop ("Mrs. Bennet said only,")."""
    end = len(tail)
    while True:
        end = max(tail.rfind(c, 0, end) for c in '.!?;"')
        if end < 0 or tail[end] != "." or _TITLE_BEFORE.search(tail, max(0, end - 8), end) is None:
            return end + 1


def action_beat(text: str, start: int, end: int) -> Tag | None:
    """An action beat opening the narration text[start:end] before a quote ("He bared his teeth at
    her. \"Well, ...\""): its pronoun points at the speaker as a tag's would. None without one."""
    beat = _PRONOUN_BEAT.match(text, start, end)
    return Tag(beat.start(1), beat.end(1), beat.group(1), ACTING, False) if beat else None


def _verb_with_particle(toks: list[tuple[int, int, str]], index: int) -> tuple[str, int]:
    """The verb at `toks[index]` after its subject, with a particle that follows it ("called out"),
    and the offset where they end."""
    verb, end = _verb(toks[index][2]), toks[index][1]
    if index + 1 < len(toks) and not toks[index][2].endswith("."):
        particle = toks[index + 1][2].rstrip(".")
        if particle in _SUBJECT_FIRST_PARTICLES:
            return f"{verb} {particle}", toks[index + 1][1]
    return verb, end


def _adverbs_end(toks: list[tuple[int, int, str]], end: int) -> int:
    """`end`, moved past the -ly adverbs that directly follow it."""
    k = next((k for k, t in enumerate(toks) if t[0] >= end), len(toks))
    while k < len(toks) and is_adverb(toks[k][2]):
        end = toks[k][1]
        k += 1
    return end


def tag_gender(tag: Tag) -> str | None:
    """The gender a pronoun or descriptor tag points at ("he", "his wife")."""
    gender = PRONOUNS.get(tag.subject.lower())
    if gender in ("male", "female"):
        return gender
    descriptor = DESCRIPTOR.match(tag.subject)
    return GENDERED_NOUNS[descriptor.group(1).lower()] if descriptor else None
