"""What a batch did: one line per episode for the terminal, `report.md` and `report.json`, and the
lines of each episode whose speaker the parser was least sure of."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from audiodrama.script import Script
from audiodrama.series.manifest import EpisodeSpec
from audiodrama.text.chapter import line_number
from audiodrama.text.reader import read_chapter

REPORT_JSON, REPORT_MD = "report.json", "report.md"
REVIEW_LINES = 5
"""Lowest-confidence lines listed per episode for review."""
REVIEW_BELOW = 0.9
"""Only lines less sure than this are listed (an explicit speech tag gives 0.95)."""


@dataclass(frozen=True)
class Review:
    """A line whose speaker the parser was least sure of."""

    line: int
    """Line number in the chapter file."""
    speaker: str
    """Who the line was given to."""
    confidence: float
    """How sure the attribution is."""
    reason: str
    """Why that speaker."""
    text: str
    """The start of the line."""


def review_lines(spec: EpisodeSpec, script: Script) -> tuple[Review, ...]:
    """The dialogue lines of lowest confidence (below `REVIEW_BELOW`), weakest first."""
    text = read_chapter(spec.file).text  # as the offsets were taken: decoded (or extracted from markup)
    weakest = sorted((s for s in script.segments if s.voiced_by_speaker and s.confidence < REVIEW_BELOW),
                     key=lambda s: (s.confidence, s.start))[:REVIEW_LINES]
    return tuple(Review(line_number(text, s.start), s.speaker or "?", round(s.confidence, 3), s.reason,
                        s.text[:80]) for s in weakest)


@dataclass(frozen=True)
class EpisodeReport:
    """One episode's line in the batch report."""

    number: int
    """Position in the series."""
    name: str
    """Output name."""
    file: str
    """Chapter file."""
    status: str
    """`built`, `skipped` (up to date) or `failed`."""
    title: str = ""
    """Episode title."""
    seconds: float = 0.0
    """Duration."""
    lines: int = 0
    """Lines voiced."""
    synthesized: int = 0
    """Clips synthesised in this run."""
    elapsed: float = 0.0
    """Wall time spent on it in this run."""
    error: str = ""
    """Why it failed."""
    new_speakers: tuple[str, ...] = ()
    """Speakers the cast file lacks (auto-cast)."""
    review: tuple[Review, ...] = ()
    """Lowest-confidence lines to review."""

    def line(self) -> str:
        """One line for the terminal."""
        head = f"{self.number}. {self.name}: {self.status}"
        if self.status == "failed":
            return f"{head}: {self.error}"
        made = f", {self.synthesized} clips synthesised in {self.elapsed:.0f} s" if self.status == "built" else ""
        return f"{head}, {self.seconds / 60:.1f} min, {self.lines} lines{made}"


@dataclass(frozen=True)
class BatchReport:
    """What a batch did."""

    series: str
    """Series title."""
    output: Path
    """Output folder."""
    episodes: tuple[EpisodeReport, ...]
    """The selected episodes, in series order."""
    elapsed: float
    """Wall time of the batch."""
    feed: Path | None
    """The feed written, if any."""

    def count(self, status: str) -> int:
        """Episodes with this status."""
        return sum(e.status == status for e in self.episodes)

    @property
    def failed(self) -> bool:
        """Some episode failed."""
        return self.count("failed") > 0

    def summary(self) -> str:
        """The report for the terminal."""
        built = [e for e in self.episodes if e.status != "failed"]
        out = [f"{self.series}: {self.count('built')} built, {self.count('skipped')} skipped, "
               f"{self.count('failed')} failed in {self.elapsed:.0f} s; "
               f"{sum(e.seconds for e in built) / 60:.1f} min of audio in {self.output}"]
        out += [e.line() for e in self.episodes]
        new = dict.fromkeys(s for e in self.episodes for s in e.new_speakers)
        if new:
            out.append("speakers not in the cast (auto-cast): " + "; ".join(new))
        weakest = sorted(((r, e) for e in self.episodes for r in e.review), key=lambda x: x[0].confidence)
        for review, episode in weakest[:REVIEW_LINES]:
            out.append(f"review {episode.file}:{review.line}: {review.speaker} ({review.confidence:.2f}, "
                       f"{review.reason}) {review.text!r}")
        if self.feed:
            out.append(f"feed: {self.feed}")
        out += [f"report: {self.output / REPORT_MD}"]
        return "\n".join(out) + "\n"

    def markdown(self) -> str:
        """The report as Markdown."""
        out = [f"# {self.series}: batch report", "",
               f"{self.count('built')} built, {self.count('skipped')} skipped, {self.count('failed')} failed "
               f"in {self.elapsed:.0f} s.", "",
               "| # | episode | status | duration | lines | clips synthesised | new speakers |",
               "|---|---|---|---|---|---|---|"]
        for e in self.episodes:
            status = f"failed: {e.error}" if e.status == "failed" else e.status
            out.append(f"| {e.number} | {e.title or e.name} | {status} | {e.seconds / 60:.1f} min | {e.lines} | "
                       f"{e.synthesized} | {', '.join(e.new_speakers)} |")
        out += ["", "## Lines to review", "", "| episode | line | speaker | confidence | reason | text |",
                "|---|---|---|---|---|---|"]
        for e in self.episodes:
            for r in e.review:
                text = r.text.replace("|", "\\|")
                out.append(f"| {e.name} | {e.file}:{r.line} | {r.speaker} | {r.confidence:.2f} | {r.reason} | "
                           f"{text} |")
        return "\n".join(out) + "\n"

    def to_json(self) -> str:
        """The report as JSON."""
        return json.dumps(dataclasses.asdict(self), indent=1, ensure_ascii=False, default=str) + "\n"
