"""The `audiodrama` command line: thin wrappers over the library, one per command."""

from __future__ import annotations

import dataclasses
import errno
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from audiodrama import __version__, runtime
from audiodrama import script as scripts
from audiodrama.casting.cast import Cast, load_cast
from audiodrama.errors import AudiodramaError, InputError
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
NotesOption = Annotated[bool, typer.Option("--authors-notes",
                                            help="Read author's notes (\"A/N:\", AO3's notes) as story.")]
CHAPTER_FORMATS = ".txt, .md, .html or .epub"


class ScriptFormat(str, Enum):
    """Output forms of `audiodrama script`."""

    jsonl = "jsonl"
    yaml = "yaml"
    text = "text"


@contextmanager
def progress_bar(quiet: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress callback, told (stage, done, total), drawing a bar on stderr; None when quiet."""
    if quiet:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("Starting", total=None)

        def update(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        yield update


def _cast(path: Path | None) -> Cast:
    return load_cast(path) if path else Cast()


@app.command()
def produce(
    chapter: Annotated[Path, typer.Argument(help=f"Chapter ({CHAPTER_FORMATS}) or a script written by `script`.")],
    cast: CastOption = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the episode.")] = Path("output"),
    settings: Annotated[Path | None, typer.Option("--settings", "-s", help="Production settings (YAML).")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Synthesis processes.")] = None,
    radio_play: Annotated[bool, typer.Option("--radio-play", help="Drop bare speech tags (\"said Naruto\").")] = False,
    authors_notes: NotesOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Produce an MP3 episode (with transcripts and script) from a chapter and a cast."""
    from audiodrama.episode import produce as produce_episode
    from audiodrama.settings import Settings, load_settings

    production = load_settings(settings) if settings else Settings()
    production = dataclasses.replace(production, jobs=jobs, radio_play=radio_play or production.radio_play,
                                     authors_notes=authors_notes or production.authors_notes)
    with progress_bar(quiet) as progress:
        episode = produce_episode(chapter, _cast(cast), output, production, progress)
    for notice in episode.notices:
        err.print(f"audiodrama: {notice}", markup=False, highlight=False)
    if not quiet:
        loudness = (f"{episode.loudness.integrated:.1f} LUFS, peak {episode.loudness.true_peak:.1f} dBTP"
                    if episode.loudness else "up to date, not re-rendered")
        err.print(f"{episode.mp3}: {episode.lines} lines, {episode.timeline.seconds / 60:.1f} min, "
                  f"{episode.synthesized} clips synthesised; {loudness}", markup=False, highlight=False)


@app.command()
def script(
    chapter: Annotated[Path, typer.Argument(help=f"Chapter: {CHAPTER_FORMATS}.")],
    cast: CastOption = None,
    format: Annotated[ScriptFormat, typer.Option("--format", "-f", help="Output form.")] = ScriptFormat.yaml,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write; default stdout.")] = None,
    authors_notes: NotesOption = False,
) -> None:
    """Split a chapter into narration, attributed dialogue and thoughts, and print the script."""
    from audiodrama.attribution import parse_file

    parsed = parse_file(chapter, _cast(cast), authors_notes)
    text = getattr(scripts, f"to_{format.value}")(parsed)
    if output:
        write_text_atomic(output, text)
    else:
        sys.stdout.write(text)


@app.command()
def voices(
    lang: Annotated[str | None, typer.Option("--lang", help="Only voices whose language starts so.")] = None,
    engine: Annotated[str, typer.Option("--engine", help="`espeak-ng` (the default) or `piper`.")] = "espeak-ng",
) -> None:
    """List the engine's voices and the variants (with their genders) that can follow a `+`; with
    `--engine piper`, the installed Piper voices and speakers."""
    from audiodrama.casting.autocast import AUTO_BASES, AUTO_VARIANTS
    from audiodrama.synthesis.voices import catalogue

    if engine == "piper":
        _piper_voices()
        return
    if engine != "espeak-ng":
        raise InputError(f"--engine must be espeak-ng or piper, not {engine!r}")

    voices = catalogue()
    auto = {*AUTO_BASES, *AUTO_VARIANTS["male"], *AUTO_VARIANTS["female"]}
    table = Table(title="Voices: write `voice: <id>`; each sounds male unless a variant (`en-us+f3`) says otherwise")
    for column in ("id", "name", "language", "gender", "auto-cast"):
        table.add_column(column, no_wrap=column != "name")
    for voice in voices.voices:
        if not lang or voice.language.startswith(lang.lower()):
            table.add_row(voice.language, voice.name, voice.language.split("-")[0], "male",
                          "yes" if voice.language in auto else "")
    out.print(table)
    table = Table("variant", "name", "gender", "auto-cast", title="Variants: append to any voice, `en-us+f3`")
    for gender in ("female", "male", "other"):
        for variant in voices.variants_for(gender):
            table.add_row(f"+{variant.id}", variant.name, gender, "yes" if variant.id in auto else "")
    out.print(table)


def _piper_voices() -> None:
    from audiodrama.synthesis.engines.piper import list_piper_voices
    from audiodrama.synthesis.piper_voices import where

    table = Table("voice", "name", "gender", title=f"Piper voices: write `voice: <voice>`; found in {where()}")
    for voice in list_piper_voices():
        table.add_row(voice.id, voice.name, voice.gender or "")
    out.print(table)


cast_app = typer.Typer(no_args_is_help=True, help="Write a cast file from chapters, or check one.")
app.add_typer(cast_app, name="cast")
Chapters = Annotated[list[Path], typer.Argument(help=f"Chapter files: {CHAPTER_FORMATS}.")]


@cast_app.command("init")
def cast_init(
    chapters: Chapters,
    output: Annotated[Path, typer.Option("--output", "-o", help="Cast file to write.")] = Path("cast.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing cast file.")] = False,
) -> None:
    """Discover the chapters' characters and write a cast file with auto-cast voices to edit."""
    from audiodrama.casting.chapters import init_cast

    casting = init_cast(chapters, output, force)
    err.print(f"{output}: {len(casting.cast.characters)} characters; edit it, then `audiodrama audition {output}`")


@cast_app.command("check")
def cast_check(
    cast: Annotated[Path, typer.Argument(help="Cast file (YAML).")],
    chapters: Annotated[list[Path] | None, typer.Argument(help="Chapters to check it against.")] = None,
) -> None:
    """Validate a cast; report missing speakers, shared aliases, silent characters, voices too alike.

    Exit status 0 when all is well, 1 when something is reported, 2 when the cast cannot be read.
    """
    from audiodrama.casting.chapters import check_cast

    findings = check_cast(load_cast(cast), chapters or [])
    for finding in findings:
        out.print(f"{cast}: {finding.kind}: {finding.message}", markup=False)
    if findings:
        raise typer.Exit(1)
    err.print(f"{cast}: OK")


@app.command()
def audition(
    cast: Annotated[Path, typer.Argument(help="Cast file (YAML).")],
    character: Annotated[str | None, typer.Option("--character", help="Only this character (or `narrator`).")] = None,
    chapter: Annotated[Path | None, typer.Option("--chapter", help="Take each voice's first lines from it.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the MP3s.")] = Path("auditions"),
) -> None:
    """Write a short MP3 per voice of the cast, to listen to before producing an episode."""
    from audiodrama.casting.audition import audition as audition_voices

    for made in audition_voices(load_cast(cast), output, character, chapter):
        out.print(f"{made.mp3}: {made.name}, {made.voice.describe()}", markup=False)


@app.command()
def batch(
    manifest: Annotated[Path, typer.Argument(help="Series manifest (series.yaml).")],
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Processes in all (default: cores).")] = None,
    only: Annotated[str | None, typer.Option("--only", help="Episode numbers, e.g. 3-5 or 1,4.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be built; synthesise nothing.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary.")] = False,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", envvar="DASK_SCHEDULER_ADDRESS", show_envvar=True,
        help="Build on a Dask cluster: its scheduler's address (tcp://HOST:8786), or local[:N] for N worker "
             "processes here. --jobs is then synthesis processes per episode.")] = None,
) -> None:
    """Produce every episode of a series that changed, then the report and the podcast feed.

    Exit status 0 when all went well, 1 when an episode failed, 2 when the manifest cannot be used
    or the cluster cannot be reached.
    """
    from audiodrama.series.build import build_series
    from audiodrama.series.manifest import load_series
    from audiodrama.series.plan import preview, preview_text

    loaded = load_series(manifest)
    if dry_run:
        out.print(preview_text(preview(loaded, only)), end="", markup=False)
        return
    report = build_series(loaded, jobs, only, None if quiet else lambda e: err.print(e.line(), markup=False),
                          scheduler, None if quiet else lambda text: err.print(text, markup=False))
    err.print(report.summary(), end="", markup=False)
    if report.failed:
        raise typer.Exit(1)


@app.command()
def studio(
    chapters: Annotated[list[Path] | None, typer.Argument(help="Chapter files (or script files) to open.")] = None,
    cast: CastOption = None,
    series: Annotated[Path | None, typer.Option("--series", help="Open a series manifest's episodes.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Folder for edited scripts and episodes "
                                                "(default output/; a series has its own).")] = None,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1; 0: any free one.")] = 0,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Only print the address.")] = False,
) -> None:
    """Review who speaks each line (least certain first), fix it, recast and listen, then render: a local web page."""
    from audiodrama.studio.server import serve
    from audiodrama.studio.session import Studio

    serve(Studio.open(chapters or [], cast, series, output), port, open_browser=not no_browser)


@app.command()
def book(
    epub: Annotated[Path, typer.Argument(help="EPUB book (EPUB 2 or 3, DRM-free).")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Folder for the series (default: the "
                                                "book's file name, in the current folder).")] = None,
    authors_notes: NotesOption = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the manifest and cast of an earlier run.")] = False,
) -> None:
    """Turn an EPUB book into a series: a chapter file per chapter, the cover, a cast and series.yaml."""
    from audiodrama.series.book import book_to_series

    made = book_to_series(epub, output or Path(epub.stem), authors_notes, force)
    err.print(f"{made.manifest}: {len(made.chapters)} episodes, {made.characters} characters in {made.cast}; "
              f"edit them, then `audiodrama batch {made.manifest}`", markup=False, highlight=False)


@app.command()
def doctor() -> None:
    """Say which speech engine library and which ffmpeg are in use, and their versions."""
    espeak = runtime.espeak()
    ffmpeg = runtime.ffmpeg()
    out.print(f"audiodrama {__version__} on Python {sys.version.split()[0]}")
    out.print(f"engine: pyttsx3 {version('pyttsx3')} with espeak-ng {espeak.version} "
              f"({espeak.source}) {espeak.library}")
    out.print(f"espeak-ng data: {espeak.data_dir}")
    out.print(_piper_status())
    out.print(f"ffmpeg: {ffmpeg.version} ({ffmpeg.source}) {ffmpeg.executable}")
    if runtime.force_bundled():
        out.print(f"{runtime.BUNDLED_ENV}=1: bundled tools forced")


def _piper_status() -> str:
    from audiodrama.synthesis.engines.piper import PiperEngine, list_piper_voices
    from audiodrama.synthesis.piper_voices import where

    try:
        version = PiperEngine.info()["version"]
    except AudiodramaError as error:
        return f"piper: not installed ({error})"
    found = ", ".join(v.id for v in list_piper_voices()) or "none"
    return f"piper: {version}; voices: {found} (looked in {where()})"


class Interrupted(BaseException):
    """Ctrl-C. Raised in place of KeyboardInterrupt, which typer turns into a silent exit 130, and a
    BaseException so that no `except Exception` takes it for a failure and carries on."""


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted


def main() -> None:
    """Run the CLI; the product's own errors and the system's refusals become one line on stderr and
    exit status 2; Ctrl-C says how to resume and exits with 130."""
    signal.signal(signal.SIGINT, _interrupt)
    try:
        app()
    except AudiodramaError as error:
        err.print(f"audiodrama: error: {error}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except (Interrupted, KeyboardInterrupt):
        err.print("audiodrama: interrupted; run the same command again to resume", markup=False)
        sys.exit(130)
    except OSError as error:  # the system refused a read or write: disk full, permissions, a folder in the way
        where = f"{error.filename}: " if error.filename else ""
        hint = {errno.ENOSPC: " (free some disk space and run again)",
                errno.EDQUOT: " (free some disk space and run again)",
                errno.EFBIG: " (the system's file size limit, `ulimit -f`, is too low)"}.get(error.errno or 0, "")
        err.print(f"audiodrama: error: {where}{error.strerror or error}{hint}", markup=False, highlight=False)
        sys.exit(2)
