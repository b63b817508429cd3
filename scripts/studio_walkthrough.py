"""Time a new user's first session in the studio, driven in headless Chromium from the keyboard only:
open seed chapter 000 with the seed cast, walk the ten least certain lines (hear each one to the end,
then accept it or type the right speaker), render, and start the episode.

    .venv/bin/python scripts/studio_walkthrough.py [--think SECONDS] [--screenshots DIR]

The clip cache starts empty (as on a new machine). A script reads faster than a person: `--think`
adds the seconds a person would spend reading each line and its context before pressing a key
(default 0: the machine's part alone). Prints each step's time on stderr and the total.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TRUTH = {  # who speaks the ten least certain lines of chapter-000, read by a person
    163: "Kurama", 118: "Kurama", 133: "Sakura Haruno", 186: "Kurama", 229: "Yamato",
    179: "Kurama", 114: "Guard", 173: "Kurama", 103: "Sakura Haruno", 88: "Sasuke Uchiha",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--think", type=float, default=0.0, help="seconds a person reads each line")
    parser.add_argument("--screenshots", type=Path, help="save the main views here as studio-*.png")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="studio-walk-"))
    os.environ["AUDIODRAMA_CACHE"] = str(work / "cache")  # a new user's empty clip cache
    try:
        walk(work, args.think, args.screenshots and args.screenshots.resolve())
    finally:
        shutil.rmtree(work, ignore_errors=True)


def walk(work: Path, think: float, shots: Path | None) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    from audiodrama.studio.session import Studio
    from tests.browser import chromium, running

    began = time.monotonic()
    marks: list[tuple[str, float]] = []

    def mark(what: str) -> None:
        marks.append((what, time.monotonic() - began))
        print(f"{marks[-1][1]:7.1f} s  {what}", file=sys.stderr, flush=True)

    def press(*keys: str) -> None:
        driver.switch_to.active_element.send_keys(*keys)

    def state(expression: str):
        return driver.execute_script(f"return {expression};")

    def until(condition, timeout: float = 600) -> None:
        WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: condition())

    def shot(name: str) -> None:
        if shots:
            shots.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(shots / f"studio-{name}.png"))

    for part in ("samples/chapter-000.txt", "casts/seeds.yaml"):  # the README's paths, in a scratch folder
        (work / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / part, work / part)
    os.chdir(work)
    studio = Studio.open([Path("samples/chapter-000.txt")], Path("casts/seeds.yaml"), output=Path("output"))
    with running(studio) as url, chromium() as driver:
        driver.get(url)
        until(lambda: state("S.data !== null && document.querySelectorAll('#script li').length > 0"))
        mark("page open")
        shot("script")
        press(Keys.ALT, "2")  # the least certain first
        until(lambda: state("S.view") == "review")
        fixed = 0
        for n in range(10):
            line = state("S.cursor")
            press(" ")  # hear it
            until(lambda: state("S.playing !== null"), 60)
            until(lambda: state("S.playing === null || S.playing.ended || S.playing.error !== null"), 120)
            time.sleep(think)
            speaker = state(f"S.data.segments[{line}].speaker")
            version = state("S.version")
            if speaker == TRUTH[line]:
                press("a")
            else:
                press(Keys.ENTER)
                until(lambda: driver.switch_to.active_element.get_attribute("id") == "picker-input", 10)
                press(TRUTH[line].split()[0][:4])
                if n == 4:
                    shot("review")
                press(Keys.ENTER)
                fixed += 1
            until(lambda v=version, at=line: state("S.version") > v and state("S.cursor") != at, 30)
            mark(f"line {line}: {'fixed, ' + TRUTH[line] if speaker != TRUTH[line] else 'accepted'}")
        driver.find_element(By.CSS_SELECTOR, "#review").send_keys(Keys.SHIFT, "R")
        until(lambda: state("S.renderTimer !== null"), 10)
        until(lambda: "rendered" in driver.find_element(By.ID, "status").text, 1800)
        mark("episode rendered")
        driver.execute_script("document.getElementById('player').play()")
        until(lambda: state("document.getElementById('player').currentTime") > 1.0, 60)
        mark("hearing the corrected episode")
        if shots:
            driver.execute_script("document.getElementById('player').currentTime = 300")
            time.sleep(1.5)
            shot("episode")
            driver.execute_script("document.getElementById('player').pause(); selectView('script');"
                                  "document.querySelector('details[data-name=\"Kurama\"]').open = true;")
            press(Keys.ALT, "1")
            time.sleep(0.5)
            shot("cast")
    print(f"ten least certain lines walked ({fixed} fixed) and the episode heard in {marks[-1][1]:.0f} s"
          f" ({think:g} s of reading per line included)")


if __name__ == "__main__":
    main()
