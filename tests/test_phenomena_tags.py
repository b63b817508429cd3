"""Speech tags read the way a reader reads them (issue 14): the subject of the speech verb past an
inserted clause, names inside modifiers and frames, one name shared by several characters, a tag
between two quotes, and dialogue opened by dashes instead of quotation marks."""

from __future__ import annotations

from audiodrama.attribution import attribute
from audiodrama.casting.cast import Cast, Character
from audiodrama.script import load_script, to_jsonl, to_yaml
from audiodrama.text.chapter import Kind, chapter_from_text

CAST = Cast(
    characters=(
        Character("Lucy Honeychurch", ("Lucy", "Miss Honeychurch"), "female"),
        Character("Charlotte Bartlett", ("Miss Bartlett", "Charlotte"), "female"),
        Character("George Emerson", ("George",), "male"),
        Character("Cecil Vyse", ("Cecil", "Mr. Vyse"), "male"),
        Character("Edmund Bertram", ("Edmund",), "male"),
        Character("Fanny Price", ("Fanny",), "female"),
        Character("Sir Thomas Bertram", ("Sir Thomas",), "male"),
        Character("Henry Crawford", ("Henry", "Crawford"), "male"),
        Character("Mr. Grey", (), "male"),
        Character("Captain Hale", (), "male"),
        Character("Carver", (), "male"),
        Character("Mr. Sleary", ("Sleary",), "male"),
        Character("Rabbit", (), "male"),
        Character("Piglet", (), "male"),
        Character("Mademoiselle Reisz", (), "female"),
        Character("Edna Pontellier", ("Edna",), "female"),
        Character("Colonel Ducroix", (), "male"),
    )
)


def speakers(text: str, cast: Cast = CAST) -> list[str | None]:
    """The speaker of each quotation, in order."""
    script = attribute(chapter_from_text(text), cast)
    return [s.speaker for s in script.segments if s.kind == Kind.DIALOGUE]


def spoken(text: str, cast: Cast = CAST) -> list[tuple[str | None, float]]:
    """(speaker, confidence) of each quotation, in order."""
    script = attribute(chapter_from_text(text), cast)
    return [(s.speaker, s.confidence) for s in script.segments if s.kind == Kind.DIALOGUE]


# 1. The tag's subject past an inserted clause ------------------------------------------------


def test_the_subject_before_an_inserted_clause_speaks_not_the_last_name_before_the_verb():
    text = (
        '"No, I won\'t play," said Cecil, while Miss Bartlett, under the impression that she was '
        'snubbing George, added: "You had much better not play, Mr. Vyse."\n'
    )
    assert speakers(text) == ["Cecil Vyse", "Charlotte Bartlett"]


def test_an_object_pronoun_between_the_subject_and_the_verb_is_not_the_speaker():
    text = (
        "Fanny was still at the window, her thoughts far away.\n\n"
        "But Edmund, after waiting a moment, obliged her to bring down her mind from its flight by "
        'saying, "What was it you wanted to ask me?"\n'
    )
    assert speakers(text) == ["Edmund Bertram"]


def test_the_subject_of_two_coordinated_verbs_says_the_line():
    assert speakers('Fanny stood up. Mr. Grey had pointed to the door and said: "Go."\n') == ["Mr. Grey"]
    text = 'Lucy and Fanny laughed. Mr. Grey turned on them, and said sharply, "Enough of that."\n'
    assert speakers(text) == ["Mr. Grey"]
    text = 'Lucy remembered the vendor of photographs and said, "No, don\'t be rude to him."\n'
    assert speakers(text) == ["Lucy Honeychurch"]


def test_the_name_a_relative_clause_hangs_on_speaks_after_a_long_clause():
    text = (
        "She was met at the door by Lucy, who, running up to her with both hands held out, cried in a "
        'whisper, "You came after all!"\n'
    )
    assert speakers(text) == ["Lucy Honeychurch"]


def test_a_clause_opening_the_sentence_does_not_hold_its_subject():
    text = 'When Lucy had gone upstairs, George turned to Cecil and said, "Well?"\n'
    assert speakers(text) == ["George Emerson"]


# 2. Modifiers and frames around the name ------------------------------------------------------


def test_an_adjective_before_the_name_after_the_verb():
    assert speakers('"Hoist the sail," said dour Captain Hale.\n') == ["Captain Hale"]
    assert speakers('"Stay where you are," said the bewildered Colonel.\n') == ["Colonel Ducroix"]


def test_the_voice_of_a_character_speaks_for_them():
    assert speakers('"Who is there?" came the muffled voice of Carver.\n') == ["Carver"]


def test_a_line_said_to_come_from_someone():
    text = (
        'Mr. Grey nodded. "He is gone away, and there is no expectation of his return," said he.\n\n'
        '"That\'s agreed, Squire. Stick to that!" From Sleary.\n'
    )
    assert speakers(text) == ["Mr. Grey", "Mr. Sleary"]


def test_a_possessive_speaker_before_the_speech_noun():
    text = 'She was stopped by Sir Thomas\'s saying with authority, "I do not advise it, Fanny."\n'
    assert speakers(text) == ["Sir Thomas Bertram"]
    text = 'Edmund praised the reading.\n\n"Sir, you do me honour," was Crawford\'s answer, with a bow.\n'
    assert speakers(text) == ["Henry Crawford"]


def test_a_title_alone_names_the_one_character_with_that_title():
    text = 'Edna came in.\n\n"So you remembered me at last," said Mademoiselle.\n'
    assert speakers(text) == ["Mademoiselle Reisz"]


def test_a_group_tag_names_no_single_speaker():
    text = (
        '"Good afternoon, Rabbit," said Lucy.\n\n'
        "Rabbit and Piglet, who had now come up from the other side of the hill, said \"Good afternoon.\"\n"
    )
    speaker, confidence = spoken(text)[1]
    assert speaker not in ("Rabbit", "Piglet") or confidence < 0.5
    speaker, confidence = spoken('"Come on!" called Rabbit and Piglet.\n')[0]
    assert speaker not in ("Rabbit", "Piglet") or confidence < 0.5


# 3. One name, several characters ---------------------------------------------------------------

FAMILY = Cast(
    characters=(
        Character("Thomas Gradgrind", ("Mr. Gradgrind", "Tom Gradgrind"), "male"),
        Character("Young Thomas", ("Tom", "Young Tom"), "male"),
        Character("Louisa", ("Loo",), "female"),
        Character("Mr. Morland", (), "male"),
        Character("Mrs. Morland", (), "female"),
        Character("Catherine Morland", ("Catherine", "Miss Morland"), "female"),
        Character("James Morland", ("James", "Morland"), "male"),
    )
)


def test_a_name_the_cast_gives_one_character_is_not_taken_from_another_s_full_name():
    text = (
        "Louisa sat with Tom by the fire, and Mr. Gradgrind read in his chair.\n\n"
        '"I hate it here, Loo," said Tom.\n\n'
        '"Hush, Tom."\n'
    )
    assert speakers(text, FAMILY)[0] == "Young Thomas"


def test_a_shared_surname_in_a_tag_is_the_one_the_cast_calls_by_it_not_the_last_mentioned():
    text = (
        "Mrs. Morland sat by the fire with Catherine, and Mr. Morland read his paper.\n\n"
        '"You have lost an hour," said Morland, coming in.\n'
    )
    assert speakers(text, FAMILY) == ["James Morland"]


# 4. A tag between two quotes -------------------------------------------------------------------

PAIR = Cast(
    characters=(
        Character("Milly", (), "female"),
        Character("Babs", (), "female"),
        Character("Josiah Bounderby", ("Mr. Bounderby", "Bounderby"), "male"),
        Character("Mrs. Sparsit", (), "female"),
    )
)


def test_a_tag_that_opens_the_next_quote_is_not_the_tag_of_the_one_before():
    text = (
        "Two young ladies came and sat with them. They were called Milly and Babs. Milly said, "
        '"Are you in town for long?" Babs said, "Have you got such a thing as a cigarette?"\n'
    )
    assert speakers(text, PAIR) == ["Milly", "Babs"]
    text = (
        "Mrs. Sparsit poured out the wine.\n\n"
        'And when Mr. Bounderby said, "Your health, ma\'am!" she answered with great feeling, '
        '"Thank you, sir. The same to you."\n'
    )
    assert speakers(text, PAIR) == ["Josiah Bounderby", "Mrs. Sparsit"]


def test_a_paragraph_of_several_speakers_gives_each_quote_the_tag_beside_it():
    text = (
        '"What\'s the matter, ma\'am?" said Mr. Bounderby; "you don\'t see a fire, do you?" '
        '"Oh dear no, sir," returned Mrs. Sparsit, "I was thinking of the dew."\n'
    )
    assert speakers(text, PAIR) == ["Josiah Bounderby"] * 2 + ["Mrs. Sparsit"] * 2


# 5. Dialogue without quotation marks -----------------------------------------------------------

DUBLIN = Cast(
    characters=(
        Character("Stephen", (), "male"),
        Character("Molly", (), "female"),
    )
)
DASHED = (
    "Stephen stood on the tower in the cold morning, and the sea lay grey below it.\n\n"
    "\u2014Go away, he said.\n\n"
    "\u2014I will not, said Molly. Not till you tell me.\n\n"
    "He looked at her for a long time without a word.\n\n"
    "\u2014Then stay, Stephen said.\n"
)


def test_a_paragraph_opened_by_a_dash_is_a_line_of_dialogue_with_its_tag():
    script = attribute(chapter_from_text(DASHED), DUBLIN)
    lines = [(s.speaker, s.text) for s in script.segments if s.kind == Kind.DIALOGUE]
    assert lines == [("Stephen", "Go away,"), ("Molly", "I will not,"), ("Molly", "Not till you tell me."),
                     ("Stephen", "Then stay,")]
    tags = [s.text for s in script.segments if s.kind == Kind.TAG]
    assert tags == ["he said.", "said Molly.", "Stephen said."]


def test_double_hyphens_open_dialogue_too_and_the_script_files_keep_it(tmp_path):
    text = DASHED.replace("\u2014", "--")
    script = attribute(chapter_from_text(text), DUBLIN)
    assert [s.speaker for s in script.segments if s.kind == Kind.DIALOGUE] == ["Stephen", "Molly", "Molly",
                                                                              "Stephen"]
    for name, form in (("script.jsonl", to_jsonl), ("script.yaml", to_yaml)):
        path = tmp_path / name
        path.write_text(form(script), encoding="utf-8")
        assert load_script(path).segments == script.segments


def test_dashes_inside_narration_of_a_book_with_quotation_marks_are_not_dialogue():
    text = (
        '"Come in," said Molly.\n\n'
        "\u2014and then, without a word, Stephen came in and sat down.\n\n"
        '"Well?" said Stephen.\n'
    )
    script = attribute(chapter_from_text(text), DUBLIN)
    assert [s.text for s in script.segments if s.kind == Kind.DIALOGUE] == ["Come in,", "Well?"]
