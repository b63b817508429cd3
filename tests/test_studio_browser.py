"""The studio in a real headless Chromium: fix three wrong speakers from the keyboard, change a voice,
render, and hear the three lines in their new voices in the MP3."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from audiodrama.casting.cast import load_cast, pronounce
from audiodrama.mixing.audio import decode, load_clip
from audiodrama.script import load_script
from audiodrama.studio.edits import BY_HAND
from audiodrama.studio.session import Studio
from audiodrama.synthesis.clips import ClipRequest, synthesize_all
from audiodrama.synthesis.voices import Voice
from tests.browser import chromium, running
from tests.conftest import CASTS
from tests.measure import fundamental_hz, wav_samples
from tests.test_episode import best_match

WOODS = Path(__file__).parent / "fixtures" / "studio-woods.txt"
OLD_KURAMA = Voice("en-us+m7", 140, 15)
NEW_KURAMA = Voice("en-us+f2", 140, 80)
NARUTO = Voice("en-us+m3", 180, 58)


def status(driver) -> str:
    return driver.find_element(By.ID, "status").text


def wait_for_status(driver, text: str, timeout: float = 30) -> None:
    try:
        WebDriverWait(driver, timeout).until(lambda d: text in status(d))
    except TimeoutException:
        raise AssertionError(f"the status says {status(driver)!r}, never {text!r}") from None


def press(driver, *keys: str) -> None:
    driver.switch_to.active_element.send_keys(*keys)


def pick(driver, key: str, typed: str, choose: bool = True) -> None:
    """Open the speaker picker with `key`, type `typed` and take the first match."""
    press(driver, key)
    WebDriverWait(driver, 5).until(lambda d: d.switch_to.active_element.get_attribute("id") == "picker-input")
    press(driver, typed, *([Keys.ENTER] if choose else []))


def current_line(driver) -> int:
    return int(driver.find_element(By.ID, "script").get_attribute("aria-activedescendant").removeprefix("line-"))


def clip(voice: Voice, text: str) -> Path:
    cast = load_cast(CASTS / "seeds.yaml")
    return synthesize_all([ClipRequest(pronounce(text, cast.pronunciations), voice, "reference")], jobs=1)[0].path


@pytest.mark.slow
def test_fix_three_speakers_recast_and_render_from_the_browser(tmp_path: Path) -> None:
    shutil.copy(WOODS, tmp_path / "woods.txt")
    shutil.copy(CASTS / "seeds.yaml", tmp_path / "cast.yaml")
    studio = Studio.open([tmp_path / "woods.txt"], tmp_path / "cast.yaml", output=tmp_path / "out")
    wrong = [studio.script(1).segments[i].speaker for i in (3, 4, 5)]
    assert wrong == ["Naruto Uzumaki", "Kurama", "Naruto Uzumaki"]
    with running(studio) as url, chromium() as driver:
        driver.get(url)
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "line-3"))
        assert "token" not in driver.current_url
        assert driver.switch_to.active_element.get_attribute("id") == "script"  # keys work at once
        press(driver, "j", "j", "j")
        assert current_line(driver) == 3
        pick(driver, Keys.ENTER, "kur")  # type-ahead over the cast
        wait_for_status(driver, "line 3: Kurama")
        WebDriverWait(driver, 5).until(lambda d: current_line(d) == 4)  # on to the next line of dialogue
        naruto = next(b for b in driver.find_elements(By.CSS_SELECTOR, "#legend button")
                      if b.text.endswith("Naruto Uzumaki"))
        naruto_key = naruto.find_element(By.TAG_NAME, "kbd").text
        press(driver, naruto_key)  # a number key
        wait_for_status(driver, "line 4: Naruto Uzumaki")
        WebDriverWait(driver, 5).until(lambda d: current_line(d) == 5)
        pick(driver, "s", "the fox")  # an alias finds Kurama
        wait_for_status(driver, "line 5: Kurama")

        summary = driver.find_element(By.CSS_SELECTOR, 'details[data-name="Kurama"] summary')
        summary.send_keys(Keys.ENTER)  # open Kurama's voice card
        kurama = 'details[data-name="Kurama"] [data-key="{}"]'
        driver.find_element(By.CSS_SELECTOR, kurama.format("variant")).send_keys("f2")  # typed into the list
        wait_for_status(driver, "Kurama: voice en-us+f2")
        assert driver.switch_to.active_element.get_attribute("data-key") == "variant"  # the focus stays
        pitch = driver.find_element(By.CSS_SELECTOR, kurama.format("pitch"))
        pitch.send_keys(Keys.CONTROL, "a")
        pitch.send_keys("80", Keys.TAB)
        wait_for_status(driver, "Kurama: pitch 80")

        driver.find_element(By.ID, "script").send_keys(Keys.SHIFT, "R")  # render
        wait_for_status(driver, "rendered", timeout=300)
        assert driver.find_element(By.ID, "tab-episode").get_attribute("aria-selected") == "true"
        transcript = driver.find_elements(By.CSS_SELECTOR, "#transcript button")
        assert "Kurama: But you finally got your whole team reunited again." in transcript[3].text
        assert driver.find_element(By.ID, "player").get_attribute("src").startswith(url.split("?")[0])

    script = load_script(tmp_path / "out" / "woods.script.yaml")
    assert [(script.segments[i].speaker, script.segments[i].reason) for i in (3, 4, 5)] == [
        ("Kurama", BY_HAND), ("Naruto Uzumaki", BY_HAND), ("Kurama", BY_HAND)]
    cast_text = (tmp_path / "cast.yaml").read_text()
    assert cast_text.startswith("# Cast for the two sample chapters")  # the user's comments are kept
    assert cast_text == (CASTS / "seeds.yaml").read_text().replace(
        "voice: en-us+m7\n    rate: 140\n    pitch: 15", "voice: en-us+f2\n    rate: 140\n    pitch: 80")
    assert load_cast(tmp_path / "cast.yaml").character("Kurama").voice == NEW_KURAMA

    episode = studio.render_job.status.result
    rate = episode.timeline.sample_rate
    audio = decode(episode.mp3, rate)
    for index, now, before in ((3, NEW_KURAMA, NARUTO), (4, NARUTO, OLD_KURAMA), (5, NEW_KURAMA, NARUTO)):
        text = script.segments[index].text
        cue = next(c for c in episode.timeline.cues if c.segment.start == script.segments[index].start)
        heard = {voice: best_match(audio, load_clip(clip(voice, text), rate).astype(np.float32), cue.start, rate // 20)
                 for voice in (now, before, OLD_KURAMA)}
        assert heard[now] > 0.8 and heard[now] > max(heard[before], heard[OLD_KURAMA]) + 0.2, (index, heard)
        pitch = fundamental_hz(audio[cue.start: cue.end].astype(np.float64), rate)
        assert pitch == pytest.approx(fundamental_hz(*wav_samples(clip(now, text))), rel=0.15), index
        if now == NEW_KURAMA:
            assert pitch > 1.5 * fundamental_hz(*wav_samples(clip(OLD_KURAMA, text))), index


AUDIT = """
const rgb = (text) => (text.match(/[\\d.]+/g) || [0, 0, 0, 0]).map(Number).concat([1]).slice(0, 4);
const luminance = ([r, g, b]) => [r, g, b].map((c) => c / 255)
  .map((c) => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)
  .reduce((sum, c, k) => sum + c * [0.2126, 0.7152, 0.0722][k], 0);
const background = (el) => {
  for (; el; el = el.parentElement) {
    const colour = rgb(getComputedStyle(el).backgroundColor);
    if (colour[3] > 0) return colour;
  }
  return [255, 255, 255, 1];
};
const problems = [];
for (const el of document.querySelectorAll("body *")) {
  if (!el.getClientRects().length) continue;  // not shown
  if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
  const [a, b] = [luminance(rgb(getComputedStyle(el).color)), luminance(background(el))];
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const what = `${el.tagName} ${el.className} ${el.textContent.slice(0, 30)}`;
  if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)}: ${what}`);
}
for (const el of document.querySelectorAll("input, select, button, audio, [role=listbox], [role=combobox]")) {
  if (!el.getClientRects().length) continue;
  const labelled = el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.title ||
    (el.labels && [...el.labels].some((l) => l.textContent.trim())) || el.textContent.trim();
  if (!labelled) problems.push(`no label: ${el.tagName} #${el.id} ${el.className}`);
}
return problems;
"""


def test_every_view_is_labelled_and_legible(tmp_path: Path) -> None:
    """WCAG AA contrast (4.5:1) for every piece of text shown, and a name for every control, in each view."""
    shutil.copy(WOODS, tmp_path / "woods.txt")
    shutil.copy(CASTS / "seeds.yaml", tmp_path / "cast.yaml")
    studio = Studio.open([tmp_path / "woods.txt"], tmp_path / "cast.yaml", output=tmp_path / "out")
    with running(studio) as url, chromium() as driver:
        driver.get(url)
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "line-3"))
        problems = {"script": driver.execute_script(AUDIT)}
        press(driver, Keys.ALT, "2")
        problems["review"] = driver.execute_script(AUDIT)
        pick(driver, Keys.ENTER, "ku", choose=False)
        WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "picker").is_displayed())
        problems["picker"] = driver.execute_script(AUDIT)
        press(driver, Keys.ESCAPE)
        for card in driver.find_elements(By.CSS_SELECTOR, "details.character summary"):
            card.send_keys(Keys.ENTER)
        press(driver, "?")
        problems["cast and keys"] = driver.execute_script(AUDIT)
        driver.find_element(By.ID, "tab-episode").send_keys(Keys.ENTER)
        problems["episode"] = driver.execute_script(AUDIT)
    assert problems == {view: [] for view in problems}


def test_every_action_from_the_keyboard_and_a_stale_second_tab(tmp_path: Path) -> None:
    shutil.copy(WOODS, tmp_path / "woods.txt")
    shutil.copy(CASTS / "seeds.yaml", tmp_path / "cast.yaml")
    studio = Studio.open([tmp_path / "woods.txt"], tmp_path / "cast.yaml", output=tmp_path / "out")

    def speaker(index: int) -> str | None:
        return studio.script(1).segments[index].speaker

    with running(studio) as url, chromium() as driver:
        driver.get(url)
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "line-3"))
        press(driver, "j", "j", "j", "x")  # swap from line 3 to the end of the exchange
        wait_for_status(driver, "from line 3: Naruto Uzumaki and Kurama swapped")
        assert [speaker(i) for i in range(3, 8)] == ["Kurama", "Naruto Uzumaki", "Kurama", "Naruto Uzumaki", "Kurama"]
        press(driver, "u")
        wait_for_status(driver, "undid: from line 3")
        assert speaker(3) == "Naruto Uzumaki"
        press(driver, Keys.SHIFT, "U")
        wait_for_status(driver, "redid: from line 3")
        assert speaker(3) == "Kurama"

        press(driver, Keys.SHIFT, Keys.ARROW_DOWN, Keys.ARROW_DOWN)  # a run: lines 3-5
        naruto = next(b for b in driver.find_elements(By.CSS_SELECTOR, "#legend button")
                      if b.text.endswith("Naruto Uzumaki")).find_element(By.TAG_NAME, "kbd").text
        press(driver, naruto)
        wait_for_status(driver, "lines 3-5: Naruto Uzumaki")
        assert [speaker(i) for i in (3, 4, 5)] == ["Naruto Uzumaki"] * 3

        driver.find_element(By.ID, "line-9").click()
        press(driver, "d")  # narration to dialogue: who speaks it?
        pick(driver, "", "Tony Stark")  # a new character, added from the picker
        wait_for_status(driver, "line 9: dialogue")
        assert (studio.script(1).segments[9].kind, speaker(9)) == ("dialogue", "Tony Stark")
        assert load_cast(tmp_path / "cast.yaml").character("Tony Stark") is not None
        press(driver, "n")
        wait_for_status(driver, "line 9: narration")
        assert (studio.script(1).segments[9].kind, speaker(9)) == ("narration", None)

        press(driver, " ")  # hear the line
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return S.playing !== null"))
        press(driver, Keys.SHIFT, "P")  # and its scene
        wait_for_status(driver, "hearing scene 1")
        press(driver, Keys.ESCAPE)
        assert driver.execute_script("return S.playing") is None

        press(driver, "/")
        press(driver, "devastated")
        assert len([li for li in driver.find_elements(By.CSS_SELECTOR, "#script li") if li.is_displayed()]) == 1
        press(driver, Keys.ESCAPE)

        card = 'details[data-name="Yamato"]'
        driver.find_element(By.CSS_SELECTOR, f"{card} summary").send_keys(Keys.ENTER)
        driver.find_element(By.CSS_SELECTOR, f'{card} [data-key="alias"]').send_keys("Tenzo", Keys.ENTER)
        wait_for_status(driver, "'Tenzo' now names 'Yamato'")
        driver.find_element(By.CSS_SELECTOR, f'{card} [data-key="audition"]').send_keys(Keys.ENTER)
        wait_for_status(driver, "hearing Yamato's audition")
        assert (tmp_path / "out" / "auditions" / "yamato.mp3").is_file()

        first = driver.current_window_handle
        driver.switch_to.new_window("tab")
        driver.get(url.split("?")[0])  # the cookie opens the second tab
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "line-3"))
        press(driver, "j", "j", "j", "a")
        wait_for_status(driver, "line 3: Naruto Uzumaki")
        driver.switch_to.window(first)  # this tab has not seen that change
        saved = (tmp_path / "out" / "woods.script.yaml").read_text()
        driver.find_element(By.ID, "line-6").click()
        press(driver, "a")
        wait_for_status(driver, "changed in another tab or window")
        assert (tmp_path / "out" / "woods.script.yaml").read_text() == saved
        press(driver, "a")  # the page now shows the latest state: the change goes through
        wait_for_status(driver, "line 6: Naruto Uzumaki")
        errors = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"
                  and "409" not in entry["message"]]
        assert not errors
