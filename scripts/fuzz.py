"""A long fuzz run: the property tests of tests/test_fuzz.py with many examples each.

    .venv/bin/python scripts/fuzz.py [--examples 20000] [--findings fuzz-findings.txt]

Hypothesis shrinks every failure to a minimal input and prints it ("Falsifying example"); the run's
report, with those examples, is written to the findings file. Exit status 0 when nothing was found.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=20_000, help="examples per property")
    parser.add_argument("--findings", type=Path, default=REPO / "fuzz-findings.txt", help="report file")
    args = parser.parse_args()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_fuzz.py"],
                            cwd=REPO, env={**os.environ, "AUDIODRAMA_FUZZ_EXAMPLES": str(args.examples)},
                            capture_output=True, text=True, check=False)
    args.findings.write_text(result.stdout + result.stderr, encoding="utf-8")
    print(result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr, file=sys.stderr)
    print(f"findings: {args.findings}", file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
