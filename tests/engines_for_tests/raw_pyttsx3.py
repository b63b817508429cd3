"""Raw pyttsx3 2.99, unwrapped, doing one thing the issue says misbehaves; run as a subprocess.

`python raw_pyttsx3.py SCENARIO FOLDER` writes what it observed as JSON to `FOLDER/result.json`
(updated as it goes, so a later hang or crash leaves the earlier observations). The library used
follows `AUDIODRAMA_BUNDLED`. Anything pyttsx3 prints goes to this process's stdout.
"""

from __future__ import annotations

import json
import os
import sys
import time
import wave
from pathlib import Path

from audiodrama.runtime import load_espeak_for_pyttsx3

SENTENCE = "The ninja ran across the rooftops of the village, and nobody saw him go. "
SHORT = "The quick brown fox jumps over the lazy dog again and again."


def seconds(path: Path) -> float | None:
    """Duration of a WAV file, or None when there is none (yet)."""
    try:
        with wave.open(str(path)) as clip:
            return clip.getnframes() / clip.getframerate()
    except (OSError, EOFError, wave.Error):
        return None


def settle(path: Path, limit: float = 5.0) -> float | None:
    """Wait (up to `limit` seconds) for an asynchronous write of `path` to finish."""
    deadline = time.monotonic() + limit
    while seconds(path) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    return seconds(path)


def main(scenario: str, folder: Path) -> None:
    runtime = load_espeak_for_pyttsx3()
    import pyttsx3

    engine = pyttsx3.init("espeak")
    seen: dict[str, object] = {"library": f"{runtime.source} {runtime.version}"}

    def note(**facts: object) -> None:
        seen.update(facts)
        (folder / "result.json").write_text(json.dumps(seen))

    def warm_up() -> None:
        engine.save_to_file("Warm up.", str(folder / "warm.wav"))
        engine.runAndWait()
        settle(folder / "warm.wav")

    note()
    if scenario == "first":  # the first runAndWait returns early; a save right after loses the file
        engine.save_to_file(SENTENCE * 4, str(folder / "a.wav"))
        engine.runAndWait()
        note(written_when_returned=seconds(folder / "a.wav") is not None)
        engine.save_to_file(SHORT, str(folder / "b.wav"))
        engine.runAndWait()
        note(second=settle(folder / "b.wav"), first=settle(folder / "a.wav", 0.2))
    elif scenario == "several-saves":  # several saves before one runAndWait write only the last
        warm_up()
        for name in "cde":
            engine.save_to_file(f"Line {name} of three.", str(folder / f"{name}.wav"))
        engine.runAndWait()
        note(written=[settle(folder / f"{name}.wav", 0.2) is not None for name in "cde"])
    elif scenario == "nothing-queued":  # runAndWait with nothing queued hangs
        engine.runAndWait()
        note(returned_once=True)
        engine.runAndWait()
        note(returned_twice=True)
    elif scenario == "unwritable":  # an unwritable output path hangs
        warm_up()
        engine.save_to_file(SHORT, str(folder / "missing" / "x.wav"))
        engine.runAndWait()
        note(returned=True)
    elif scenario == "long":  # over about 14,000 characters segfaults
        engine.save_to_file((SENTENCE * 300)[:20_000], str(folder / "long.wav"))
        engine.runAndWait()  # the first runAndWait returns once espeak has taken the text
        note(returned=True)
    elif scenario == "rate":  # getProperty('rate') is stale; property sets get lost
        engine.setProperty("rate", 100)
        note(rate_read_after_set=engine.getProperty("rate"))
        warm_up()
        durations = []
        for number, rate in enumerate((400, 100) * 3):
            engine.setProperty("rate", rate)
            engine.save_to_file(SHORT, str(folder / f"r{number}.wav"))
            engine.runAndWait()
            durations.append([rate, settle(folder / f"r{number}.wav"), engine.getProperty("rate")])
        note(durations=durations)
    elif scenario == "stdout":  # every save prints "Audio saved to" on stdout
        warm_up()
        note(done=True)
    sys.stdout.flush()
    os._exit(0)  # pyttsx3 can hang or crash on interpreter shutdown; the observations are written


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
