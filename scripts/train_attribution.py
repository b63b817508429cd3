#!/usr/bin/env python3
"""Train the speaker ranker and its confidence calibration on every annotated text of the corpus,
report each text held out, write the model and the Parser section of docs/BENCHMARKS.md.

Each quotation the rules cannot settle by a name tag gets candidate speakers and features
(`audiodrama.attribution.ranker.FEATURES`); a logistic regression (scikit-learn, a training-time
dependency: `pip install -e .[train]`) learns which candidate speaks. History features (who
spoke the last turns) come from the gold turn history on the first pass, then from the previous
model's decisions on each next pass.

Leave one out: every folder of corpus/pdnc-dev and corpus/seeds is held out in turn, the model
trained on the rest, and the held-out text scored as the attribution scorer scores it, with its
cast and without (characters discovered), by quote kind. That figure, not the in-sample one,
predicts a new book. The confidence calibration (a logistic model over what decided, the raw
confidence and the chosen candidate's features, fitted on held-out decisions) is itself judged
leave one out: each text's decisions calibrated by a model fitted on the other texts'.

One command retrains, writes audiodrama/data/speaker_model.json (trained on everything) and
regenerates the Parser section (scripts/bench_parser.py: throughput and the scorer's figures).

Usage: python scripts/train_attribution.py [--shared DIR] [--passes 1] [--c 1.0] [--no-write | --no-bench]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from bench_parser import KINDS, cast_of, section, write_section
from sklearn.linear_model import LogisticRegression

from audiodrama.attribution import roster_for
from audiodrama.attribution.characters import Roster
from audiodrama.attribution.decisions import Decision, Example
from audiodrama.attribution.features import chosen_row
from audiodrama.attribution.quotes import Quote, find_quotes
from audiodrama.attribution.ranker import ANY_BASIS, FEATURES, MODEL_PATH, Confidence, Ranker
from audiodrama.attribution.speakers import decide_speakers
from audiodrama.casting.cast import load_cast
from audiodrama.text.chapter import Chapter, chapter_from_text

REPO = Path(__file__).resolve().parent.parent
BINS = 10
"""Equal-width confidence bins of the expected calibration error."""
LOWEST = 0.2
"""The share of least confident lines whose share of all errors is reported."""
_OWN_BIAS = 50
"""Held-out decisions a basis needs for a bias of its own in the confidence model."""


@dataclass(frozen=True)
class Text:
    """One annotated novel or chapter, read once."""

    name: str
    """Folder name."""
    chapter: Chapter
    """The chapter as the parser reads it."""
    quotes: list[Quote]
    """The parser's quotations."""
    roster: Roster
    """The characters of its cast."""
    discovered: Roster
    """The characters the parser finds without a cast."""
    gold: list[tuple[list[list[int]], set[str]]]
    """Each gold quotation's spans and accepted speaker names (case-folded)."""
    kinds: list[str]
    """Each gold quotation's kind (`explicit`, `anaphoric`, `implicit`)."""


def load(folder: Path) -> Text:
    """A corpus folder with the cast the scorer would pass (cast.yaml, else characters.json)."""
    chars = json.loads((folder / "characters.json").read_text(encoding="utf-8"))
    cast = load_cast(folder / "cast.yaml") if (folder / "cast.yaml").exists() else cast_of(folder)
    chapter = chapter_from_text((folder / "text.txt").read_text(encoding="utf-8"), str(folder / "text.txt"))
    quotes = find_quotes(chapter)
    gold = []
    kinds = []
    for line in (folder / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            g = json.loads(line)
            kinds.append(g.get("quote_type") or "unknown")
            info = chars.get(g["speaker"], {})
            names = {g["speaker"], *(g.get("speaker_aliases") or []), *(g.get("alt_speakers") or [])}
            names.update(info.get("aliases") or [], info.get("cast_aliases") or [])
            gold.append((g.get("spans") or [[g["start"], g["end"]]], {n.casefold().strip() for n in names if n}))
    roster, discovered = roster_for(chapter, quotes, cast), roster_for(chapter, quotes, None)
    return Text(folder.name, chapter, quotes, roster, discovered, gold, kinds)


def run(text: Text, ranker: Ranker | None, truth: bool = False, cast: bool = True
        ) -> tuple[list[Decision], list[Example]]:
    """The parser's decision for each quotation, and the ranker's examples (`truth`: with the
    gold speakers as the turn history; `cast`: with the text's cast, else the discovered characters)."""
    examples: list[Example] = []
    history = true_speakers(text) if truth else None
    roster = text.roster if cast else text.discovered
    return decide_speakers(text.chapter, text.quotes, roster, ranker, examples, history), examples


def true_speakers(text: Text) -> list[str | None]:
    """For each parser quotation, the cast name of its gold speaker (None when not in the cast)."""
    canonical = {name.casefold(): name for name in reversed(text.roster.people)}
    return [
        next((canonical[n] for n in names if n in canonical), None) if names else None for names in gold_of_quotes(text)
    ]


def overlaps(text: Text, spans: list[list[int]]):
    """(parser quotation, characters of overlap) for each quotation overlapping one of `spans`."""
    starts = [q.start for q in text.quotes]
    for a, b in spans:
        i = max(0, int(np.searchsorted(starts, a, side="right")) - 1)
        while i < len(text.quotes) and text.quotes[i].start < b:
            overlap = min(b, text.quotes[i].end) - max(a, text.quotes[i].start)
            if overlap > 0:
                yield i, overlap
            i += 1


def gold_of_quotes(text: Text) -> list[set[str] | None]:
    """For each parser quotation, the accepted names of the gold quotation it overlaps most."""
    best: list[tuple[int, set[str] | None]] = [(0, None)] * len(text.quotes)
    for spans, names in text.gold:
        for i, overlap in overlaps(text, spans):
            if overlap > best[i][0]:
                best[i] = (overlap, names)
    return [names for _, names in best]


def accuracy(text: Text, speakers: list[str | None], kind: str | None = None) -> tuple[int, int]:
    """(correct, gold quotations) as the scorer counts them: the quote overlapping most decides
    (`kind`: only the gold quotations of that kind)."""
    correct = total = 0
    for (spans, names), quote_kind in zip(text.gold, text.kinds, strict=True):
        if kind is not None and quote_kind != kind:
            continue
        total += 1
        best = max(overlaps(text, spans), key=lambda o: o[1], default=None)
        correct += best is not None and (speakers[best[0]] or "").casefold() in names
    return correct, total


def matrix(text: Text, examples: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and 0/1 labels of the examples whose gold speaker is among the candidates."""
    gold = gold_of_quotes(text)
    xs, ys = [], []
    for ex in examples:
        names = gold[ex.quote]
        if not names:
            continue
        y = np.array([c.casefold() in names for c in ex.candidates], dtype=float)
        if y.any():
            xs.append(ex.features)
            ys.append(y)
    if not xs:
        return np.zeros((0, len(FEATURES))), np.zeros(0)
    return np.vstack(xs), np.concatenate(ys)


def fit(data: list[tuple[np.ndarray, np.ndarray]], c: float) -> Ranker:
    """A logistic regression over every candidate row of `data`."""
    x = np.vstack([d[0] for d in data])
    y = np.concatenate([d[1] for d in data])
    model = LogisticRegression(C=c, max_iter=2000).fit(x, y)
    return Ranker(model.coef_[0].copy())


def train(texts: list[Text], passes: int, c: float, first: dict[str, tuple[np.ndarray, np.ndarray]]) -> Ranker:
    """A ranker trained on `texts`, each pass on the history the previous model makes (`first`:
    every text's rows with the first pass's history, computed once)."""
    ranker = fit([first[t.name] for t in texts], c)
    for _ in range(passes - 1):
        ranker = fit([matrix(t, run(t, ranker)[1]) for t in texts], c)
    return ranker


Point = tuple[str, float, np.ndarray | None, bool]
"""A held-out decision for calibration: its basis, raw confidence, the chosen candidate's
features (when the ranker chose), and whether it is right."""


def points(text: Text, decisions: list[Decision], examples: list[Example]) -> list[Point]:
    """The calibration points of a text's decisions (quotations matching a gold one)."""
    rows = {ex.quote: ex for ex in examples}
    return [(d.basis, d.confidence, chosen_row(rows[i].candidates, rows[i].features, d.speaker) if i in rows else None,
             (d.speaker or "").casefold() in names)
            for i, (d, names) in enumerate(zip(decisions, gold_of_quotes(text), strict=True)) if names]


def held_out(texts: list[Text], passes: int, c: float, truth: bool) -> tuple[Ranker, dict, dict[str, list[Point]]]:
    """The model trained on everything; per text, its rules-only and held-out accuracy (with
    cast, by kind, without cast); and each text's held-out calibration points."""
    first = {t.name: matrix(t, run(t, None, truth)[1]) for t in texts}
    final = train(texts, passes, c, first)
    figures, held_points = {}, {}
    for held in texts:
        model = train([t for t in texts if t is not held], passes, c, first)
        decisions, examples = run(held, model)
        speakers = [d.speaker for d in decisions]
        held_points[held.name] = points(held, decisions, examples)
        figures[held.name] = {
            "rules": accuracy(held, [d.speaker for d in run(held, None)[0]]),
            "held_out": accuracy(held, speakers),
            **{f"held_out_{kind}": accuracy(held, speakers, kind) for kind in KINDS},
            "held_out_no_cast": accuracy(held, [d.speaker for d in run(held, model, cast=False)[0]]),
        }
        print(held.name, {k: round(v[0] / max(1, v[1]), 3) for k, v in figures[held.name].items()}, file=sys.stderr)
    return final, figures, held_points


def fit_confidence(data: list[Point]) -> Confidence:
    """The confidence model fitted on held-out decisions: a logistic regression over their basis
    (one-hot; bases seen fewer than `_OWN_BIAS` times share `ANY_BASIS`), raw log odds and chosen features."""
    seen = Counter(p[0] for p in data)
    bases = [b for b, n in seen.items() if n >= _OWN_BIAS] + [ANY_BASIS]
    x = np.array([confidence_inputs(p, bases) for p in data])
    y = np.array([p[3] for p in data], dtype=float)
    model = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
    w, b0 = model.coef_[0], float(model.intercept_[0])
    bias = {basis: b0 + float(w[i]) for i, basis in enumerate(bases)}
    return Confidence(bias, float(w[len(bases)]), w[len(bases) + 1 :].copy())


def confidence_inputs(p: Point, bases: list[str]) -> list[float]:
    """The confidence model's inputs for one decision: basis one-hot, raw log odds, chosen features."""
    onehot = [0.0] * len(bases)
    onehot[bases.index(p[0]) if p[0] in bases else -1] = 1.0
    raw = min(max(p[1], 1e-4), 1 - 1e-4)
    row = p[2] if p[2] is not None else np.zeros(len(FEATURES))
    return [*onehot, math.log(raw / (1 - raw)), *row.tolist()]


def calibration_report(held_points: dict[str, list[Point]]) -> dict:
    """Expected calibration error and the share of errors among the least confident lines, before
    and after calibration, each text's decisions calibrated by a model fitted on the other texts'."""
    raw, calibrated = [], []
    for name, pts in held_points.items():
        others = fit_confidence([p for n, ps in held_points.items() if n != name for p in ps])
        raw += [(p[1], p[3]) for p in pts]
        calibrated += [(others(p[0], p[1], p[2]) if p[1] > 0 else p[1], p[3]) for p in pts]
    return {"raw": judge(raw), "calibrated": judge(calibrated), "decisions": len(raw)}


def judge(scored: list[tuple[float, bool]]) -> dict:
    """ECE over `BINS` equal-width bins, and the share of all errors in the `LOWEST` least confident."""
    conf = np.array([s[0] for s in scored])
    right = np.array([s[1] for s in scored], dtype=float)
    bins = np.minimum((conf * BINS).astype(int), BINS - 1)
    ece = sum(abs(right[bins == b].mean() - conf[bins == b].mean()) * (bins == b).sum()
              for b in range(BINS) if (bins == b).any()) / len(conf)
    order = np.argsort(conf, kind="stable")
    low = order[: int(len(conf) * LOWEST)]
    errors = (1 - right).sum()
    return {"ece": round(float(ece), 4), "lowest_errors": round(float((1 - right[low]).sum() / max(1, errors)), 4),
            "accuracy": round(float(right.mean()), 4), "mean_confidence": round(float(conf.mean()), 4)}


def totals(figures: dict, names: list[str]) -> dict:
    """Accuracy over the texts in `names`, per setting (settings without quotations left out)."""
    out = {}
    for setting in next(iter(figures.values())):
        correct = sum(figures[n][setting][0] for n in names)
        total = sum(figures[n][setting][1] for n in names)
        if total:
            out[setting] = round(correct / total, 4)
    return out


def shared_dir() -> Path:
    """The shared folder beside the repo's checkout (../shared, or ../../shared from a worktree)."""
    for parent in REPO.parents:
        if (parent / "shared" / "corpus").is_dir():
            return parent / "shared"
    return REPO.parent / "shared"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(shared_dir()))
    ap.add_argument("--passes", type=int, default=1, help="training passes (history from the last model)")
    ap.add_argument("--history", choices=("rules", "true"), default="true", help="turn history of the first pass")
    ap.add_argument("--c", type=float, default=1.0, help="inverse L2 regularisation strength")
    ap.add_argument("--no-write", action="store_true", help="report only; keep the shipped model and benchmarks")
    ap.add_argument("--no-bench", action="store_true", help="write the model but leave docs/BENCHMARKS.md alone")
    a = ap.parse_args()
    started = time.perf_counter()
    corpus = Path(a.shared) / "corpus"
    seeds = sorted(p for p in (corpus / "seeds").iterdir() if (p / "gold.jsonl").exists())
    pdnc = sorted(p for p in (corpus / "pdnc-dev").iterdir() if (p / "gold.jsonl").exists())
    texts = [load(p) for p in seeds + pdnc]
    final, figures, held_points = held_out(texts, a.passes, a.c, a.history == "true")
    final = replace(final, confidence=fit_confidence([p for pts in held_points.values() for p in pts]))
    summary = {
        "seeds": totals(figures, [p.name for p in seeds]),
        "pdnc_dev": totals(figures, [p.name for p in pdnc]),
        "calibration": calibration_report(held_points),
    }
    print(json.dumps(summary), file=sys.stderr)
    if a.no_write:
        return 0
    info = {
        "learner": f"scikit-learn LogisticRegression(C={a.c}), {a.passes} pass(es), first on the {a.history} history;"
                   " logistic confidence calibration",
        "trained_on": [t.name for t in texts],
        "accuracy": summary,
        "per_text": {n: {k: [c, t] for k, (c, t) in f.items()} for n, f in figures.items()},
        "training_seconds": round(time.perf_counter() - started),
    }
    MODEL_PATH.parent.mkdir(exist_ok=True)
    MODEL_PATH.write_text(final.to_json(**info), encoding="utf-8")
    if not a.no_bench:
        write_section(REPO / "docs" / "BENCHMARKS.md", section(Path(a.shared)))
    print(f"model and benchmarks written in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
