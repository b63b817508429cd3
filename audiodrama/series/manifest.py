"""The `series.yaml` manifest (docs/series-format.md): read, validated, and its episodes selected."""

from __future__ import annotations

import dataclasses
import glob
import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from audiodrama.casting.cast import Cast, Character, Delivery, cast_from_node, load_cast
from audiodrama.episode import episode_name
from audiodrama.errors import InputError
from audiodrama.settings import Settings, settings_from_node
from audiodrama.yamlfile import Node, present, read_yaml

SERIES_KEYS = ("title", "author", "description", "language", "image", "cast", "production", "base_url", "explicit",
               "output", "episodes")
EPISODE_KEYS = ("file", "title", "name", "cast", "production")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
"""How JPEG and PNG files begin."""
LANGUAGE = re.compile(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*")
MAX_NAME_BYTES = 200
"""Longest episode name: with `.script.jsonl` and a temporary file's affixes it stays under 255."""


@dataclass(frozen=True)
class EpisodeSpec:
    """One episode as the manifest gives it."""

    number: int
    """Position in the series, from 1."""
    file: Path
    """The chapter (or an edited script file)."""
    name: str
    """Output file name without extension: `<output>/<name>.mp3`."""
    title: str
    """Title from the manifest; empty takes the chapter's own (its first heading) or the name."""
    cast: Cast
    """The series cast with this episode's overrides."""
    settings: Settings
    """The series' production settings with this episode's overrides."""


@dataclass(frozen=True)
class Series:
    """A validated series manifest."""

    path: Path
    """The manifest file."""
    title: str
    """Series title (album tag, feed title)."""
    author: str
    """Author (artist tag, feed author)."""
    description: str
    """What the series is about (feed description)."""
    language: str
    """Language code for the feed."""
    image: Path | None
    """Cover image (JPEG or PNG), embedded in every episode and published beside the feed."""
    cast: Cast
    """The series cast."""
    settings: Settings
    """Production settings shared by every episode."""
    base_url: str
    """Where the output folder is published; the feed is written only when it is given."""
    explicit: bool
    """The feed's explicit flag."""
    output: Path
    """Output folder."""
    episodes: tuple[EpisodeSpec, ...]
    """Episodes in series order."""


def natural_key(text: str) -> list[str | int]:
    """Sort key putting "ch2" before "ch10"."""
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", text)]


def _output_name(node: Node, name: str) -> str:
    """`name` if it writes a plain file inside the output folder."""
    if not name.strip() or name in (".", "..") or any(c in name for c in "/\\\0") or Path(name).is_absolute():
        raise node.error(f"episode name {name!r} would write outside the output folder",
                         "give a plain file name, without / or ..")
    if not name.isprintable() or len(name.encode()) > MAX_NAME_BYTES:
        raise node.error(f"episode name {name!r} is not a usable file name",
                         f"give a plain name of at most {MAX_NAME_BYTES} bytes, without control characters")
    return name


def _layer(under: Delivery, over: Delivery) -> Delivery:
    """`over`'s settings where it gives them, else `under`'s."""
    return Delivery(**{f.name: getattr(over, f.name) if getattr(over, f.name) is not None else getattr(under, f.name)
                       for f in dataclasses.fields(Delivery)})


def _override_character(base: Character, over: Character) -> Character:
    voice = over.voice or (over.adjust.apply(base.voice) if base.voice else None)
    return replace(base, aliases=tuple(dict.fromkeys((*base.aliases, *over.aliases))),
                   gender=over.gender or base.gender, voice=voice,
                   adjust=Delivery() if voice else _layer(base.adjust, over.adjust),
                   thought=_layer(base.thought, over.thought))


def override_cast(cast: Cast, node: Node) -> Cast:
    """`cast` with an episode's `cast:` block over it (the cast file's format): a narrator given replaces
    the series narrator, characters given change only the settings they give, new ones are added."""
    over = cast_from_node(node)
    characters = list(cast.characters)
    for character in over.characters:
        known = cast.character(character.name)
        if known is None:
            characters.append(character)
        else:
            characters[characters.index(known)] = _override_character(known, character)
    given = {key for key, _ in node.mapping("cast")}
    return replace(cast, narrator=over.narrator if "narrator" in given else cast.narrator,
                   characters=tuple(characters),
                   pronunciations=tuple({**dict(cast.pronunciations), **dict(over.pronunciations)}.items()))


def _episode_items(node: Node, base: Path) -> list[tuple[Node, Path, dict[str, Node]]]:
    """(node, chapter file, episode keys) for a list of episodes or a glob."""
    if isinstance(node.node, yaml.ScalarNode):
        pattern = node.text("episodes")
        files = sorted((Path(p) for p in glob.glob(str(base / pattern)) if Path(p).is_file()),
                       key=lambda p: natural_key(str(p)))
        if not files:
            raise node.error(f"no chapter file matches {pattern!r}", "the pattern is relative to the manifest")
        return [(node, path, {}) for path in files]
    items = []
    for item in node.sequence("episodes"):
        if isinstance(item.node, yaml.MappingNode):
            item.check_keys("an episode", EPISODE_KEYS)
            keys = dict(item.mapping("an episode"))
            if "file" not in keys:
                raise item.error("an episode needs a `file`", "give the chapter file, relative to the manifest")
            items.append((item, keys["file"].existing_file("chapter file", base), keys))
        else:
            items.append((item, item.existing_file("chapter file", base), {}))
    if not items:
        raise node.error("the series has no episodes", "list chapter files, or give a glob like chapters/*.txt")
    return items


def _episodes(node: Node, base: Path, cast: Cast, settings: Settings) -> tuple[EpisodeSpec, ...]:
    episodes: list[EpisodeSpec] = []
    names: dict[str, Path] = {}
    for number, (item, path, keys) in enumerate(_episode_items(node, base), 1):
        name_node = keys.get("name", item)
        name = _output_name(name_node, keys["name"].text("name") if "name" in keys else episode_name(path))
        if name.casefold() in names:
            raise name_node.error(f"episodes {names[name.casefold()].name} and {path.name} would both write "
                                  f"{name}.mp3", "give one of them another `name`")
        names[name.casefold()] = path
        title = keys["title"].text("title") if present(keys.get("title")) else ""
        episode_cast = override_cast(cast, keys["cast"]) if present(keys.get("cast")) else cast
        episode_settings = settings_from_node(keys.get("production"), "production of an episode", settings)
        episodes.append(EpisodeSpec(number, path, name, title, episode_cast, episode_settings))
    return tuple(episodes)


def load_series(path: str | Path) -> Series:
    """Read and validate a series manifest; InputError (file:line:column) on anything wrong."""
    path = Path(path)
    root = read_yaml(path, "series manifest")
    if root is None:
        raise InputError("series manifest is empty", path=path, hint="see docs/series-format.md for an example")
    root.check_keys("the series manifest", SERIES_KEYS)
    keys = dict(root.mapping("the series manifest"))
    for required in ("title", "episodes"):
        if not present(keys.get(required)):
            raise (keys.get(required) or root).error(f"the series manifest needs `{required}`",
                                                     "see docs/series-format.md")
    base = path.parent
    text = {key: keys[key].text(key) if present(keys.get(key)) else "" for key in
            ("title", "author", "description", "language", "base_url")}
    if text["language"] and not LANGUAGE.fullmatch(text["language"]):
        raise keys["language"].error(f"language must be a code like en or en-us, not {text['language']!r}")
    if text["base_url"] and not re.match(r"https?://[^/\s]+", text["base_url"]):
        raise keys["base_url"].error(f"base_url must be an http:// or https:// address, not {text['base_url']!r}")
    image = None
    if present(keys.get("image")):
        image = keys["image"].existing_file("cover image", base)
        if image.suffix.lower() not in IMAGE_SUFFIXES:
            raise keys["image"].error(f"cover image must be a JPEG or PNG file, not {image.name!r}")
        with image.open("rb") as picture:
            if not picture.read(8).startswith(IMAGE_SIGNATURES):
                raise keys["image"].error(f"cover image {image.name!r} is not a JPEG or PNG picture",
                                          "give a cover that image viewers open")
    cast = load_cast(keys["cast"].existing_file("cast file", base)) if present(keys.get("cast")) else Cast()
    settings = settings_from_node(keys.get("production"), "production")
    explicit = keys["explicit"].flag("explicit") if present(keys.get("explicit")) else False
    output = keys["output"].file("output", base) if present(keys.get("output")) else base / "output" / path.stem
    return Series(path, text["title"], text["author"], text["description"], text["language"] or "en", image, cast,
                  settings, text["base_url"], explicit, output,
                  _episodes(keys["episodes"], base, cast, settings))


def select(series: Series, only: str | None) -> tuple[EpisodeSpec, ...]:
    """The episodes `--only` names (`3`, `3-5`, `1,4-6`; all when None)."""
    if not only:
        return series.episodes
    count = len(series.episodes)
    numbers: set[int] = set()
    for part in only.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise InputError(f"--only {only!r}: give episode numbers like 3, 3-5 or 1,4-6")
        low, high = int(match[1]), int(match[2] or match[1])
        if not 1 <= low <= high <= count:
            raise InputError(f"--only {only!r}: the series has episodes 1 to {count}")
        numbers.update(range(low, high + 1))
    return tuple(e for e in series.episodes if e.number in numbers)
