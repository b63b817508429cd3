#!/usr/bin/env python3
"""Train the speaker ranker on the dev corpus and report in-sample and leave-one-out accuracy.

Each quotation the rules cannot settle by a name tag gets candidate speakers and features
(`audiodrama.attribution.ranker.FEATURES`); a logistic regression (scikit-learn, a training-time
dependency: `pip install -e .[train]`) learns which candidate speaks. History features (who
spoke the last turns) come from the parser's own decisions, so training runs in passes: the
first with the rules' history, each next with the previous model's.

Leave-one-out: each PDNC novel and each seed chapter is held out in turn, the model trained on
the rest, and the held-out text scored as the attribution scorer scores it. That figure, not the
in-sample one, predicts other novels.

Usage: python scripts/train_attribution.py [--shared ../shared] [--passes 2] [--c 1.0] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bench_parser import KINDS, cast_of
from sklearn.linear_model import LogisticRegression

from audiodrama.attribution import roster_for
from audiodrama.attribution.characters import Roster
from audiodrama.attribution.decisions import Example
from audiodrama.attribution.quotes import Quote, find_quotes
from audiodrama.attribution.ranker import FEATURES, MODEL_PATH, Ranker
from audiodrama.attribution.speakers import decide_speakers
from audiodrama.casting.cast import load_cast
from audiodrama.text.chapter import Chapter, chapter_from_text

REPO = Path(__file__).resolve().parent.parent


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
    return Text(folder.name, chapter, quotes, roster_for(chapter, quotes, cast), gold, kinds)


def run(text: Text, ranker: Ranker | None, truth: bool = False) -> tuple[list[str | None], list[Example]]:
    """The parser's speaker for each quotation, and the ranker's examples (`truth`: with the
    gold speakers as the turn history)."""
    examples: list[Example] = []
    history = true_speakers(text) if truth else None
    decisions = decide_speakers(text.chapter, text.quotes, text.roster, ranker, examples, history)
    return [d.speaker for d in decisions], examples


def true_speakers(text: Text) -> list[str | None]:
    """For each parser quotation, the cast name of its gold speaker (None when not in the cast)."""
    canonical = {name.casefold(): name for name in reversed(text.roster.people)}
    return [
        next((canonical[n] for n in names if n in canonical), None) if names else None for names in gold_of_quotes(text)
    ]


def gold_of_quotes(text: Text) -> list[set[str] | None]:
    """For each parser quotation, the accepted names of the gold quotation it overlaps most."""
    best: list[tuple[int, set[str] | None]] = [(0, None)] * len(text.quotes)
    starts = [q.start for q in text.quotes]
    for spans, names in text.gold:
        for a, b in spans:
            i = max(0, int(np.searchsorted(starts, a, side="right")) - 1)
            while i < len(text.quotes) and text.quotes[i].start < b:
                overlap = min(b, text.quotes[i].end) - max(a, text.quotes[i].start)
                if overlap > best[i][0]:
                    best[i] = (overlap, names)
                i += 1
    return [names for _, names in best]


def accuracy(text: Text, speakers: list[str | None], kind: str | None = None) -> tuple[int, int]:
    """(correct, gold quotations) as the scorer counts them: the quote overlapping most decides
    (`kind`: only the gold quotations of that kind)."""
    starts = [q.start for q in text.quotes]
    correct = total = 0
    for (spans, names), quote_kind in zip(text.gold, text.kinds, strict=True):
        if kind is not None and quote_kind != kind:
            continue
        total += 1
        best, best_overlap = None, 0
        for a, b in spans:
            i = max(0, int(np.searchsorted(starts, a, side="right")) - 1)
            while i < len(text.quotes) and text.quotes[i].start < b:
                overlap = min(b, text.quotes[i].end) - max(a, text.quotes[i].start)
                if overlap > best_overlap:
                    best, best_overlap = i, overlap
                i += 1
        correct += best is not None and (speakers[best] or "").casefold() in names
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
    every text's rows with the rules' history, computed once)."""
    ranker = fit([first[t.name] for t in texts], c)
    for _ in range(passes - 1):
        ranker = fit([matrix(t, run(t, ranker)[1]) for t in texts], c)
    return ranker


def report(texts: list[Text], passes: int, c: float, truth: bool) -> tuple[Ranker, dict]:
    """The final model and per-text accuracy: rules only, in sample, and held out (`truth`: the
    first pass learns from the gold turn history)."""
    first = {t.name: matrix(t, run(t, None, truth)[1]) for t in texts}
    final = train(texts, passes, c, first)
    figures = {}
    for held in texts:
        loo = train([t for t in texts if t is not held], passes, c, first)
        held_out = run(held, loo)[0]
        figures[held.name] = {
            "rules": accuracy(held, run(held, None)[0]),
            "in_sample": accuracy(held, run(held, final)[0]),
            "leave_one_out": accuracy(held, held_out),
            **{f"leave_one_out_{kind}": accuracy(held, held_out, kind) for kind in KINDS},
        }
        print(held.name, {k: round(v[0] / max(1, v[1]), 3) for k, v in figures[held.name].items()}, file=sys.stderr)
    return final, figures


def totals(figures: dict, names: list[str]) -> dict:
    """Accuracy over the texts in `names`, per setting (settings without quotations left out)."""
    out = {}
    for setting in ("rules", "in_sample", "leave_one_out", *(f"leave_one_out_{kind}" for kind in KINDS)):
        correct = sum(figures[n][setting][0] for n in names)
        total = sum(figures[n][setting][1] for n in names)
        if total:
            out[setting] = round(correct / total, 4)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--passes", type=int, default=2, help="training passes (history from the last model)")
    ap.add_argument("--history", choices=("rules", "true"), default="true", help="turn history of the first pass")
    ap.add_argument("--c", type=float, default=1.0, help="inverse L2 regularisation strength")
    ap.add_argument("--no-write", action="store_true", help="report only; keep the shipped model")
    a = ap.parse_args()
    corpus = Path(a.shared) / "corpus"
    seeds = sorted(p for p in (corpus / "seeds").iterdir() if (p / "gold.jsonl").exists())
    pdnc = sorted(p for p in (corpus / "pdnc-dev").iterdir() if (p / "gold.jsonl").exists())
    texts = [load(p) for p in seeds + pdnc]
    final, figures = report(texts, a.passes, a.c, a.history == "true")
    summary = {
        "seeds": totals(figures, [p.name for p in seeds]),
        "pdnc_dev": totals(figures, [p.name for p in pdnc]),
    }
    print(json.dumps(summary))
    if not a.no_write:
        info = {
            "learner": f"scikit-learn LogisticRegression(C={a.c}), {a.passes} passes, first on the {a.history} history",
            "trained_on": [t.name for t in texts],
            "accuracy": summary,
            "per_text": {
                n: {k: round(v[0] / v[1], 4) for k, v in f.items() if not k.startswith("leave_one_out_")}
                for n, f in figures.items()
            },
        }
        MODEL_PATH.parent.mkdir(exist_ok=True)
        MODEL_PATH.write_text(final.to_json(**info), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
