"""The `audiodrama` command line: thin wrappers over the library, one per command."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from audiodrama import __version__, runtime
from audiodrama import script as scripts
from audiodrama.cast import Cast, load_cast
from audiodrama.errors import AudiodramaError
from audiodrama.files import write_text_atomic

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Turn prose chapters into produced, multi-voice audio drama episodes.",
)
err = Console(stderr=True, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

CastOption = Annotated[Path | None, typer.Option("--cast", "-c", help="Cast file (YAML).")]


class ScriptFormat(str, Enum):
    """Output forms of `audiodrama script`."""

    jsonl = "jsonl"
    yaml = "yaml"
    text = "text"


@contextmanager
def progress_bar(description: str, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on stderr, or None when quiet."""
    if quiet:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _cast(path: Path | None) -> Cast:
    return load_cast(path) if path else Cast()


@app.command()
def produce(
    chapter: Annotated[Path, typer.Argument(help="Chapter text file, or a script file written by `script`.")],
    cast: CastOption = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the episode.")] = Path("output"),
    settings: Annotated[Path | None, typer.Option("--settings", "-s", help="Production settings (YAML).")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Synthesis processes.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Produce an MP3 episode (with transcripts and script) from a chapter and a cast."""
    from audiodrama.episode import produce as produce_episode
    from audiodrama.settings import Settings, load_settings

    production = dataclasses.replace(load_settings(settings) if settings else Settings(), jobs=jobs)
    with progress_bar("Synthesising", quiet) as progress:
        episode = produce_episode(chapter, _cast(cast), output, production, progress)
    if not quiet:
        loudness = (f"{episode.loudness.integrated:.1f} LUFS, peak {episode.loudness.true_peak:.1f} dBTP"
                    if episode.loudness else "up to date, not re-rendered")
        err.print(f"{episode.mp3}: {episode.lines} lines, {episode.timeline.seconds / 60:.1f} min, "
                  f"{episode.synthesized} clips synthesised; {loudness}")


@app.command()
def script(
    chapter: Annotated[Path, typer.Argument(help="Chapter text file.")],
    cast: CastOption = None,
    format: Annotated[ScriptFormat, typer.Option("--format", "-f", help="Output form.")] = ScriptFormat.yaml,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write; default stdout.")] = None,
) -> None:
    """Split a chapter into narration and attributed dialogue, and print the script."""
    from audiodrama.attribution import parse_file

    parsed = parse_file(chapter, _cast(cast))
    text = getattr(scripts, f"to_{format.value}")(parsed)
    if output:
        write_text_atomic(output, text)
    else:
        sys.stdout.write(text)


@app.command()
def voices(
    lang: Annotated[str | None, typer.Option("--lang", help="Only voices whose language starts so.")] = None,
) -> None:
    """List the engine's voices and the variants (with their genders) that can follow a `+`."""
    from audiodrama.voices import catalogue

    voices = catalogue()
    table = Table("id", "name", "language", "gender", title="Base voices (use as `voice: en-us`)")
    for voice in voices.voices:
        if not lang or voice.language.startswith(lang.lower()):
            table.add_row(voice.id, voice.name, voice.language, "male (espeak default)")
    out.print(table)
    table = Table("variant", "name", "gender", title="Variants (append to a voice: `en-us+f3`)")
    for variant in voices.variants:
        table.add_row(f"+{variant.id}", variant.name, variant.gender)
    out.print(table)


@app.command()
def doctor() -> None:
    """Say which speech engine library and which ffmpeg are in use, and their versions."""
    espeak = runtime.espeak()
    ffmpeg = runtime.ffmpeg()
    out.print(f"audiodrama {__version__} on Python {sys.version.split()[0]}")
    out.print(f"engine: pyttsx3 {version('pyttsx3')} with espeak-ng {espeak.version} "
              f"({espeak.source}) {espeak.library}")
    out.print(f"espeak-ng data: {espeak.data_dir}")
    out.print(f"ffmpeg: {ffmpeg.version} ({ffmpeg.source}) {ffmpeg.executable}")
    if runtime.force_bundled():
        out.print(f"{runtime.BUNDLED_ENV}=1: bundled tools forced")


def main() -> None:
    """Run the CLI; the product's own errors become one line on stderr and exit status 2."""
    try:
        app()
    except AudiodramaError as error:
        err.print(f"audiodrama: error: {error}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("audiodrama: interrupted; run the same command again to resume", markup=False)
        sys.exit(130)
