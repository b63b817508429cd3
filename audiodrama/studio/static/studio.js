// audiodrama studio: the page. Every change is one request to the studio, which saves it at once;
// the page shows what the studio answers. No framework, no build step.
"use strict";

const PALETTE = ["#1a5fb4", "#a51d2d", "#26711f", "#8f4a00", "#6b2fa3", "#00716f",
                 "#b0166c", "#4f5d00", "#37474f", "#7a3b12", "#075e45", "#8c2a8c"];
const LOW = 0.7;           // below this confidence a line is flagged
const BY_HAND = "set in the studio";
const $ = (id) => document.getElementById(id);

const S = {
  version: 0, studio: null, episode: 1, data: null, cast: null, view: "script",
  cursor: null, anchor: null, order: [], reviewPos: 0, keys: [], colours: {}, query: "",
  playing: null, queue: [], renderTimer: null, result: null, seen: new Set(),
};

// --- talking to the studio ---------------------------------------------------------------------------

async function api(method, url, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const answer = await fetch(url, options);
  const data = (answer.headers.get("Content-Type") || "").includes("json") ? await answer.json() : {};
  if (!answer.ok) {
    const error = new Error(data.error || `${answer.status} ${answer.statusText}`);
    error.stale = Boolean(data.stale);
    throw error;
  }
  if (data.version) S.version = data.version;
  return data;
}

function say(message, isError = false) {
  const status = $("status");
  status.textContent = message;
  status.classList.toggle("error", isError);
}

async function change(url, body) {
  try {
    const done = await api("POST", url, { ...body, version: S.version });
    await refresh(done);
    say(done.message);
    return done;
  } catch (error) {
    say(error.message, true);
    if (error.stale) await refresh({ cast_changed: true, lines: null });
    return null;
  }
}

async function refresh(done) {
  const episode = await api("GET", `/api/episodes/${S.episode}`);
  S.data = episode;
  if (done.cast_changed) await loadCast();
  if (done.lines && done.episode === S.episode && !done.cast_changed) {
    for (const i of done.lines) redrawLine(i);
  } else {
    drawLines();
  }
}

// --- loading --------------------------------------------------------------------------------------------

async function start() {
  history.replaceState(null, "", location.pathname + location.hash);  // the token stays out of sight
  try {
    S.studio = await api("GET", "/api/studio");
  } catch (error) {
    say(error.message, true);
    return;
  }
  $("work").textContent = "· " + S.studio.title;
  $("cast-file").textContent = S.studio.cast_file;
  const select = $("episode");
  for (const e of S.studio.episodes) select.add(new Option(`${e.number}. ${e.title || e.name}`, e.number));
  $("episode-box").hidden = S.studio.episodes.length < 2;
  const wanted = Number(new URLSearchParams(location.hash.slice(1)).get("episode")) || 1;
  bind();
  await openEpisode(Math.min(wanted, S.studio.episodes.length));
}

async function openEpisode(number) {
  S.episode = number;
  $("episode").value = number;
  location.hash = `episode=${number}`;
  S.data = await api("GET", `/api/episodes/${number}`);
  S.order = S.data.review.slice();
  S.seen = new Set();
  S.reviewPos = 0;
  S.cursor = null;
  await loadCast();
  drawLines();
  const first = S.data.segments.findIndex((s) => s.kind !== "scene_break");
  moveTo(S.view === "review" ? S.order[0] : first);
  list().focus();
  say(`${S.data.segments.length} lines; ${S.order.filter((i) => S.data.segments[i].confidence < LOW).length}` +
      ` uncertain. Edits are saved to ${S.data.script_file}. Press ? for the keys.`);
}

async function loadCast() {
  S.cast = await api("GET", `/api/episodes/${S.episode}/cast`);
  S.cast.characters.forEach((c, n) => { S.colours[c.name] ??= PALETTE[Object.keys(S.colours).length % PALETTE.length]; });
  if (!S.keys.length || S.keys.some((name) => !S.cast.characters.find((c) => c.name === name))) {
    S.keys = S.cast.characters.slice().sort((a, b) => b.lines - a.lines).slice(0, 9).map((c) => c.name);
  }
  drawLegend();
  drawCast();
}

// --- the script and review lists -----------------------------------------------------------------------

function colour(name) { return S.colours[name] || "#575757"; }

function lineElement(i, id) {
  const seg = S.data.segments[i];
  const li = document.createElement("li");
  li.id = id;
  li.dataset.i = i;
  li.setAttribute("role", "option");
  li.setAttribute("aria-selected", "false");
  li.className = seg.kind + (seg.voiced ? " voiced" : "") + (seg.voiced && !seg.speaker ? " unknown" : "");
  if (seg.voiced) {
    li.style.setProperty("--c", colour(seg.speaker));
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = seg.speaker || "Unknown speaker";
    li.append(who);
  }
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = seg.text;
  li.append(text);
  if (seg.voiced) {
    const badge = document.createElement("span");
    const fixed = seg.reason === BY_HAND;
    badge.className = "badge" + (fixed ? " fixed" : seg.confidence < LOW ? " low" : "");
    badge.textContent = fixed ? "set by you" : `${Math.round(seg.confidence * 100)}% sure`;
    li.append(badge);
    if (!fixed && seg.reason) {
      const reason = document.createElement("span");
      reason.className = "reason";
      reason.textContent = seg.reason;
      li.append(reason);
    }
  }
  return li;
}

function matches(i) {
  if (!S.query) return true;
  const seg = S.data.segments[i];
  return (seg.text + " " + (seg.speaker || "")).toLowerCase().includes(S.query);
}

function drawLines() {
  const script = $("script");
  script.replaceChildren();
  let scene = null;
  S.data.segments.forEach((seg, i) => {
    if (seg.kind === "scene_break") return;
    const li = lineElement(i, `line-${i}`);
    if (scene !== null && seg.scene !== scene) li.classList.add("new-scene");
    scene = seg.scene;
    li.hidden = !matches(i);
    script.append(li);
  });
  drawReview();
  showCursor();
}

function drawReview() {
  const review = $("review");
  review.replaceChildren();
  for (const i of S.order) {
    const li = lineElement(i, `review-${i}`);
    li.hidden = !matches(i);
    review.append(li);
  }
  const fixed = S.order.filter((i) => S.data.segments[i].reason === BY_HAND).length;
  $("review-summary").textContent = `${S.order.length} lines of dialogue, least certain first; ` +
    `${fixed} set by you. a accepts a line, a number or Enter gives it to someone else.`;
}

function redrawLine(i) {
  for (const prefix of ["line", "review"]) {
    const old = $(`${prefix}-${i}`);
    if (!old) continue;
    const li = lineElement(i, old.id);
    li.className += old.classList.contains("new-scene") ? " new-scene" : "";
    li.hidden = old.hidden;
    old.replaceWith(li);
  }
  drawReviewSummaryOnly();
  showCursor();
}

function drawReviewSummaryOnly() {
  const fixed = S.order.filter((i) => S.data.segments[i].reason === BY_HAND).length;
  $("review-summary").textContent = `${S.order.length} lines of dialogue, least certain first; ${fixed} set by you.` +
    " a accepts a line, a number or Enter gives it to someone else.";
}

function list() { return S.view === "review" ? $("review") : $("script"); }
function rowOf(i) { return $(`${S.view === "review" ? "review" : "line"}-${i}`); }

function visibleRows() { return [...list().children].filter((li) => !li.hidden); }

function selection() {
  if (S.cursor === null) return [];
  if (S.view !== "script" || S.anchor === null) return [S.cursor, S.cursor];
  return [Math.min(S.anchor, S.cursor), Math.max(S.anchor, S.cursor)];
}

function showCursor() {
  for (const li of document.querySelectorAll(".lines li.current, .lines li[aria-selected=true]")) {
    li.classList.remove("current");
    li.setAttribute("aria-selected", "false");
    li.querySelector(".context")?.remove();
  }
  if (S.cursor === null) return;
  const [first, last] = selection();
  if (S.view === "script") {
    for (let i = first; i <= last; i++) $(`line-${i}`)?.setAttribute("aria-selected", "true");
  }
  const row = rowOf(S.cursor);
  if (!row) return;
  row.classList.add("current");
  row.setAttribute("aria-selected", "true");
  list().setAttribute("aria-activedescendant", row.id);
  if (S.view === "review") row.append(context(S.cursor));
  row.scrollIntoView({ block: "nearest" });
}

function context(i) {
  // the lines around a doubtful one, to judge who speaks without leaving the review
  const box = document.createElement("div");
  box.className = "context";
  const segments = S.data.segments;
  for (let j = Math.max(0, i - 3); j <= Math.min(segments.length - 1, i + 2); j++) {
    const seg = segments[j];
    if (seg.kind === "scene_break" || seg.scene !== segments[i].scene) continue;
    const p = document.createElement("p");
    p.className = j === i ? "here" : "";
    p.textContent = (seg.voiced ? `${seg.speaker || "?"}: ` : "") + seg.text;
    box.append(p);
  }
  return box;
}

function moveTo(i, extend = false) {
  if (i === undefined || i === null || i < 0) return;
  if (!extend) S.anchor = null;
  else if (S.anchor === null) S.anchor = S.cursor;
  S.cursor = i;
  if (S.view === "review") S.reviewPos = S.order.indexOf(i);
  showCursor();
}

function step(delta, extend = false) {
  const rows = visibleRows();
  if (!rows.length) return;
  const at = rows.findIndex((li) => Number(li.dataset.i) === S.cursor);
  const next = at < 0 ? 0 : Math.max(0, Math.min(rows.length - 1, at + delta));
  moveTo(Number(rows[next].dataset.i), extend);
}

function advance() {
  // after a line is settled: the next line to look at
  if (S.view === "review") { step(1); return; }
  const segments = S.data.segments;
  const last = selection()[1];
  for (let j = last + 1; j < segments.length; j++) {
    if (segments[j].voiced && !rowOf(j)?.hidden) { moveTo(j); return; }
  }
  moveTo(last);
}

// --- fixing -----------------------------------------------------------------------------------------------

async function assign(name) {
  const [first, last] = selection();
  if (first === undefined) return;
  const done = await change(`/api/episodes/${S.episode}/assign`, { first, last, speaker: name });
  if (done) advance();
}

async function setKind(kind, speaker) {
  const done = await change(`/api/episodes/${S.episode}/kind`, { index: S.cursor, kind, speaker });
  if (done) moveTo(S.cursor);
}

function kindKey(kind) {
  const seg = S.data.segments[S.cursor];
  if (!seg.speaker) openPicker({ kind });
  else enqueue(() => setKind(kind));
}

async function swap() {
  const done = await change(`/api/episodes/${S.episode}/swap`, { index: S.cursor });
  if (done) moveTo(S.cursor);
}

async function travel(which) {
  const done = await change(`/api/${which}`, {});
  if (done && done.lines && done.lines.length && done.episode === S.episode) moveTo(done.lines[0]);
}

// --- the speaker picker (type-ahead over the cast) -----------------------------------------------------

const picker = { mode: null, options: [], at: 0, returnTo: null };

function openPicker(mode = {}) {
  if (S.cursor === null) return;
  const seg = S.data.segments[S.cursor];
  if (!seg.voiced && !mode.kind) { mode = { kind: "dialogue" }; }
  picker.mode = mode;
  picker.returnTo = document.activeElement;
  $("picker-label").textContent = mode.kind && mode.kind !== seg.kind
    ? `Who speaks this ${mode.kind}?` : `Who speaks line ${S.cursor}?`;
  $("picker").hidden = false;
  $("picker-input").value = "";
  filterPicker();
  $("picker-input").focus();
}

function closePicker() {
  $("picker").hidden = true;
  (picker.returnTo || list()).focus();
}

function filterPicker() {
  const typed = $("picker-input").value.trim();
  const needle = typed.toLowerCase();
  const found = [];
  for (const c of S.cast.characters) {
    const names = [c.name, ...c.aliases];
    const hit = names.find((n) => n.toLowerCase().startsWith(needle)) ||
                names.find((n) => n.toLowerCase().includes(needle));
    if (hit !== undefined) found.push({ name: c.name, alias: hit === c.name ? "" : hit,
                                        starts: hit.toLowerCase().startsWith(needle) });
  }
  found.sort((a, b) => (b.starts - a.starts));
  if (typed && !S.cast.characters.some((c) => c.name.toLowerCase() === needle)) {
    found.push({ name: typed, add: true });
  }
  picker.options = found;
  picker.at = 0;
  drawPicker();
}

function drawPicker() {
  const ul = $("picker-options");
  ul.replaceChildren();
  picker.options.forEach((option, n) => {
    const li = document.createElement("li");
    li.id = `pick-${n}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(n === picker.at));
    if (option.add) {
      li.textContent = `Add “${option.name}” to the cast`;
    } else {
      li.style.setProperty("--c", colour(option.name));
      li.textContent = option.name;
      if (option.alias) {
        const alias = document.createElement("span");
        alias.className = "alias";
        alias.textContent = ` (${option.alias})`;
        li.append(alias);
      }
    }
    li.addEventListener("mousedown", (event) => { event.preventDefault(); picker.at = n; choose(); });
    ul.append(li);
  });
  $("picker-input").setAttribute("aria-activedescendant", picker.options.length ? `pick-${picker.at}` : "");
  $(`pick-${picker.at}`)?.scrollIntoView({ block: "nearest" });
}

function choose() {
  const option = picker.options[picker.at];
  if (!option) return;
  const mode = picker.mode;
  closePicker();
  enqueue(async () => {
    if (option.add && !(await change("/api/cast/character", { name: option.name }))) return;
    if (mode.kind) await setKind(mode.kind, option.name);
    else await assign(option.name);
  });
}

function pickerKeys(event) {
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    const n = picker.options.length;
    if (n) picker.at = (picker.at + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
    drawPicker();
  } else if (event.key === "Enter") {
    choose();
  } else if (event.key === "Escape") {
    closePicker();
  } else {
    return;
  }
  event.preventDefault();
}

// --- listening ----------------------------------------------------------------------------------------------

function stop() {
  S.queue = [];
  if (S.playing) { S.playing.pause(); S.playing = null; }
  document.querySelectorAll(".lines li.playing").forEach((li) => li.classList.remove("playing"));
}

function playLines(lines) {
  stop();
  S.queue = lines.slice();
  const next = () => {
    document.querySelectorAll(".lines li.playing").forEach((li) => li.classList.remove("playing"));
    const i = S.queue.shift();
    if (i === undefined) { S.playing = null; return; }
    const audio = new Audio(`/api/episodes/${S.episode}/lines/${i}/clip?v=${S.version}`);
    S.playing = audio;
    rowOf(i)?.classList.add("playing");
    audio.addEventListener("ended", next);
    audio.addEventListener("error", () => { say(`line ${i} could not be played`, true); stop(); });
    audio.play().catch(() => {});
  };
  next();
}

function playLine() {
  const seg = S.data.segments[S.cursor];
  if (!seg || !seg.sound) { say("this line is silent"); return; }
  say(`hearing line ${S.cursor} (${seg.voiced ? seg.speaker || "unknown" : "narrator"})`);
  playLines([S.cursor]);
  const rows = visibleRows();
  const next = rows[rows.findIndex((li) => Number(li.dataset.i) === S.cursor) + 1];
  if (next && S.data.segments[next.dataset.i].sound) {  // made while this one plays: the next one starts at once
    fetch(`/api/episodes/${S.episode}/lines/${next.dataset.i}/clip?v=${S.version}`).catch(() => {});
  }
}

async function playScene() {
  const scene = S.data.segments[S.cursor]?.scene;
  if (scene === undefined) return;
  say(`preparing scene ${scene + 1}…`);
  try {
    const prepared = await api("POST", `/api/episodes/${S.episode}/scenes/${scene}`, {});
    say(`hearing scene ${scene + 1}; Esc stops`);
    playLines(prepared.lines);
  } catch (error) {
    say(error.message, true);
  }
}

// --- the cast panel ---------------------------------------------------------------------------------------------

function drawLegend() {
  const legend = $("legend");
  legend.replaceChildren();
  const keyed = new Set(S.keys);
  const names = [...S.keys, ...S.cast.characters.map((c) => c.name).filter((n) => !keyed.has(n))];
  names.forEach((name, n) => {
    const button = document.createElement("button");
    button.type = "button";
    button.style.setProperty("--c", colour(name));
    if (n < 9) {
      const key = document.createElement("kbd");
      key.textContent = String(n + 1);
      button.append(key, " ");
      button.setAttribute("aria-keyshortcuts", String(n + 1));
    }
    button.append(name);
    button.title = `Give the selected lines to ${name}`;
    button.addEventListener("click", () => { enqueue(() => assign(name)); list().focus(); });
    legend.append(button);
  });
}

function describe(voice) {
  const volume = voice.volume !== 1 ? `, volume ${voice.volume}` : "";
  return `${voice.voice}, ${voice.rate} wpm, pitch ${voice.pitch}${volume}`;
}

function voiceForm(name, voice, auto) {
  const form = document.createElement("div");
  form.className = "voice-form";
  const [base, variant] = voice.voice.split("+");
  const label = (text, control, wide = false) => {
    const l = document.createElement("label");
    if (wide) l.className = "wide";
    l.append(text, control);
    return l;
  };
  const baseSelect = document.createElement("select");
  if (auto) baseSelect.add(new Option("auto (chosen for you)", "auto"));
  for (const b of S.cast.bases) baseSelect.add(new Option(`${b.id} · ${b.name}`, b.id));
  if (![...baseSelect.options].some((o) => o.value === base)) baseSelect.add(new Option(base, base));
  baseSelect.value = base;
  const variantSelect = document.createElement("select");
  variantSelect.add(new Option("none (the voice's own)", ""));
  for (const v of S.cast.variants) variantSelect.add(new Option(`${v.id} · ${v.name} (${v.gender})`, v.id));
  variantSelect.value = variant || "";
  const spec = () => baseSelect.value === "auto" ? "auto"
    : baseSelect.value + (variantSelect.value ? "+" + variantSelect.value : "");
  baseSelect.addEventListener("change", () => setVoice(name, { voice: spec() }));
  variantSelect.addEventListener("change", () => setVoice(name, { voice: spec() }));
  baseSelect.dataset.key = "voice";
  variantSelect.dataset.key = "variant";
  form.append(label("Voice", baseSelect, true), label("Variant", variantSelect, true));
  for (const [key, min, max, stepBy] of [["rate", 80, 450, 5], ["pitch", 0, 100, 1], ["volume", 0, 1, 0.05]]) {
    const input = document.createElement("input");
    Object.assign(input, { type: "number", min, max, step: stepBy, value: voice[key] });
    input.dataset.key = key;
    input.addEventListener("change", () => {
      const value = key === "volume" ? parseFloat(input.value) : parseInt(input.value, 10);
      if (Number.isFinite(value)) setVoice(name, { [key]: value });
    });
    form.append(label(key[0].toUpperCase() + key.slice(1), input));
  }
  const hear = document.createElement("button");
  hear.type = "button";
  hear.textContent = `Audition ${name}`;
  hear.dataset.key = "audition";
  hear.className = "wide";
  hear.addEventListener("click", () => audition(name));
  form.append(hear);
  return form;
}

function aliasForm(character) {
  const row = document.createElement("div");
  row.className = "row wide";
  const input = document.createElement("input");
  input.setAttribute("aria-label", `New alias for ${character.name}`);
  input.placeholder = "another name";
  input.dataset.key = "alias";
  const add = document.createElement("button");
  add.type = "button";
  add.textContent = "Add alias";
  add.dataset.key = "add-alias";
  add.addEventListener("click", async () => {
    if (input.value.trim()) await change("/api/cast/alias", { name: character.name, alias: input.value });
  });
  input.addEventListener("keydown", (event) => { if (event.key === "Enter") add.click(); });
  row.append(input, add);
  return row;
}

function drawCast() {
  // redrawn after every change: open cards stay open and the focused control keeps the focus
  const open = new Set([...document.querySelectorAll("details.character[open]")].map((d) => d.dataset.name));
  const focused = document.activeElement;
  const card = focused?.closest("details.character");
  const focus = card ? [card.dataset.name, focused.dataset.key || "summary"] : null;
  const box = $("characters");
  box.replaceChildren();
  const makeCard = (name, voice, extra) => {
    const details = document.createElement("details");
    details.className = "character";
    details.dataset.name = name;
    details.open = open.has(name);
    details.style.setProperty("--c", name === "narrator" ? "#1f1f1f" : colour(name));
    const summary = document.createElement("summary");
    summary.dataset.key = "summary";
    const key = S.keys.indexOf(name);
    if (key >= 0) { const k = document.createElement("kbd"); k.textContent = key + 1; summary.append(k, " "); }
    const title = document.createElement("span");
    title.className = "name";
    title.textContent = name === "narrator" ? "Narrator" : name;
    const desc = document.createElement("span");
    desc.className = "voice-desc";
    desc.textContent = describe(voice) + (extra || "");
    summary.append(title, desc);
    details.append(summary);
    box.append(details);
    return details;
  };
  makeCard("narrator", S.cast.narrator).append(voiceForm("narrator", S.cast.narrator, false));
  for (const c of S.cast.characters) {
    const extra = ` · ${c.lines} line${c.lines === 1 ? "" : "s"}` + (c.auto ? " · auto-cast" : "") +
      (c.in_file ? "" : " · not in the cast file");
    const details = makeCard(c.name, c.voice, extra);
    const form = voiceForm(c.name, c.voice, c.auto);
    if (c.aliases.length) {
      const p = document.createElement("p");
      p.className = "hint wide";
      p.textContent = "Also called: " + c.aliases.join(", ");
      form.append(p);
    }
    if (c.in_file) form.append(aliasForm(c));
    details.append(form);
  }
  if (focus) {
    const again = [...box.querySelectorAll("details.character")].find((d) => d.dataset.name === focus[0]);
    again?.querySelector(`[data-key="${focus[1]}"]`)?.focus();
  }
  const warnings = $("warnings");
  warnings.replaceChildren(...S.cast.warnings.map((w) => Object.assign(document.createElement("li"), { textContent: w })));
}

const pendingVoice = { name: null, settings: {}, timer: null };

function setVoice(name, settings) {
  // saved once the user stops changing it for a moment: typing "f2" in a list or holding an arrow key
  // gives one change to save and to undo, not one per key
  if (pendingVoice.name !== name) flushVoice();
  pendingVoice.name = name;
  Object.assign(pendingVoice.settings, settings);
  clearTimeout(pendingVoice.timer);
  pendingVoice.timer = setTimeout(flushVoice, 600);
}

async function flushVoice() {
  clearTimeout(pendingVoice.timer);
  const { name, settings } = pendingVoice;
  pendingVoice.name = null;
  pendingVoice.settings = {};
  if (!name) return;
  const done = await change("/api/cast/voice", { name, settings });
  if (done) say(`${done.message}. Press Audition to hear it.`);
}

async function audition(name) {
  await flushVoice();
  say(`auditioning ${name}…`);
  try {
    const made = await api("POST", `/api/episodes/${S.episode}/audition`, { name });
    stop();
    S.playing = new Audio(made.url);
    S.playing.play().catch(() => {});
    say(`hearing ${name}'s audition; Esc stops`);
  } catch (error) {
    say(error.message, true);
  }
}

// --- rendering and the episode ------------------------------------------------------------------------------

async function render() {
  await flushVoice();
  try {
    await api("POST", `/api/episodes/${S.episode}/render`, {});
  } catch (error) {
    say(error.message, true);
    return;
  }
  $("progress-box").hidden = false;
  $("render").disabled = true;
  say("rendering the episode; only lines whose voice or speaker changed are synthesised again");
  clearInterval(S.renderTimer);
  S.renderTimer = setInterval(pollRender, 500);
}

async function pollRender() {
  const status = await api("GET", "/api/render");
  const fraction = status.total ? status.done / status.total : 0;
  $("progress").value = fraction;
  $("progress-text").textContent = `${status.stage} ${Math.round(fraction * 100)}%`;
  if (status.state === "running") return;
  clearInterval(S.renderTimer);
  $("render").disabled = false;
  $("progress-box").hidden = true;
  if (status.state === "failed") { say(status.error, true); return; }
  showEpisode(status.result);
  const r = status.result;
  say(`rendered ${r.file}: ${(r.seconds / 60).toFixed(1)} min, ${r.synthesized} of ${r.lines} lines synthesised`);
  selectView("episode");
  $("player").focus();
}

function clock(seconds) {
  const m = Math.floor(seconds / 60);
  return `${m}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;
}

function showEpisode(result) {
  S.result = result;
  const player = $("player");
  player.src = result.url;
  $("episode-summary").textContent = `${result.file} · ${clock(result.seconds)}`;
  const chapters = $("chapters");
  chapters.replaceChildren();
  for (const c of result.chapters) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `${clock(c.start)} ${c.title}`;
    button.addEventListener("click", () => { player.currentTime = c.start; player.play(); });
    const li = document.createElement("li");
    li.append(button);
    chapters.append(li);
  }
  const transcript = $("transcript");
  transcript.replaceChildren();
  result.cues.forEach(([i, begin], n) => {
    const seg = i === null ? null : S.data.segments[i];
    const li = document.createElement("li");
    li.id = `cue-${n}`;
    const button = document.createElement("button");
    button.type = "button";
    const time = Object.assign(document.createElement("span"), { className: "time", textContent: clock(begin) });
    button.append(time);
    if (seg && seg.voiced) {
      const who = Object.assign(document.createElement("span"), { className: "who", textContent: `${seg.speaker}: ` });
      who.style.setProperty("--c", colour(seg.speaker));
      button.append(who);
    }
    button.append(seg ? seg.text : "music");
    button.addEventListener("click", () => { player.currentTime = begin; player.play(); });
    li.append(button);
    transcript.append(li);
  });
}

function followPlayer() {
  if (!S.result) return;
  const t = $("player").currentTime;
  let n = -1;
  S.result.cues.forEach(([, begin], k) => { if (begin <= t + 0.05) n = k; });
  const now = document.querySelector("#transcript li.current");
  if (now && now.id === `cue-${n}`) return;
  now?.classList.remove("current");
  now?.removeAttribute("aria-current");
  const li = $(`cue-${n}`);
  if (!li) return;
  li.classList.add("current");
  li.setAttribute("aria-current", "true");
  li.scrollIntoView({ block: "nearest" });
  document.querySelectorAll(".lines li.playing").forEach((row) => row.classList.remove("playing"));
  const i = S.result.cues[n][0];
  if (i !== null) $(`line-${i}`)?.classList.add("playing");
}

// --- views and keys ----------------------------------------------------------------------------------------------

function selectView(view) {
  S.view = view;
  for (const name of ["script", "review", "episode"]) {
    const tab = $(`tab-${name}`);
    tab.setAttribute("aria-selected", String(name === view));
    tab.tabIndex = name === view ? 0 : -1;
    $(`view-${name}`).hidden = name !== view;
  }
  if (view === "review") {
    moveTo(S.order[Math.max(0, S.reviewPos)]);
    $("review").focus();
  } else if (view === "script") {
    moveTo(S.cursor ?? 0);
    $("script").focus();
  }
}

function search(text) {
  S.query = text.trim().toLowerCase();
  for (const li of document.querySelectorAll(".lines li")) li.hidden = !matches(Number(li.dataset.i));
  const rows = visibleRows();
  say(S.query ? `${rows.length} lines match “${text.trim()}”` : "");
  if (rows.length && rowOf(S.cursor)?.hidden) moveTo(Number(rows[0].dataset.i));
}

let pending = Promise.resolve();

function enqueue(action) {
  // keys act one after another, each on the state the one before left: "a a a" accepts three lines
  pending = pending.then(action).catch((error) => say(error.message, true));
}

function keyAction(event) {
  // what a key does in the script and review lists, or undefined
  const key = event.key;
  const seg = () => S.cursor === null ? null : S.data.segments[S.cursor];
  if (event.ctrlKey || event.metaKey) {
    if (key === "z" && !event.shiftKey) return () => travel("undo");
    if (key === "y" || (key === "Z" && event.shiftKey)) return () => travel("redo");
    return undefined;
  }
  if (event.altKey) {
    const view = { 1: "script", 2: "review", 3: "episode" }[key];
    return view && (() => selectView(view));
  }
  const extend = event.shiftKey && S.view === "script";
  const keys = {
    ArrowDown: () => step(1, extend), j: () => step(1), J: () => step(1, S.view === "script"),
    ArrowUp: () => step(-1, extend), k: () => step(-1), K: () => step(-1, S.view === "script"),
    Home: () => step(-1e9), End: () => step(1e9), PageDown: () => step(10), PageUp: () => step(-10),
    a: () => { if (seg()?.voiced) return seg().speaker ? assign(seg().speaker) : openPicker(); },
    x: swap, n: () => setKind("narration"),
    " ": playLine, p: playLine, P: playScene,
    Escape: () => { stop(); if (S.anchor !== null) moveTo(S.cursor); },
    u: () => travel("undo"), U: () => travel("redo"),
    g: () => { if (S.view === "review") { const i = S.cursor; selectView("script"); moveTo(i); } },
  };
  if (/^[1-9]$/.test(key)) return () => { const name = S.keys[Number(key) - 1]; if (name) return assign(name); };
  return keys[key];
}

function globalKeys(event) {
  const inField = event.target.closest("input, select, textarea, [contenteditable]");
  if (!$("picker").hidden) return;
  if (event.key === "?" && !inField) { toggleHelp(); event.preventDefault(); return; }
  if (event.key === "Escape" && !$("help").hidden) { toggleHelp(); event.preventDefault(); return; }
  if (inField) {
    if (event.target.id === "search" && (event.key === "Enter" || event.key === "Escape")) {
      if (event.key === "Escape") { event.target.value = ""; search(""); }
      list().focus();
      event.preventDefault();
    }
    return;
  }
  if (event.key === "/") { $("search").focus(); event.preventDefault(); return; }
  if (event.key === "R" && !event.ctrlKey) { render(); event.preventDefault(); return; }
  if ((event.target.closest(".lines") || event.target === document.body) && S.view !== "episode") {
    const plain = !event.ctrlKey && !event.altKey && !event.metaKey;
    if (plain && ["Enter", "s", "d", "t"].includes(event.key)) {  // the picker opens at once: typing goes there
      event.preventDefault();
      if (event.key === "Enter" || event.key === "s") openPicker();
      else kindKey(event.key === "d" ? "dialogue" : "thought");
      return;
    }
    const action = keyAction(event);
    if (action) { event.preventDefault(); enqueue(action); }
  }
}

function toggleHelp() {
  const help = $("help");
  help.hidden = !help.hidden;
  $("help-button").setAttribute("aria-expanded", String(!help.hidden));
}

function tabKeys(event) {
  const names = ["script", "review", "episode"];
  const at = names.indexOf(event.target.id.replace("tab-", ""));
  if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
  const next = names[(at + (event.key === "ArrowRight" ? 1 : 2)) % 3];
  selectView(next);
  $(`tab-${next}`).focus();
  event.preventDefault();
}

function bind() {
  document.addEventListener("keydown", globalKeys);
  for (const name of ["script", "review", "episode"]) {
    $(`tab-${name}`).addEventListener("click", () => selectView(name));
    $(`tab-${name}`).addEventListener("keydown", tabKeys);
  }
  for (const id of ["script", "review"]) {
    $(id).addEventListener("click", (event) => {
      const li = event.target.closest("li[data-i]");
      if (li) { moveTo(Number(li.dataset.i), event.shiftKey && id === "script"); $(id).focus(); }
    });
    $(id).addEventListener("dblclick", () => openPicker());
  }
  $("episode").addEventListener("change", (event) => openEpisode(Number(event.target.value)));
  $("search").addEventListener("input", (event) => search(event.target.value));
  $("undo").addEventListener("click", () => enqueue(() => travel("undo")));
  $("redo").addEventListener("click", () => enqueue(() => travel("redo")));
  $("render").addEventListener("click", render);
  $("help-button").addEventListener("click", toggleHelp);
  $("picker-input").addEventListener("input", filterPicker);
  $("picker-input").addEventListener("keydown", pickerKeys);
  $("picker-input").addEventListener("blur", () => { if (!$("picker").hidden) closePicker(); });
  $("player").addEventListener("timeupdate", followPlayer);
  $("add-character").addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await change("/api/cast/character", { name: $("new-name").value, gender: $("new-gender").value });
    if (done) $("new-name").value = "";
  });
}

start();
