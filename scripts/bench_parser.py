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
Targets: PDNC explicit quotes >= 0.97 is met, in sample and held out. Not met: seeds with cast
(0.95) and PDNC with cast (0.85). Where the rest is lost, measured on PDNC: when the two turns
before a quote are right, an alternating speaker is found 99% of the time, but 732 quotes are lost
because a turn before them went wrong and the error runs on (Tony -> Brenda, Elizabeth -> Jane);
with the gold turn history the same model resolves 84% of "said she" tags and scores 0.845
overall. In runs of three or more consecutive quote paragraphs between two gold speakers, 806
quotes are wrong: only 198 of them give the line to the other of the two (a flipped turn), 608
to a third character carried in from before the exchange. Pronoun and descriptor tags chosen by
recency fail on kinship and epithets ("said her mother", "the old gentleman" for a Mr. Brownlow
named pages before), and the cast's aliases are sometimes used for someone else ("Miss Bennet"
for Elizabeth). Tried and measured held out, no gain: salience-weighted pronoun chains, the last
character of each gender to open a sentence, a scene-membership candidate filter or feature, the
characters named in the narration leading into an exchange, the next line's vocative, a wider
beam, unnormalised beam scores, a harder vocative constraint, gradient-boosted trees over the
same features (+0.5% per decision even with the true history), an exchange boundary where a quote
paragraph opens with long narration, each character's word profile from their tagged lines (naive
Bayes; worse by 0.003), a softmax ranker objective instead of per-candidate logistic regression
(worse by 0.007), a pronoun with no one of its gender at hand going to the most tagged character
of that gender, and tag addressees ("she yelled at the guards") as the next turn's speaker (one
seed line right, PDNC 0.001 worse), "his wife" as Mrs. <surname> of the man "his" points at (the
possessor is wrong as often as right: 2 gained, 2 lost), and a tag's addressee ("said the young
gentleman to Oliver") kept from being its speaker (the form is too rare to move a quote). About
570 of the wrong quotes have a gold speaker not named within 3,000 characters before or 1,000
after (an epithet only: "the young gentleman" for the Artful Dodger); 45 are "Unknowable" and 15
"_group" in the gold, which no cast speaker matches. What would close the gap: a
model trained on whole exchanges rather than single turns (the errors are inherited),
coreference of epithets and kinship terms to names, and more annotated novels. Seeds: the
telepathy scenes (Kurama speaks inside Naruto's mind, untagged, with turns dropped). Held-out
figures move by about 0.001 from one training run to the next (the fit is not bit-for-bit
repeatable); the parser's output for a given model file is.
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
    """The table of rules-only, in-sample and leave-one-out accuracy the training script stored."""
    info = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    rows = ["| text | rules only | model, in sample | model, held out |", "|---|---|---|---|"]
    for name, key in (("seeds", "seeds"), ("PDNC dev", "pdnc_dev")):
        a = info["accuracy"][key]
        rows.append(f"| **{name}** | {a['rules']:.3f} | {a['in_sample']:.3f} | **{a['leave_one_out']:.3f}** |")
    for name, a in info["per_text"].items():
        rows.append(f"| {name} | {a['rules']:.3f} | {a['in_sample']:.3f} | {a['leave_one_out']:.3f} |")
    pdnc = info["accuracy"]["pdnc_dev"]
    kinds = ", ".join(f"{k} {pdnc[f'leave_one_out_{k}']:.3f}" for k in KINDS if f"leave_one_out_{k}" in pdnc)
    return [
        f"Leave one out, with cast ({info['learner']}; counted in process as the scorer counts):",
        "",
        *rows,
        "",
        f"PDNC dev held out, by quote kind: {kinds}.",
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
        "candidate speakers (`scripts/train_attribution.py`, weights in `audiodrama/data/speaker_model.json`)",
        "trained on these same texts, so the with-cast rows below are in sample. The leave-one-out rows",
        "(each PDNC novel, and each seed chapter, held out from training and scored the scorer's way) predict",
        "other novels; the rules were also tuned by reading these novels' errors.",
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
