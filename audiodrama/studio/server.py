"""The studio's web layer: turns the page's requests into `Studio` calls, and guards the door.

Only this machine can use it: it listens on 127.0.0.1, every request needs the random token the
printed address carries (then an HttpOnly, SameSite=Strict cookie), the Host header must name this
server (no DNS rebinding) and every POST must come from its own page (Origin). Bodies are capped; no
request names a file: episodes, lines and auditions are numbers and names the studio itself made.
"""

from __future__ import annotations

import json
import secrets
import socket
import sys
import webbrowser
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audiodrama.errors import AudiodramaError
from audiodrama.export.mp3 import scene_chapters
from audiodrama.script import VOICED_BY_SPEAKER
from audiodrama.studio.documents import StaleVersion
from audiodrama.studio.edits import EditError, least_certain
from audiodrama.studio.listening import RenderStatus, scene_lines
from audiodrama.studio.session import Change, Studio
from audiodrama.synthesis.voices import catalogue

STATIC = Path(__file__).parent / "static"
MAX_BODY = 64 * 1024
"""Largest request body accepted (an action is a few hundred bytes)."""
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; media-src 'self' blob:; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
     b"form-action 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class Guard:
    """ASGI middleware: Host, token or cookie, Origin on POSTs, body size; security headers on every answer."""

    def __init__(self, app: ASGIApp, token: str, port: int) -> None:
        self.app = app
        self.token = token
        self.cookie = f"audiodrama-studio-{port}"
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.origins = {f"http://{host}" for host in self.hosts}
        self.set_cookie = f"{self.cookie}={token}; HttpOnly; SameSite=Strict; Path=/".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
                if scope.get("state", {}).get("set_cookie"):
                    message["headers"].append((b"set-cookie", self.set_cookie))
            await send(message)

        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, secured)
            return
        await self.app(scope, self._capped(receive), secured)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> Response | None:
        """The answer to a request that may not pass, or None. A request with the right token passes and
        its answer sets the cookie (the page then takes the token out of the address bar)."""
        if headers.get("host") not in self.hosts:
            return _error("this server answers only to http://127.0.0.1 (the Host header names another)", 421)
        token = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
        cookie = SimpleCookie(headers.get("cookie", "")).get(self.cookie)
        if token:
            if not secrets.compare_digest(token.encode(), self.token.encode()):
                return _error("wrong access token: open the address `audiodrama studio` printed", 403)
            scope.setdefault("state", {})["set_cookie"] = True
        elif cookie is None or not secrets.compare_digest(cookie.value.encode(), self.token.encode()):
            return _error("open the address `audiodrama studio` printed: it carries the access token", 403)
        if scope["method"] not in ("GET", "HEAD") and headers.get("origin") not in self.origins:
            return _error("refused: the request does not come from the studio's own page", 403)
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY:
            return _error(f"request body over {MAX_BODY // 1024} KiB", 413)
        return None

    @staticmethod
    def _capped(receive: Receive) -> Receive:
        """`receive`, refusing a body (even one sent in chunks) longer than MAX_BODY."""
        seen = 0

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise EditError(f"request body over {MAX_BODY // 1024} KiB")
            return message

        return capped


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status)


Handler = Callable[[Studio, dict, dict], object]


def action(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint calling `handler(studio, body, path_params)` in a worker thread: its result as JSON
    (a file as itself), the product's errors as one-line messages (409 for a stale version)."""

    async def endpoint(request: Request) -> Response:
        body: object = {}
        if request.method == "POST":
            try:
                body = json.loads(await request.body() or b"{}")
            except EditError as error:
                return _error(str(error), 413)
            except ValueError as error:
                return _error(f"the request is not JSON: {error}")
            if not isinstance(body, dict):
                return _error("the request must be a JSON object")
        try:
            result = await run_in_threadpool(handler, request.app.state.studio, body, request.path_params)
        except StaleVersion as error:
            return JSONResponse({"error": str(error), "stale": True}, 409)
        except AudiodramaError as error:
            return _error(str(error))
        if isinstance(result, Path):
            return FileResponse(result, media_type="audio/wav" if result.suffix == ".wav" else "audio/mpeg")
        if isinstance(result, Change):
            result = asdict(result)
        return JSONResponse(result)

    return endpoint


def _int(body: dict, key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise EditError(f"`{key}` must be a whole number, not {value!r}")
    return value


def _text(body: dict, key: str, optional: bool = False) -> str | None:
    value = body.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > 200:
        raise EditError(f"`{key}` must be a short text, not {value!r}"[:200])
    return value


# --- reading -------------------------------------------------------------------------------------------


def studio_state(studio: Studio, body: dict, params: dict) -> dict:
    """The page's first question: the work, its episodes, the files the studio writes."""
    return {"version": studio.version, "title": studio.title, "output": str(studio.output),
            "cast_file": str(studio.cast_document.path),
            "episodes": [{"number": s.number, "name": s.name, "title": s.title or studio.scripts[s.number - 1].title,
                          "script_file": str(s.script_file)} for s in studio.sources]}


def episode_state(studio: Studio, body: dict, params: dict) -> dict:
    """An episode's script as the page shows it, with the review order and who can speak."""
    number = params["episode"]
    script = studio.script(number)
    sound = {i for s in {seg.scene for seg in script.segments} for i in scene_lines(script, s)}
    segments = [{"kind": s.kind.value, "speaker": s.speaker, "text": s.text, "confidence": s.confidence,
                 "reason": s.reason, "scene": s.scene, "paragraph": s.paragraph,
                 "voiced": s.kind in VOICED_BY_SPEAKER, "sound": i in sound} for i, s in enumerate(script.segments)]
    return {"version": studio.version, "number": number, "title": script.title,
            "script_file": str(studio.source(number).script_file), "segments": segments,
            "review": least_certain(script), "speakers": studio.speakers(number)}


def cast_state(studio: Studio, body: dict, params: dict) -> dict:
    """The cast panel: every character's voice as it will be heard, and the warnings."""
    number = params["episode"]
    given, voiced = studio.cast(number), studio.casting(number).cast
    script = studio.script(number)
    lines = {name: sum(s.voiced_by == name for s in script.segments) for name in script.speakers}
    characters = [{"name": c.name, "aliases": list(c.aliases), "gender": c.gender, "voice": asdict(c.voice),
                   "auto": not (given.character(c.name) and given.character(c.name).voice),
                   "in_file": given.character(c.name) is not None, "lines": lines.get(c.name, 0)}
                  for c in voiced.characters]
    voices = catalogue()
    return {"version": studio.version, "narrator": asdict(voiced.narrator), "characters": characters,
            "warnings": studio.warnings(number),
            "bases": [{"id": v.language, "name": v.name} for v in voices.english()],
            "variants": [{"id": v.id, "name": v.name, "gender": v.gender} for v in voices.variants]}


def render_state(studio: Studio, body: dict, params: dict) -> dict:
    """How far the render is; once done, the episode's audio, transcript timings and chapters."""
    status: RenderStatus = studio.render_job.status
    answer = {key: getattr(status, key) for key in ("state", "episode", "stage", "done", "total", "error")}
    if status.result is not None and status.script is not None:
        episode, rate = status.result, status.result.timeline.sample_rate
        index = {(s.start, s.end): i for i, s in enumerate(status.script.segments)}
        answer["result"] = {
            "url": f"/api/episodes/{status.episode}/audio?v={status.result.mp3.stat().st_mtime_ns}",
            "file": str(episode.mp3), "seconds": episode.timeline.seconds, "lines": episode.lines,
            "synthesized": episode.synthesized,
            "cues": [[index.get((c.segment.start, c.segment.end)), c.start / rate, c.end / rate]
                     for c in episode.timeline.cues],
            "chapters": [{"title": c.title, "start": c.start_ms / 1000} for c in scene_chapters(episode.timeline)]}
    return answer


# --- changing ------------------------------------------------------------------------------------------


def assign(studio: Studio, body: dict, params: dict) -> Change:
    """Lines `first` to `last` (default: `first`) given to `speaker`."""
    first = _int(body, "first")
    last = _int(body, "last") if "last" in body else first
    return studio.assign(params["episode"], first, last, _text(body, "speaker"), version=_int(body, "version"))


def swap(studio: Studio, body: dict, params: dict) -> Change:
    """The two speakers of an exchange traded from line `index` on."""
    return studio.swap(params["episode"], _int(body, "index"), version=_int(body, "version"))


def set_kind(studio: Studio, body: dict, params: dict) -> Change:
    """Line `index` made `kind` (dialogue and thoughts with `speaker`)."""
    return studio.set_kind(params["episode"], _int(body, "index"), _text(body, "kind"),
                           _text(body, "speaker", optional=True), version=_int(body, "version"))


def add_character(studio: Studio, body: dict, params: dict) -> Change:
    """A new character `name` (with `gender`) in the cast file."""
    return studio.add_character(_text(body, "name"), _text(body, "gender", optional=True) or None,
                                version=_int(body, "version"))


def add_alias(studio: Studio, body: dict, params: dict) -> Change:
    """`alias` added to character `name` in the cast file."""
    return studio.add_alias(_text(body, "name"), _text(body, "alias"), version=_int(body, "version"))


def set_voice(studio: Studio, body: dict, params: dict) -> Change:
    """`settings` (voice, rate, pitch, volume) for character `name` or the narrator."""
    settings = body.get("settings")
    if not isinstance(settings, dict) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                                 for v in settings.values()):
        raise EditError("`settings` must map voice, rate, pitch or volume to a value")
    return studio.set_voice(_text(body, "name"), settings, version=_int(body, "version"))


def undo(studio: Studio, body: dict, params: dict) -> Change:
    """The last change taken back."""
    return studio.undo(version=_int(body, "version"))


def redo(studio: Studio, body: dict, params: dict) -> Change:
    """The change last taken back made again."""
    return studio.redo(version=_int(body, "version"))


def reload(studio: Studio, body: dict, params: dict) -> Change:
    """The cast and scripts read again from disk."""
    return studio.reload()


# --- listening -------------------------------------------------------------------------------------------


def clip(studio: Studio, body: dict, params: dict) -> Path:
    """The WAV of a line in its current voice."""
    return studio.clip(params["episode"], params["line"])


def scene(studio: Studio, body: dict, params: dict) -> dict:
    """A scene's lines synthesised at once; their numbers, to play in order."""
    return {"lines": [index for index, _ in studio.scene(params["episode"], params["scene"])]}


def audition(studio: Studio, body: dict, params: dict) -> dict:
    """An audition MP3 of character `name` (or `narrator`); its address."""
    mp3 = studio.audition(params["episode"], _text(body, "name"))
    return {"url": f"/api/auditions/{mp3.name}?v={mp3.stat().st_mtime_ns}"}


def audition_file(studio: Studio, body: dict, params: dict) -> Path:
    """An audition the studio made, by its file name (nothing else is served)."""
    folder = studio.output / "auditions"
    made = {path.name: path for path in folder.glob("*.mp3")} if folder.is_dir() else {}
    if params["name"] not in made:
        raise EditError(f"no audition {params['name']!r}")
    return made[params["name"]]


def start_render(studio: Studio, body: dict, params: dict) -> dict:
    """The episode rendered in the background (see `render_state`)."""
    studio.source(params["episode"])
    if not studio.start_render(params["episode"]):
        raise EditError("a render is already running", hint="wait for it to finish")
    return {"started": True}


def episode_audio(studio: Studio, body: dict, params: dict) -> Path:
    """The rendered episode's MP3 (the answer takes Range requests, so the page can seek)."""
    mp3 = studio.output / f"{studio.source(params['episode']).name}.mp3"
    if not mp3.is_file():
        raise EditError("the episode has not been rendered yet", hint="press Render")
    return mp3


def page(request: Request) -> Response:
    """The page itself."""
    return FileResponse(STATIC / "index.html", media_type="text/html")


def app(studio: Studio, token: str, port: int) -> ASGIApp:
    """The studio's web application for `studio`, guarded for `port` with `token`."""
    get, post = ["GET"], ["POST"]
    episode = "/api/episodes/{episode:int}"
    routes = [
        Route("/", page),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        Route("/api/studio", action(studio_state), methods=get),
        Route(episode, action(episode_state), methods=get),
        Route(f"{episode}/cast", action(cast_state), methods=get),
        Route(f"{episode}/assign", action(assign), methods=post),
        Route(f"{episode}/swap", action(swap), methods=post),
        Route(f"{episode}/kind", action(set_kind), methods=post),
        Route(f"{episode}/lines/{{line:int}}/clip", action(clip), methods=get),
        Route(f"{episode}/scenes/{{scene:int}}", action(scene), methods=post),
        Route(f"{episode}/audition", action(audition), methods=post),
        Route(f"{episode}/render", action(start_render), methods=post),
        Route(f"{episode}/audio", action(episode_audio), methods=get),
        Route("/api/render", action(render_state), methods=get),
        Route("/api/auditions/{name}", action(audition_file), methods=get),
        Route("/api/cast/character", action(add_character), methods=post),
        Route("/api/cast/alias", action(add_alias), methods=post),
        Route("/api/cast/voice", action(set_voice), methods=post),
        Route("/api/undo", action(undo), methods=post),
        Route("/api/redo", action(redo), methods=post),
        Route("/api/reload", action(reload), methods=post),
    ]
    web = Starlette(routes=routes)
    web.state.studio = studio
    return Guard(web, token, port)


def listen(port: int = 0) -> socket.socket:
    """A socket listening on 127.0.0.1 (`port` 0: any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as error:
        sock.close()
        raise EditError(f"cannot listen on 127.0.0.1:{port}: {error.strerror}", hint="give another --port") from None
    sock.listen(64)
    return sock


def server(studio: Studio, sock: socket.socket, token: str | None = None) -> tuple[uvicorn.Server, str]:
    """A uvicorn server for `studio` on `sock`, and the address (with its token) to open."""
    token = token or secrets.token_urlsafe(24)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app(studio, token, port), log_level="warning", lifespan="off", access_log=False)
    return uvicorn.Server(config), f"http://127.0.0.1:{port}/?token={token}"


def serve(studio: Studio, port: int = 0, open_browser: bool = True) -> None:
    """Run the studio until Ctrl-C, printing its address on stdout (and opening it in the browser)."""
    sock = listen(port)
    running, url = server(studio, sock)
    print(url, flush=True)
    print("audiodrama studio: open the address above; Ctrl-C stops the studio", file=sys.stderr, flush=True)
    if open_browser:
        webbrowser.open(url)
    running.run(sockets=[sock])
