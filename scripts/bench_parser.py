#!/usr/bin/env python3
"""Parser benchmark: throughput (MB/s) against a plain regex scan of the same text, and the
attribution scorer's figures, written to the "Parser" section of docs/BENCHMARKS.md.

Usage: python scripts/bench_parser.py [--shared ../shared] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path

from audiodrama.attribution import attribute
from audiodrama.attribution.ranker import MODEL_PATH
from audiodrama.casting.cast import Cast, Character
from audiodrama.text.chapter import chapter_from_text

REPO = Path(__file__).resolve().parent.parent
KINDS = ("explicit", "anaphoric", "implicit")
"""The corpus's quotation kinds, reported apart."""
GENDERS = {"M": "male", "F": "female", "male": "male", "female": "female"}
NOTE = """\
Targets (issue 14, held out): with cast >= 0.85 overall, explicit >= 0.98, anaphoric and implicit
>= 0.78; without cast >= 0.72; seeds >= 0.95; ECE <= 0.05 (met); least confident fifth holding
>= 60% of errors (not met). Where the rest is lost, by what decided (held out, PDNC and seeds):
untagged turns decided by turn-taking hold 43% of the errors (7,300 decisions, 69% right: a wrong
turn runs on), quotes sharing a paragraph with a tagged one 15%, pronoun tags 14%, descriptor tags
("the old man", 63% right) and the rule "acts in the paragraph before" 5% each; explicit name tags
are 98% right. Long exchanges: a character the turns around only talk about ("being mentioned is
not being present"), or the one a tag names as the next turn's speaker, is no longer carried in as
a turn's speaker by the "acts before" and "last mentioned" rules; a name opening a quote before a
lower-case word ("Harriet can take the coach") is its subject, not a call; the ranker gets presence
features (talked about in the exchange's quotes, talked about only, outside the exchange's tagged
speakers). Tried and measured held out, no gain: those presence features alone (weights near zero:
-0.1 to -0.4), turns to the exchange's nearest tag as a feature, an isotonic curve per decision
basis for confidence (least confident fifth: 51% of errors against 56% for the logistic model), a
confidence slope per basis. Earlier (8 novels): salience-weighted pronoun chains, a scene-membership
filter, a wider beam, gradient-boosted trees, a softmax ranker objective, naive-Bayes word profiles.
What would close the gap: a model trained on whole exchanges rather than single turns (the errors
are inherited), coreference of epithets and kinship terms to names. Held-out figures move by about
0.001 from one training run to the next; the parser's output for a given model file is fixed.
"""
BASELINE = re.compile(r'"[^"\n]*"|\S+')
REPEATS = 3
"""Timings per text; the fastest counts."""


def cast_of(folder: Path) -> Cast:
    """The cast the scorer would write from characters.json."""
    chars = json.loads((folder / "characters.json").read_text(encoding="utf-8"))
    return Cast(
        characters=tuple(
            Character(name, tuple(info.get("aliases") or ()), GENDERS.get(str(info.get("gender"))))
            for name, info in chars.items()
        )
    )


def throughput(folders: list[Path]) -> tuple[float, float, int]:
    """(parser MB/s, baseline MB/s, bytes) over every folder's text, with its cast; each timing
    the fastest of `REPEATS` (the run least slowed by whatever else the machine is doing)."""
    parse_s = base_s = 0.0
    size = 0
    for folder in folders:
        text = (folder / "text.txt").read_text(encoding="utf-8")
        cast = cast_of(folder)
        size += len(text.encode("utf-8"))
        parse = base = math.inf
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            attribute(chapter_from_text(text), cast)
            t1 = time.perf_counter()
            sum(1 for _ in BASELINE.finditer(text)) + len(text.split())
            t2 = time.perf_counter()
            parse, base = min(parse, t1 - t0), min(base, t2 - t1)
        parse_s += parse
        base_s += base
    return size / parse_s / 1e6, size / base_s / 1e6, size


def score(corpora: list[Path], no_cast: bool) -> dict:
    """The scorer's summary and per-folder results for the repo's CLI."""
    out = REPO / "output" / f"score-{'nocast' if no_cast else 'cast'}.json"
    cmd = [sys.executable, str(corpora[0].parent.parent / "tools" / "score_attribution.py"), *map(str, corpora)]
    cmd += ["--cmd", f"{sys.executable} -m audiodrama", "--json", str(out)] + (["--no-cast"] if no_cast else [])
    subprocess.run(cmd, check=False, capture_output=True, cwd=REPO)
    return json.loads(out.read_text(encoding="utf-8"))


def kinds(result: dict, names: set[str]) -> str:
    """Accuracy by quote kind over the folders in `names`."""
    total: dict[str, list[int]] = {}
    for r in result["results"]:
        if r["folder"] in names:
            for k, v in r["by_kind"].items():
                t = total.setdefault(k, [0, 0])
                t[0] += v.get("correct", 0)
                t[1] += v["total"]
    return ", ".join(f"{k} {c / n:.3f} ({n})" for k, (c, n) in sorted(total.items()) if n > 5)


def accuracy(result: dict, names: set[str]) -> float:
    rows = [r for r in result["results"] if r["folder"] in names]
    return sum(r["correct"] for r in rows) / max(1, sum(r["quotes"] for r in rows))


def held_out() -> list[str]:
    """The leave-one-out tables the training script stored: per text, rules only and the model held
    out (with cast, by kind, without cast); totals; the confidence calibration."""
    info = json.loads(MODEL_PATH.read_text(encoding="utf-8"))

    def pct(pair: list[int]) -> str:
        return f"{pair[0] / pair[1]:.3f}" if pair[1] else "–"

    rows = ["| text | quotes | rules only | held out, with cast | explicit | anaphoric | implicit | no cast |",
            "|---|---|---|---|---|---|---|---|"]
    for name, f in info["per_text"].items():
        cells = [pct(f[k]) for k in ("rules", "held_out", *(f"held_out_{kind}" for kind in KINDS), "held_out_no_cast")]
        rows.append(f"| {name} | {f['held_out'][1]} | " + " | ".join(cells) + " |")
    for name, key in (("seeds", "seeds"), ("PDNC dev (18 novels)", "pdnc_dev")):
        a = info["accuracy"][key]
        cells = [f"{a[k]:.3f}" if k in a else "–"
                 for k in ("rules", "held_out", *(f"held_out_{kind}" for kind in KINDS), "held_out_no_cast")]
        rows.append(f"| **{name}** | | " + " | ".join(f"**{c}**" for c in cells) + " |")
    cal = info["accuracy"]["calibration"]
    raw, calibrated = cal["raw"], cal["calibrated"]
    return [
        f"Leave one novel out ({info['learner']}): each text held out from training in turn, scored in",
        "process as the scorer scores it (the quote overlapping a gold quotation most decides). The no-cast",
        "column runs the held-out model on the characters the parser discovers.",
        "",
        *rows,
        "",
        f"Confidence, leave one novel out over {cal['decisions']} decisions (each text's calibrated by a model",
        "fitted on the other texts' held-out decisions): expected calibration error (10 equal-width bins)",
        f"**{calibrated['ece']:.3f}** (raw ranker and rule confidences: {raw['ece']:.3f}); the 20% of lines with",
        f"the lowest confidence hold **{calibrated['lowest_errors']:.0%}** of all errors",
        f"(raw: {raw['lowest_errors']:.0%});"
        f" mean confidence {calibrated['mean_confidence']:.3f} against accuracy {calibrated['accuracy']:.3f}.",
        f"Training and the held-out runs took {info['training_seconds']} s on this machine (2 shared cores).",
    ]


def section(shared: Path) -> str:
    """The Parser section's Markdown."""
    seeds, pdnc = shared / "corpus" / "seeds", shared / "corpus" / "pdnc-dev"
    folders = sorted(p for c in (seeds, pdnc) for p in c.iterdir() if (p / "gold.jsonl").exists())
    parser_mbs, base_mbs, size = throughput(folders)
    with_cast, no_cast = score([seeds, pdnc], False), score([seeds, pdnc], True)
    seed_names = {p.name for p in seeds.iterdir()}
    pdnc_names = {p.name for p in pdnc.iterdir()}
    lines = [
        "## Parser",
        "",
        "Measured by `python scripts/bench_parser.py` with `../shared/tools/score_attribution.py`. PDNC is",
        "the Project Dialogism Novel Corpus (Vishnubhotla, Hammond & Hirst, LREC 2022), texts from Project",
        "Gutenberg. Explicit name tags are decided by rule; every other quote by a logistic ranker over",
        "candidate speakers; every line's confidence by a logistic calibration (`scripts/train_attribution.py`",
        "retrains both and rewrites this section; weights in `audiodrama/data/speaker_model.json`). The",
        "shipped model is trained on all these texts, so the scorer's rows just below are in sample; the",
        "leave-one-novel-out table after them predicts a new book (the rules were also tuned by reading",
        "these novels' errors).",
        "",
        "In sample, the shipped model through the CLI (`score_attribution.py`):",
        "",
        "| corpus | setting | accuracy | by quote kind |",
        "|---|---|---|---|",
        f"| seeds | with cast | {accuracy(with_cast, seed_names):.3f} | {kinds(with_cast, seed_names)} |",
        f"| PDNC dev | with cast | {accuracy(with_cast, pdnc_names):.3f} | {kinds(with_cast, pdnc_names)} |",
        f"| seeds | no cast | {accuracy(no_cast, seed_names):.3f} | {kinds(no_cast, seed_names)} |",
        f"| PDNC dev | no cast | {accuracy(no_cast, pdnc_names):.3f} | {kinds(no_cast, pdnc_names)} |",
        "",
        *held_out(),
        "",
        "| novel | quotes | with cast | no cast | top confusions (with cast) |",
        "|---|---|---|---|---|",
    ]
    nc = {r["folder"]: r for r in no_cast["results"]}
    for r in with_cast["results"]:
        conf = "; ".join(r["top_confusions"][:2])
        lines.append(
            f"| {r['folder']} | {r['quotes']} | {r['accuracy']:.3f} | {nc[r['folder']]['accuracy']:.3f} | {conf} |"
        )
    lines += [
        "",
        f"Throughput (in process, {size / 1e6:.1f} MB of text, casts from characters.json): parser "
        f'{parser_mbs:.2f} MB/s; baseline regex scan of the same text (`"..."` quotes and words) '
        f"{base_mbs:.1f} MB/s; ratio {parser_mbs / base_mbs:.3f}. Each timing is the fastest of {REPEATS}: this "
        "machine's speed drifts by a third from minute to minute, the ratio much less.",
        "",
        *NOTE.splitlines(),
        "",
    ]
    return "\n".join(lines)


def write_section(path: Path, body: str) -> None:
    """Replace (or append) the Parser section, leaving other sections alone."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    match = re.search(r"^## Parser\n.*?(?=^## |^<!-- |\Z)", text, re.M | re.S)  # up to the next section or marker
    text = text[: match.start()] + body + text[match.end() :] if match else text.rstrip("\n") + "\n\n" + body
    path.write_text(text, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--no-write", action="store_true", help="print the section instead of writing it")
    a = ap.parse_args()
    body = section(Path(a.shared))
    if a.no_write:
        print(body)
    else:
        write_section(REPO / "docs" / "BENCHMARKS.md", body)
        print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
