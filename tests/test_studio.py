"""The studio's library and web layer: every page action called directly, the file formats it writes,
no lost work (versions, outside changes, a killed save), and the door (token, Host, Origin, body size,
no file outside the ones given)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pytest

from audiodrama.casting.cast import load_cast
from audiodrama.episode import produce
from audiodrama.errors import InputError
from audiodrama.script import load_script
from audiodrama.settings import Settings
from audiodrama.studio.documents import StaleVersion
from audiodrama.studio.edits import BY_HAND, EditError, least_certain
from audiodrama.studio.server import MAX_BODY, app, listen
from audiodrama.studio.session import Studio
from tests.conftest import CASTS, REPO, run_cli

with warnings.catch_warnings():  # newer Starlette asks for `httpx2` in place of httpx, which it still uses
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

FIXTURES = Path(__file__).parent / "fixtures"
WOODS = FIXTURES / "studio-woods.txt"
"""Kurama and Naruto talk; the parser gets lines 3, 4 and 5 wrong by one turn."""
PORT = 8123
TOKEN = "test-token"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder with the chapter and a copy of the seed cast (the studio writes to the cast)."""
    shutil.copy(WOODS, tmp_path / "woods.txt")
    shutil.copy(CASTS / "seeds.yaml", tmp_path / "cast.yaml")
    return tmp_path


@pytest.fixture
def studio(work: Path) -> Studio:
    return Studio.open([work / "woods.txt"], work / "cast.yaml", output=work / "out")


def speakers(script_file: Path) -> list[str | None]:
    return [s.speaker for s in load_script(script_file).segments]


def test_opening_saves_the_parsed_script_where_produce_reads_it(studio: Studio, work: Path) -> None:
    script_file = work / "out" / "woods.script.yaml"
    assert studio.source(1).script_file == script_file
    assert load_script(script_file).segments == studio.script(1).segments
    assert [studio.script(1).segments[i].speaker for i in (2, 3, 4, 5, 6, 7)] == [
        "Kurama", "Naruto Uzumaki", "Kurama", "Naruto Uzumaki", "Kurama", "Naruto Uzumaki"]
    assert (work / "woods.txt").read_bytes() == WOODS.read_bytes()


def test_assign_a_line_and_a_run(studio: Studio, work: Path) -> None:
    script_file = work / "out" / "woods.script.yaml"
    change = studio.assign(1, 3, 3, "the fox", version=studio.version)  # an alias names Kurama
    assert change.lines == (3,) and change.version == 2 and change.message == "line 3: Kurama"
    segment = load_script(script_file).segments[3]
    assert (segment.speaker, segment.confidence, segment.reason) == ("Kurama", 1.0, BY_HAND)
    change = studio.assign(1, 1, 7, "Naruto")  # a run: the narration in it stays the narrator's
    assert change.lines == (2, 3, 4, 5, 6, 7)  # each now set by hand
    got = speakers(script_file)
    assert got[1] is None and got[2:8] == ["Naruto Uzumaki"] * 6 and got[11] == "Kurama"


@pytest.mark.parametrize(("first", "last", "speaker", "error"), [
    (3, 3, "Tony", "unknown speaker 'Tony' (add the character to the cast first)"),
    (99, 99, "Kurama", "there is no line 99 (lines are numbered 0 to 12)"),
    (-1, 3, "Kurama", "there is no line -1"),
    (5, 3, "Kurama", "line 3 comes before line 5"),
    (0, 1, "Kurama", "lines 0 to 1 hold no dialogue or thought"),
])
def test_bad_edits_change_nothing(studio: Studio, work: Path, first: int, last: int, speaker: str,
                                  error: str) -> None:
    before = (work / "out" / "woods.script.yaml").read_bytes()
    with pytest.raises(EditError, match=re.escape(error)):
        studio.assign(1, first, last, speaker)
    assert (work / "out" / "woods.script.yaml").read_bytes() == before
    assert studio.version == 1


def test_swap_the_two_speakers_from_a_line_to_the_end_of_the_exchange(studio: Studio, work: Path) -> None:
    change = studio.swap(1, 3)
    assert change.message == "from line 3: Naruto Uzumaki and Kurama swapped"
    assert change.lines == (3, 4, 5, 6, 7)  # the exchange ends where the narration paragraph begins
    assert speakers(work / "out" / "woods.script.yaml")[2:12] == [
        "Kurama", "Kurama", "Naruto Uzumaki", "Kurama", "Naruto Uzumaki", "Kurama", None, None, None, "Kurama"]
    with pytest.raises(EditError, match="line 1 has no speaker to swap"):
        studio.swap(1, 1)


def test_change_a_segments_kind(studio: Studio, work: Path) -> None:
    studio.set_kind(1, 10, "dialogue", "Kurama")
    studio.set_kind(1, 2, "thought")
    studio.set_kind(1, 7, "narration")
    script = load_script(work / "out" / "woods.script.yaml")
    assert [(s.kind, s.speaker) for s in (script.segments[10], script.segments[2], script.segments[7])] == [
        ("dialogue", "Kurama"), ("thought", "Kurama"), ("narration", None)]
    with pytest.raises(EditError, match="a dialogue needs a speaker"):
        studio.set_kind(1, 9, "dialogue")
    with pytest.raises(EditError, match="cannot turn a line into 'scene_break'"):
        studio.set_kind(1, 9, "scene_break")


def test_undo_and_redo_script_and_cast_changes(studio: Studio, work: Path) -> None:
    script_file, cast_file = work / "out" / "woods.script.yaml", work / "cast.yaml"
    original_script, original_cast = script_file.read_text(), cast_file.read_text()
    studio.assign(1, 3, 3, "Kurama")
    edited_script = script_file.read_text()
    studio.set_voice("Kurama", {"pitch": 80})
    edited_cast = cast_file.read_text()
    assert studio.undo().message == "undid: Kurama: pitch 80"
    assert cast_file.read_text() == original_cast
    change = studio.undo()
    assert change.lines == (3,) and script_file.read_text() == original_script
    with pytest.raises(EditError, match="nothing to undo"):
        studio.undo()
    studio.redo()
    studio.redo()
    assert (script_file.read_text(), cast_file.read_text()) == (edited_script, edited_cast)
    studio.undo()
    studio.assign(1, 4, 4, "Naruto")  # a new change forgets what was undone
    with pytest.raises(EditError, match="nothing to redo"):
        studio.redo()


def test_a_stale_tab_is_refused_and_nothing_is_saved(studio: Studio, work: Path) -> None:
    page_one = page_two = studio.version
    studio.assign(1, 3, 3, "Kurama", version=page_one)
    saved = (work / "out" / "woods.script.yaml").read_bytes()
    with pytest.raises(StaleVersion, match=r"changed in another tab or window .* nothing was saved"):
        studio.assign(1, 3, 3, "Naruto", version=page_two)
    with pytest.raises(StaleVersion):
        studio.set_voice("Kurama", {"pitch": 10}, version=page_two)
    assert (work / "out" / "woods.script.yaml").read_bytes() == saved


def test_a_file_changed_outside_the_studio_is_never_overwritten(studio: Studio, work: Path) -> None:
    script_file = work / "out" / "woods.script.yaml"
    by_hand = script_file.read_text().replace("speaker: Naruto Uzumaki", "speaker: Sakura Haruno", 1)
    script_file.write_text(by_hand)
    with pytest.raises(StaleVersion, match="changed outside the studio"):
        studio.assign(1, 4, 4, "Naruto")
    assert script_file.read_text() == by_hand
    studio.reload()
    assert studio.script(1).segments[3].speaker == "Sakura Haruno"
    studio.assign(1, 4, 4, "Naruto")
    assert speakers(script_file)[3:5] == ["Sakura Haruno", "Naruto Uzumaki"]
    cast_file = work / "cast.yaml"
    cast_file.write_text(cast_file.read_text() + "# a note added in an editor\n")
    with pytest.raises(StaleVersion, match=r"cast\.yaml: changed outside the studio"):
        studio.set_voice("Kurama", {"pitch": 20})
    assert cast_file.read_text().endswith("# a note added in an editor\n")


def test_saved_edits_are_opened_again_and_produce_renders_them(work: Path, studio: Studio) -> None:
    studio.assign(1, 3, 3, "Kurama")
    again = Studio.open([work / "woods.txt"], work / "cast.yaml", output=work / "out")
    assert again.script(1).segments[3].speaker == "Kurama"
    episode = produce(work / "out" / "woods.script.yaml", load_cast(work / "cast.yaml"), work / "cli",
                      Settings(jobs=1))
    cue = next(c for c in episode.timeline.cues if c.segment.start == studio.script(1).segments[3].start)
    assert cue.segment.speaker == "Kurama"
    (work / "woods.txt").write_text(WOODS.read_text().replace("Naruto set up", "Later, Naruto set up"))
    with pytest.raises(InputError, match=r"woods\.script\.yaml: the saved edits were made on another version"):
        Studio.open([work / "woods.txt"], work / "cast.yaml", output=work / "out")


def test_cast_edits_keep_comments_and_key_order(studio: Studio, work: Path) -> None:
    cast_file = work / "cast.yaml"
    studio.set_voice("Kurama", {"voice": "en-us+f2", "pitch": 80})
    studio.set_voice("Yamato", {"voice": "en-gb+m4", "volume": 0.8})
    studio.set_voice("narrator", {"rate": 170})
    studio.add_character("Tony Stark", "male")
    studio.add_alias("Kurama", "the old fox")
    studio.add_alias("Yamato", "Tenzo")
    old, new = (CASTS / "seeds.yaml").read_text().splitlines(), cast_file.read_text().splitlines()
    assert new[:3] == old[:3] and new[0].startswith("# Cast for the two sample chapters")
    changed = [(a, b) for a, b in zip(old, new, strict=False) if a != b]
    assert changed[:4] == [("  rate: 165", "  rate: 170"),
                           ("    aliases: [Kyuubi, the Kyuubi, Nine-tails, the fox, the demon fox, the fox demon]",
                            "    aliases: [Kyuubi, the Kyuubi, Nine-tails, the fox, the demon fox, the fox demon, "
                            "the old fox]"),
                           ("    voice: en-us+m7", "    voice: en-us+f2"), ("    pitch: 15", "    pitch: 80")]
    assert "  Yamato:\n    aliases: [Tenzo]\n    gender: male\n    voice: en-gb+m4\n    volume: 0.8\n" in "\n".join(new)
    assert "  Tony Stark:\n    gender: male\npronunciations:" in "\n".join(new)
    cast = load_cast(cast_file)
    assert cast.character("the old fox").voice.pitch == 80 and cast.character("Tenzo").name == "Yamato"
    studio.set_voice("Kurama", {"voice": "auto"})
    assert load_cast(cast_file).character("Kurama").voice is None


@pytest.mark.parametrize(("action", "error"), [
    (lambda s: s.set_voice("Kurama", {"voice": "en-zz+f9"}), "not saved: voice 'en-zz+f9' is not installed"),
    (lambda s: s.set_voice("Kurama", {"pitch": 300}), "not saved: pitch of character 'Kurama' must be"),
    (lambda s: s.set_voice("Kurama", {"accent": "posh"}), "unknown voice setting 'accent'"),
    (lambda s: s.add_alias("Kurama", "Naruto"), "'Naruto' already names 'Naruto Uzumaki'"),
    (lambda s: s.add_alias("Nobody", "x"), "no character 'Nobody' in the cast"),
    (lambda s: s.add_character("naruto uzumaki"), "'naruto uzumaki' is already in the cast"),
    (lambda s: s.add_character("  "), "a character needs a name"),
])
def test_bad_cast_edits_change_nothing(studio: Studio, work: Path, action, error: str) -> None:
    with pytest.raises(InputError, match=re.escape(error)):
        action(studio)
    assert (work / "cast.yaml").read_text() == (CASTS / "seeds.yaml").read_text()
    assert not list(work.glob(".*.part"))


def test_voices_too_alike_are_warned_about(studio: Studio) -> None:
    assert studio.warnings(1) == ()
    studio.set_voice("Kurama", {"voice": "en-us+m3", "rate": 180, "pitch": 58})  # Naruto's voice
    assert any("Kurama" in w and "Naruto Uzumaki" in w and "sound alike" in w for w in studio.warnings(1))


def test_a_line_is_heard_from_the_clip_produce_uses(studio: Studio, work: Path) -> None:
    studio.set_kind(1, 10, "thought", "Kurama")
    episode = studio.render(1)
    by_start = {c.segment.start: c.source for c in episode.timeline.cues}
    for index in (1, 3, 10, 11):
        assert studio.clip(1, index) == by_start[studio.script(1).segments[index].start]
    scene = studio.scene(1, 0)
    assert [index for index, _ in scene] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert all(path == by_start[studio.script(1).segments[i].start] for i, path in scene)
    with pytest.raises(EditError, match="scene 5 has nothing to hear"):
        studio.scene(1, 5)


def test_audition_and_background_render(studio: Studio, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIODRAMA_CACHE", str(work / "cache"))
    mp3 = studio.audition(1, "Kurama")
    assert mp3 == work / "out" / "auditions" / "kurama.mp3" and mp3.stat().st_size > 1000
    assert studio.start_render(1)
    done = studio.render_job.wait(300)
    assert (done.state, done.error, done.episode) == ("done", "", 1)
    assert done.result.synthesized == 13 - 3  # Kurama's three lines were synthesised for the audition
    assert done.result.mp3 == work / "out" / "woods.mp3"
    studio.assign(1, 3, 3, "Kurama")
    assert studio.start_render(1)
    assert not studio.start_render(1)  # one at a time
    again = studio.render_job.wait(300)
    assert again.state == "done" and again.result.synthesized == 1  # only the line that changed voice
    assert again.script.segments[3].speaker == "Kurama"


def test_a_series_opens_every_episode_with_the_series_cast(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "series", tmp_path / "series")
    studio = Studio.open([], series=tmp_path / "series" / "series.yaml")
    assert [s.name for s in studio.sources] == ["ch1", "ch2", "ch10"]
    assert studio.cast_document.path == tmp_path / "series" / "cast.yaml"
    assert studio.output == tmp_path / "series" / "output" / "series"
    assert "Jiraiya" in studio.speakers(3) and "Jiraiya" not in studio.speakers(1)  # the episode's override
    studio.set_voice("Sakura Haruno", {"pitch": 70})
    assert all(studio.cast(n).character("Sakura").voice.pitch == 70 for n in (1, 2, 3))
    with pytest.raises(InputError, match="a series names its own chapters, cast and output folder"):
        Studio.open([tmp_path / "series" / "ch1.txt"], series=tmp_path / "series" / "series.yaml")


def test_without_a_cast_one_is_written_in_the_output_folder(tmp_path: Path) -> None:
    shutil.copy(WOODS, tmp_path / "woods.txt")
    studio = Studio.open([tmp_path / "woods.txt"], output=tmp_path / "out")
    assert studio.cast_document.path == tmp_path / "out" / "cast.yaml"
    assert {"Naruto", "Kurama"} <= {c.name for c in load_cast(tmp_path / "out" / "cast.yaml").characters}


def test_least_certain_first(studio: Studio) -> None:
    order = least_certain(studio.script(1))
    confidences = [studio.script(1).segments[i].confidence for i in order]
    # untagged turns are the least certain, the two lines a name tag decides the most
    assert set(order[-2:]) == {7, 11} and confidences == sorted(confidences) and len(order) == 7


KILLER = """
import sys
from pathlib import Path
from audiodrama.studio.session import Studio
studio = Studio.open([Path(sys.argv[1])], Path(sys.argv[2]), output=Path(sys.argv[3]))
print("ready", flush=True)
while True:
    for name in ("Naruto", "Kurama"):
        studio.assign(1, 2, 7, name)
"""


def test_killing_the_studio_mid_save_leaves_a_whole_script(work: Path, studio: Studio) -> None:
    script_file = work / "out" / "woods.script.yaml"
    whole = (speakers(script_file)[2:8], ["Naruto Uzumaki"] * 6, ["Kurama"] * 6)
    for delay in (0.05, 0.13, 0.31):
        run = subprocess.Popen([sys.executable, "-c", KILLER, work / "woods.txt", work / "cast.yaml", work / "out"],
                               stdout=subprocess.PIPE, text=True, cwd=REPO)
        assert run.stdout.readline() == "ready\n"
        time.sleep(delay)
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        got = speakers(script_file)
        assert len(got) == 13 and got[2:8] in whole  # the old file or the new one, never a mix


# --- the web layer ---------------------------------------------------------------------------------------


@pytest.fixture
def client(studio: Studio) -> TestClient:
    """A page that opened the printed address: it holds the cookie."""
    web = TestClient(app(studio, TOKEN, PORT), base_url=f"http://127.0.0.1:{PORT}")
    opened = web.get(f"/?token={TOKEN}")
    assert opened.status_code == 200 and "audiodrama studio" in opened.text
    return web


ORIGIN = {"Origin": f"http://127.0.0.1:{PORT}"}


def test_the_token_opens_the_door_and_sets_a_strict_cookie(studio: Studio) -> None:
    web = TestClient(app(studio, TOKEN, PORT), base_url=f"http://127.0.0.1:{PORT}")
    assert web.get("/").status_code == 403
    assert "carries the access token" in web.get("/api/studio").json()["error"]
    assert web.get("/?token=guess").status_code == 403
    opened = web.get(f"/?token={TOKEN}")
    cookie = opened.headers["set-cookie"]
    assert f"audiodrama-studio-{PORT}={TOKEN}" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "default-src 'self'" in opened.headers["content-security-policy"]
    assert opened.headers["referrer-policy"] == "no-referrer"
    assert web.get("/api/studio").json()["episodes"][0]["name"] == "woods"
    assert TestClient(app(studio, TOKEN, PORT), base_url=f"http://localhost:{PORT}").get("/").status_code == 403


def test_another_host_is_refused_even_with_the_cookie(client: TestClient) -> None:
    for host in ("evil.example", f"evil.example:{PORT}", "127.0.0.1:9999", "127.0.0.1"):
        answer = client.get("/api/studio", headers={"Host": host})
        assert answer.status_code == 421, host


def test_posts_from_another_origin_are_refused(client: TestClient, studio: Studio, work: Path) -> None:
    before = (work / "out" / "woods.script.yaml").read_bytes()
    body = {"version": studio.version, "first": 3, "speaker": "Kurama"}
    for headers in ({}, {"Origin": "http://evil.example"}, {"Origin": f"http://127.0.0.1:{PORT + 1}"},
                    {"Origin": "null"}):
        answer = client.post("/api/episodes/1/assign", json=body, headers=headers)
        assert answer.status_code == 403 and "does not come from the studio's own page" in answer.json()["error"]
    assert (work / "out" / "woods.script.yaml").read_bytes() == before
    assert client.post("/api/episodes/1/assign", json=body, headers=ORIGIN).status_code == 200


def test_huge_bodies_are_refused(client: TestClient, studio: Studio) -> None:
    huge = json.dumps({"version": studio.version, "first": 3, "speaker": "K" * MAX_BODY})
    answer = client.post("/api/episodes/1/assign", content=huge, headers={**ORIGIN, "Content-Type": "application/json"})
    assert answer.status_code == 413 and "over 64 KiB" in answer.json()["error"]

    def chunks():
        for _ in range(100):
            yield b" " * 1024

    answer = client.post("/api/episodes/1/assign", content=chunks(), headers=ORIGIN)
    assert answer.status_code == 413
    assert studio.version == 1


def test_no_request_reaches_a_file_it_was_not_given(client: TestClient, work: Path) -> None:
    secret = "the secret the studio must never serve"
    (work / "secret.txt").write_text(secret)
    (work / "out" / "auditions").mkdir(parents=True, exist_ok=True)
    for path in ("/static/../secret.txt", "/static/..%2f..%2fsecret.txt", "/static/%2e%2e/%2e%2e/%2e%2e/secret.txt",
                 "/static//etc/passwd", "/api/auditions/..%2f..%2fsecret.txt", "/api/auditions/../../secret.txt",
                 "/api/auditions/%2e%2e%2fwoods.script.yaml", "/api/auditions/.%2e/.%2e/cast.yaml",
                 "/api/episodes/1/../../secret.txt", "/api/episodes/0/audio", "/api/episodes/2/audio",
                 "/api/episodes/-1", "/api/episodes/1/lines/99/clip", "/api/episodes/1/lines/-1/clip",
                 "/api/episodes/1/audio", f"/static/{work}/secret.txt"):
        answer = client.get(path)
        assert answer.status_code in (400, 404, 405), (path, answer.status_code)
        assert secret not in answer.text and "root:" not in answer.text, path


def test_the_page_acts_through_the_api(client: TestClient, studio: Studio, work: Path) -> None:
    episode = client.get("/api/episodes/1").json()
    segments = episode["segments"]
    voiced = [i for i, s in enumerate(segments) if s["voiced"]]
    assert episode["review"] == sorted(voiced, key=lambda i: (segments[i]["confidence"], i))  # least certain first
    assert segments[episode["review"][0]]["confidence"] < segments[episode["review"][-1]]["confidence"]
    assert segments[3]["speaker"] == "Naruto Uzumaki"
    version = episode["version"]
    done = client.post("/api/episodes/1/assign", json={"version": version, "first": 3, "speaker": "Kurama"},
                       headers=ORIGIN).json()
    assert done["lines"] == [3] and done["version"] == version + 1
    stale = client.post("/api/episodes/1/assign", json={"version": version, "first": 4, "speaker": "Kurama"},
                        headers=ORIGIN)
    assert stale.status_code == 409 and stale.json()["stale"] and "another tab" in stale.json()["error"]
    for body, error in (({"version": done["version"], "first": "3", "speaker": "Kurama"}, "`first` must be a whole"),
                        ({"version": done["version"], "first": 3, "speaker": "Nobody"}, "unknown speaker 'Nobody'"),
                        ({"version": done["version"], "first": 3000, "speaker": "Kurama"}, "there is no line 3000"),
                        ({"first": 3, "speaker": "Kurama"}, "`version` must be a whole number")):
        answer = client.post("/api/episodes/1/assign", json=body, headers=ORIGIN)
        assert answer.status_code == 400 and error in answer.json()["error"], answer.json()
    assert client.post("/api/episodes/1/assign", content=b"[1, 2", headers=ORIGIN).status_code == 400
    cast = client.get("/api/episodes/1/cast").json()
    kurama = next(c for c in cast["characters"] if c["name"] == "Kurama")
    assert kurama["voice"]["voice"] == "en-us+m7" and not kurama["auto"] and kurama["lines"] == 5
    assert any(b["id"] == "en-us" for b in cast["bases"]) and any(v["id"] == "f2" for v in cast["variants"])
    answer = client.post("/api/cast/voice", json={"version": done["version"], "name": "Kurama",
                                                  "settings": {"pitch": 70}}, headers=ORIGIN)
    assert answer.json()["cast_changed"] and load_cast(work / "cast.yaml").character("Kurama").voice.pitch == 70
    clip = client.get("/api/episodes/1/lines/3/clip")
    assert clip.headers["content-type"] == "audio/wav" and clip.content[:4] == b"RIFF"
    assert client.post("/api/episodes/1/scenes/0", json={}, headers=ORIGIN).json()["lines"][:3] == [0, 1, 2]
    url = client.post("/api/episodes/1/audition", json={"name": "narrator"}, headers=ORIGIN).json()["url"]
    assert client.get(url).content[:3] in (b"ID3", b"\xff\xfb")
    assert client.get("/api/episodes/1/audio").status_code == 400  # not rendered yet
    studio.render(1)
    part = client.get("/api/episodes/1/audio", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and len(part.content) == 1000  # the player can seek


def test_the_command_prints_its_address_and_stops_on_ctrl_c(work: Path) -> None:
    run = subprocess.Popen([sys.executable, "-m", "audiodrama", "studio", "woods.txt", "--cast", "cast.yaml",
                            "--no-browser"], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        url = run.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and "/?token=" in url
        with urllib.request.urlopen(url, timeout=30) as page:
            assert "audiodrama studio" in page.read().decode() and "HttpOnly" in page.headers["Set-Cookie"]
        with pytest.raises(urllib.error.HTTPError, match="403"):
            urllib.request.urlopen(url.split("?")[0] + "api/studio", timeout=30)
    finally:
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=30)
    assert run.returncode == 130 and out == ""
    assert "Ctrl-C stops the studio" in err and "Traceback" not in err
    assert (work / "output" / "woods.script.yaml").is_file()


def test_the_command_refuses_bad_input_in_one_line(work: Path) -> None:
    for args, message in ((["studio"], "audiodrama: error: give the chapters to open, or --series SERIES.yaml"),
                          (["studio", "woods.txt", "--series", "s.yaml"], "a series names its own chapters"),
                          (["studio", "missing.txt"], "missing.txt: cannot read the chapter")):
        result = run_cli(*args, "--no-browser", cwd=work)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_refused_in_one_line() -> None:
    taken = listen(0)
    try:
        with pytest.raises(EditError, match=rf"cannot listen on 127\.0\.0\.1:{taken.getsockname()[1]}: .*--port"):
            listen(taken.getsockname()[1])
    finally:
        taken.close()
