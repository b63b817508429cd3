"""Characters found without a cast, and descriptors ("the old gentleman", "her mother") tied to the
named characters they stand for: one short passage per phenomenon (issue 14)."""

from __future__ import annotations

from audiodrama.attribution import attribute, discover_characters
from audiodrama.casting.cast import Cast, Character
from audiodrama.text.chapter import Kind, chapter_from_text


def speakers(text: str, cast: Cast | None = None) -> list[str | None]:
    """The speaker of every voiced segment of `text`, in order."""
    script = attribute(chapter_from_text(text), cast)
    return [s.speaker for s in script.segments if s.kind != Kind.NARRATION and s.voiced_by_speaker]


def names(text: str) -> dict[str, tuple[str, ...]]:
    """Discovered character -> its other forms."""
    return {c.name: c.aliases for c in discover_characters(chapter_from_text(text))}


def test_a_discovered_character_is_printed_by_its_fullest_name():
    # tags say "Bill", the narration often gives "Bill Gorton" (but a full name written once in a
    # hundred mentions is not how the book knows the character: "Elizabeth Bennet" for "Elizabeth")
    text = (
        "Bill Gorton came up from the station with his bags. Bill Gorton was tired.\n\n"
        '"Hello," said Bill.\n\n"You look fine," said Brett.\n\n"I feel fine," said Bill.\n'
    )
    assert speakers(text) == ["Bill Gorton", "Brett", "Bill Gorton"]
    assert "Bill" in names(text)["Bill Gorton"]


def test_mr_and_a_surname_join_the_one_man_of_that_surname_the_text_names_in_full():
    # Mansfield Park: "Mr. Crawford" is Henry Crawford; "Miss Crawford" stays herself (a Miss may be
    # any of the sisters)
    text = (
        "Henry Crawford came in; he bowed. Mary Crawford looked up; she smiled. Henry Crawford sat. "
        "Mary Crawford did not.\n\n"
        '"Good evening," said Mr. Crawford.\n\n"You are late," said Miss Crawford.\n\n'
        '"I rode," said Henry.\n\n"So I see," said Mary.\n'
    )
    assert speakers(text) == ["Henry Crawford", "Miss Crawford", "Henry Crawford", "Mary Crawford"]


def test_titles_make_a_family_several_people_and_a_full_name_one():
    text = (
        '"My dear," said Mr. Bennet.\n\n"Oh!" cried Mrs. Bennet.\n\n"Papa," said Miss Bennet.\n\n'
        '"Yes," said Elizabeth.\n\n"Indeed," said Miss Elizabeth Bennet.\n\n"Hush," said Mrs. Bennet.\n'
    )
    found = names(text)
    assert {"Mr. Bennet", "Mrs. Bennet", "Miss Bennet"} <= set(found)
    elizabeth = next(n for n, forms in found.items() if "Elizabeth" in (n, *forms))
    assert "Miss Elizabeth Bennet" in (elizabeth, *found[elizabeth])


def test_sentence_openers_titles_alone_and_places_are_never_characters():
    text = (
        "Chapter One\n\n"
        '"We sail for India," said Holmes. Yet the ship was late.\n\n'
        '"It is cold," Yet said nothing more.\n\n"Yes," said Miss.\n\n'
        '"Come," said Watson.\n\nThey had lived in India. Nobody went to India now. '
        "Yet he was sure of it. Yet it rained.\n"
    )
    found = set(names(text))
    assert {"Holmes", "Watson"} <= found
    assert not found & {"Chapter", "Chapter One", "Yet", "Miss", "India"}


def test_a_first_person_narrator_is_named_by_what_the_others_call_him():
    # The Sun Also Rises: "I said" tags; the others call the narrator Jake
    text = (
        "We went into the cafe. Brett was at the bar; she waved.\n\n"
        + "".join(
            f'"Hello, Jake," said Brett.\n\n"Hello," I said.\n\n"Have a drink, Jake," said Brett.\n\n'
            f'"Not now, Brett," I said.\n\n"{n}," I said.\n\n'
            for n in ("One", "Two", "Three")
        )
    )
    said = speakers(text)
    assert said[1] == "Jake" and said.count("Jake") == 9 and said.count("Brett") == 6


def test_a_lowercase_epithet_is_the_named_character_it_was_set_beside():
    # Oliver Twist: "Mr. Brownlow, the old gentleman," then tags say "the old gentleman"
    text = (
        "Mr. Brownlow, the old gentleman who had taken the boy in, sat by the fire. Oliver stood by him.\n\n"
        '"Come here," said the old gentleman.\n\n"Yes, sir," said Oliver.\n\n'
        '"Sit down," said the old gentleman kindly.\n'
    )
    assert speakers(text) == ["Mr. Brownlow", "Oliver", "Mr. Brownlow"]
    cast = Cast(characters=(Character("Mr. Brownlow", (), "male"), Character("Oliver Twist", ("Oliver",), "male"),
                            Character("Mr. Grimwig", (), "male")))
    text_with_friend = text.replace("Oliver stood by him.", "Oliver stood by him. Mr. Grimwig was out.")
    assert speakers(text_with_friend, cast) == ["Mr. Brownlow", "Oliver Twist", "Mr. Brownlow"]


def test_her_mother_is_the_mother_of_the_daughter_her_points_at():
    # Pride and Prejudice: "her mother" is Mrs. Bennet when "her" is Elizabeth Bennet
    cast = Cast(characters=(
        Character("Elizabeth Bennet", ("Elizabeth", "Lizzy"), "female"),
        Character("Mrs. Bennet", (), "female"),
        Character("Charlotte Lucas", ("Charlotte",), "female"),
        Character("Mr. Collins", (), "male"),
    ))
    text = (
        "Mrs. Bennet was out of the room. Charlotte Lucas had called; she sat with Elizabeth. "
        "Mr. Collins had gone.\n\n"
        '"He will come back," said Charlotte.\n\n'
        '"Never," said Elizabeth.\n\n'
        'Just then the door opened. "Lizzy, you must marry him," her mother cried.\n'
    )
    assert speakers(text, cast) == ["Charlotte Lucas", "Elizabeth Bennet", "Mrs. Bennet"]


def test_a_pointer_back_is_never_a_character():
    # The Man Who Was Thursday: "said the other" is whoever of the two did not just speak
    text = (
        'Syme met Gregory on the lawn.\n\n"Well," said Syme.\n\n"Go on," said the other.\n\n'
        '"No," said Syme.\n\n"Yes," said the other.\n'
    )
    assert "the other" not in names(text)
    assert "the other" not in speakers(text)


def test_discovered_genders_come_from_titles_written_before_first_names_not_surnames():
    # The Sun Also Rises: "Lady Brett"; Northanger Abbey: "Mrs. Thorpe" is John Thorpe's mother
    text = (
        'Lady Brett came in. John Thorpe was there; Mrs. Thorpe too. Miss Louisa sat down.\n\n'
        '"Hello," said Brett.\n\n"Well," said Thorpe.\n\n"Yes," said Mrs. Thorpe.\n\n'
        '"No," said Brett.\n\n"Hm," said Thorpe.\n\n"So," said Louisa.\n\n"Ah," said Miss Louisa.\n'
    )
    found = {c.name: c for c in discover_characters(chapter_from_text(text))}
    assert found["Brett"].gender == "female"
    assert found["Thorpe"].gender != "female" and found["Mrs. Thorpe"].gender == "female"
    louisa = next(c for c in found.values() if "Louisa" in (c.name, *c.aliases))
    assert "Miss Louisa" in (louisa.name, *louisa.aliases) and louisa.gender == "female"


def test_an_adverb_before_a_name_and_what_was_said_are_no_characters():
    # A Handful of Dust: "Presently Tony said"; Oliver Twist: "was the reply", "said the girl firmly"
    text = (
        'Tony and Brenda sat at breakfast; later Tony read.\n\n"Well," said Tony.\n\n'
        'Presently Tony said, "Shall we go?"\n\n"No," was the reply.\n\n"Never," was the reply.\n\n'
        '"I will not," said the girl firmly.\n\n"You shall," said the girl firmly.\n'
    )
    found = set(names(text))
    assert "Tony" in found
    assert not found & {"Presently Tony", "the reply", "the girl firmly"}


def test_a_married_daughter_s_father_is_not_her_husband():
    # Hard Times: Louisa, now Mrs. Bounderby; "said her father" is Mr. Gradgrind, not Mr. Bounderby
    cast = Cast(characters=(
        Character("Louisa Bounderby", ("Louisa", "Mrs. Bounderby"), "female"),
        Character("Josiah Bounderby", ("Mr. Bounderby",), "male"),
        Character("Thomas Gradgrind", ("Mr. Gradgrind",), "male"),
    ))
    text = (
        "Mr. Bounderby had gone to town. Mr. Gradgrind sat with Louisa in the study.\n\n"
        '"Father," said Louisa.\n\n"My dear," said her father.\n'
    )
    assert speakers(text, cast) == ["Louisa Bounderby", "Thomas Gradgrind"]


def test_a_name_with_another_title_keeps_it_and_joins_no_full_name():
    # Sense and Sensibility: "Sir John" (Middleton) is not John Dashwood
    text = (
        "John Dashwood rode over; John Dashwood was cold.\n\n"
        '"Welcome," said Sir John.\n\n"Thank you," said John Dashwood.\n\n"Come in," said Sir John.\n'
    )
    assert speakers(text) == ["Sir John", "John Dashwood", "Sir John"]
