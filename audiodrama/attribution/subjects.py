"""Which name before a speech verb is its subject: "Miss Bartlett, under the impression that she
was snubbing George, added:" is Miss Bartlett's; "met by Lydia, who, flying to her, cried" is Lydia's."""

from __future__ import annotations

from audiodrama.text.chapter import word_set

PREPOSITIONS = word_set(
    """
    to at with of for on upon from towards toward by about into in over near beside behind against
    among across past around under beneath beyond
    """
)
_SUBJECT_LOOKBACK = 40
"""Characters read back from a name to tell whether it can be a sentence subject."""
_RELATIVE_WORDS = 3
"""How many words a relative clause may hold before its speech verb ("who then said")."""
_OBJECT_PRONOUNS = word_set("her him them me us")
"""Pronouns that, standing alone, are never a tag's subject ("obliged her to look up by saying")."""
_CLAUSE_OPENERS = word_set("and but then so or yet while whilst when as till until that , ;")
"""Words after which a name is the subject of a clause of its own ("and Jane, smiling, said")."""
_AUXILIARIES = word_set(
    """
    had has have would could should might must will shall did does do was then now thus only still just
    also again presently merely not never at last once first instantly immediately
    """
)
"""Words that may stand between a tag's subject and its verb ("Ben had said", "she would only say")."""
_SENTENCE_ADVERBS = word_set("then now thus last presently meanwhile still once soon again here there")
"""Adverbs after which a name may be a clause's subject ("at last Miss Bartlett rose")."""
_SUBORDINATORS = word_set("when as while whilst after before if though although since because until till once")
"""Words that open a clause of their own ("when she ceased speaking, replied thus")."""
_POSSESSIVES = word_set("his her their its my your our")
"""Words after which a name is something owned, not a subject ("his Very Deep Pit")."""


def subjects(toks: list[tuple[int, int, str]], verb_index: int, subject_at,
             known_at) -> list[tuple[int, tuple[int, int], bool]]:
    """(token index, span, known) of each name, pronoun or descriptor before the verb that may be
    its subject (`known` when `known_at` finds it too, and not a lower-case word away from the
    verb: "in a short time the Queen ... shouting"): whole names ("Lady St Cloud"), none after a
    preposition (unless a "who" makes it the speaker: "he turned to Ben, who said") or a
    possessive ("his Very Deep Pit"), no object pronoun ("obliged her ... by saying")."""
    verb_at = toks[verb_index][0]
    found: list[tuple[int, tuple[int, int], bool]] = []
    k = 0
    while k < verb_index:
        span = subject_at(toks[k][0], verb_at)
        if not span or span[1] > verb_at or (toks[k][2].lower() in _OBJECT_PRONOUNS and span[1] == toks[k][1]):
            k += 1
            continue
        known = known_at(toks[k][0], verb_at) is not None
        inner = next((j for j in range(k + 1, verb_index) if toks[j][0] < span[1] and known_at(toks[j][0], verb_at)),
                     None) if not known else None
        if inner is not None:
            k = inner  # "Then Mrs. Honeychurch": the name begins after the capitalised word
            continue
        before = toks[k - 1][2].lower() if k else ""
        if before not in _POSSESSIVES and (before not in PREPOSITIONS or _right_before(toks, span, verb_index)
                                           or relative(toks, span[1], verb_index, limit=verb_index)):
            found.append((k, span, known and not (toks[k][2].islower() and toks[k][1] == span[1])))
        while k < verb_index and toks[k][0] < span[1]:
            k += 1
    return found


def speaker_among(toks: list[tuple[int, int, str]], verb_index: int,
                   found: list[tuple[int, tuple[int, int], bool]]) -> tuple[int, tuple[int, int], bool]:
    """Which of the candidate subjects `found` (from `subjects`) says the line: the one right
    before the verb ("and Elizabeth had said"), else the one a "who" hangs on ("met by Lydia, who,
    flying to her, cried"), else the one nearest the verb, or the one before the phrase it stands
    in ("Miss Bartlett, under the impression that she was snubbing George, added"); and whether
    it is right before the verb or its "who" (where a name joined to it by "and" speaks with it)."""
    last_k, last_span, _ = found[-1]
    if _right_before(toks, last_span, verb_index):
        return last_k, last_span, True
    for k, span, _ in reversed(found):
        if relative(toks, span[1], verb_index, limit=verb_index):
            return k, span, True
    known = [(k, span) for k, span, is_known in found if is_known and _subject_place(toks, k, span, verb_index)]
    known = known or [(k, span) for k, span, is_known in found if is_known]
    if not known:
        return last_k, last_span, False
    k, span = known[-1]
    rest = [t[2].lower() for t in toks[k + 1 : verb_index] if t[0] >= span[1]]
    inserted = bool(rest) and rest[0] == "," and all(w in _AUXILIARIES or w.endswith("ly") for w in rest[1:])
    if inserted and k > 0 and toks[k - 1][2].lower() not in _CLAUSE_OPENERS:
        comma = next((i for i in range(k - 1, -1, -1) if toks[i][2] == ","), -1)
        earlier = [(j, s) for j, s in known if j < comma]
        if earlier:
            return (*earlier[-1], False)  # "Mr. Crawford, approaching Julia, said": Julia is in the phrase
    return k, span, False


def _right_before(toks: list[tuple[int, int, str]], span: tuple[int, int], verb_index: int) -> bool:
    """True when only adverbs, auxiliaries or a possessive "'s" stand between the name at `span`
    and the verb ("Ben had said", "by Sir Thomas's saying", "Miss Tilney s saying")."""
    return all(is_adverb(t[2]) or t[2].lower() in _AUXILIARIES or t[2] in ("s", "'s", "’s")
               for t in toks[:verb_index] if t[0] >= span[1])


def _subject_place(toks: list[tuple[int, int, str]], k: int, span: tuple[int, int], verb_index: int) -> bool:
    """True when the name at `toks[k]` stands where a subject stands: after the start of its
    clause, a comma, a conjunction or an adverb, not after a verb ("the Rabbit noticed Alice");
    and not as the subject of a clause closed before a finite verb ("when she ceased speaking,
    replied")."""
    before = toks[k - 1][2] if k else ","
    rest = [t[2] for t in toks[k + 1 : verb_index] if t[0] >= span[1]]
    if before.lower() in _SUBORDINATORS and rest and rest[0] != "," and "," in rest:
        return toks[verb_index][2].endswith("ing")  # a participle hangs on the nearest clause
    return (not before[:1].isalnum() or before[:1].isupper() or before.lower() in _CLAUSE_OPENERS
            or before.lower() in _SENTENCE_ADVERBS or is_adverb(before))


def relative(toks: list[tuple[int, int, str]], end: int, verb_index: int, limit: int = _RELATIVE_WORDS) -> bool:
    """True when a "who" opens the clause of the verb right after the name ending at `end`, within
    `limit` words of it ("he looked at Ben, who said"): the name is the speaker even after a preposition."""
    after = [t[2].lower() for t in toks[:verb_index] if t[0] >= end and t[2] != ","]
    return bool(after) and ((after[0] == "who" and len(after) <= limit)
                            or (after[0] == "whose" and len(after) <= _RELATIVE_WORDS))  # "whose voice said"


def is_adverb(word: str) -> bool:
    """True for a lower-case -ly word ("weakly", "softly."), a full stop allowed."""
    return word[0].islower() and word.rstrip(".").lower().endswith("ly")


def is_subject(text: str, pos: int) -> bool:
    """True when the name at `pos` can be a sentence subject: not after a preposition, not in
    parentheses (an author's note)."""
    before = text[max(0, pos - _SUBJECT_LOOKBACK) : pos]
    if before.rfind("(") > before.rfind(")"):
        return False
    words = before.split()
    return not words or words[-1].lower() not in PREPOSITIONS
