// The Vigil console: the alert list (history from GET /api/alerts, new
// alerts from the server-sent events of GET /api/alerts/stream, both
// under the filters of the form), and the daemon's stats from
// GET /api/stats every 5 s. No library; the plots are SVG drawn here.
"use strict";

const $ = (id) => document.getElementById(id);
const PAGE = 500;        // alerts a history page asks for
const MAX_ROWS = 2000;   // rows kept in the list; the oldest go first
const DRAW_MS = 250;     // new alerts are drawn at most this often, and leave the page idle at least as long as drawing took
const SEV = ["", "high", "medium", "low", "info"]; // EVE severity 1..4; critical is 1 too

let shown = [];     // items of the list, newest first: {seq, time, eve}
let pending = [];   // events from the stream not yet drawn (JSON arrays of items), oldest first
let drawing = 0;    // the timer of the next draw
let drawn = 0;      // how long the last draw took, ms
let source = null;  // the EventSource
let next = 0;       // the "before" of the next older page; 0: none
let selected = null;
let generation = 0; // bumped when the filters change; late answers are dropped

function filters() {
  const p = new URLSearchParams();
  for (const [k, v] of new FormData($("filters"))) if (v.trim() !== "") p.set(k, v.trim());
  return p;
}

async function getJSON(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error((await r.text()).trim() || r.statusText);
  return r.json();
}

function cell(tr, text, title) {
  const td = tr.insertCell();
  td.textContent = text;
  if (title) td.title = title;
}

function row(item) {
  const e = item.eve, a = e.alert || {};
  const tr = document.createElement("tr");
  tr.className = "sev" + a.severity;
  tr.dataset.seq = item.seq;
  cell(tr, (e.timestamp || "").replace("T", " ").slice(0, 23), e.timestamp);
  cell(tr, (e.vigil && e.vigil.severity) || SEV[a.severity] || a.severity);
  cell(tr, e.sensor);
  cell(tr, a.signature_id);
  cell(tr, a.signature, a.signature);
  const arp = e.vigil && e.vigil.arp;
  cell(tr, e.src_ip ? e.src_ip + (e.src_port ? ":" + e.src_port : "") : arp ? arp.src_ip : "");
  cell(tr, e.dest_ip ? e.dest_ip + (e.dest_port ? ":" + e.dest_port : "") : arp ? arp.dest_ip : "");
  cell(tr, e.proto || (arp ? "ARP" : ""));
  tr.item = item;
  return tr;
}

// draw puts the newest MAX_ROWS of the stream's pending alerts on top of
// the list, and keeps MAX_ROWS rows.
function draw() {
  const began = performance.now();
  drawing = 0;
  let fresh = [];
  for (let i = pending.length - 1; i >= 0 && fresh.length < MAX_ROWS; i--) fresh = fresh.concat(JSON.parse(pending[i]).reverse());
  fresh.length = Math.min(fresh.length, MAX_ROWS);
  pending = [];
  const body = $("alerts"), frag = document.createDocumentFragment();
  for (const it of fresh) frag.appendChild(row(it));
  body.insertBefore(frag, body.firstChild);
  shown = fresh.concat(shown);
  if (shown.length > MAX_ROWS) {
    for (let i = shown.length - MAX_ROWS; i > 0; i--) body.lastChild.remove();
    shown.length = MAX_ROWS;
    next = shown[MAX_ROWS - 1].seq;
  }
  counted();
  drawn = performance.now() - began;
}

function counted() {
  $("count").textContent = shown.length;
  $("older").hidden = next === 0 || shown.length >= MAX_ROWS;
  tops();
}

function append(items) {
  const frag = document.createDocumentFragment();
  for (const it of items) frag.appendChild(row(it));
  $("alerts").appendChild(frag);
  shown = shown.concat(items);
  counted();
}

// load starts over under the current filters: the newest page, then the
// stream from where it ended.
async function load() {
  const gen = ++generation;
  if (source) source.close();
  clearTimeout(drawing);
  shown = []; pending = []; next = 0; drawing = 0;
  $("alerts").replaceChildren();
  $("error").textContent = "";
  $("live").textContent = "loading"; $("live").className = "off";
  counted();
  const f = filters();
  f.set("limit", PAGE);
  try {
    const page = await getJSON("api/alerts?" + f);
    if (gen !== generation) return;
    next = page.next;
    append(page.alerts);
    f.delete("limit");
    f.set("after", page.last);
    f.set("newest", MAX_ROWS);
    listen(f, gen);
  } catch (err) {
    if (gen === generation) $("error").textContent = err.message;
  }
}

function listen(f, gen) {
  source = new EventSource("api/alerts/stream?" + f);
  source.onopen = () => { $("live").textContent = "live"; $("live").className = "on"; };
  source.onerror = () => { $("live").textContent = "reconnecting"; $("live").className = "off"; };
  source.onmessage = (ev) => {
    if (gen !== generation) return;
    pending.push(ev.data);
    if (!drawing) drawing = setTimeout(draw, Math.max(DRAW_MS, 2 * drawn));
  };
}

async function older() {
  const gen = generation, f = filters();
  f.set("limit", Math.min(PAGE, MAX_ROWS - shown.length));
  f.set("before", next);
  try {
    const page = await getJSON("api/alerts?" + f);
    if (gen !== generation) return;
    next = page.next;
    append(page.alerts);
  } catch (err) {
    $("error").textContent = err.message;
  }
}

function select(tr) {
  if (selected) selected.classList.remove("sel");
  selected = tr;
  tr.classList.add("sel");
  $("eve").textContent = JSON.stringify(tr.item.eve, null, 2);
  $("detail").hidden = false;
}

// --- plots -----------------------------------------------------------

const SVGNS = "http://www.w3.org/2000/svg";

function svgEl(parent, name, attrs, text) {
  const el = document.createElementNS(SVGNS, name);
  for (const k in attrs) el.setAttribute(k, attrs[k]);
  if (text !== undefined) el.textContent = text;
  parent.appendChild(el);
  return el;
}

function fmt(x) {
  return x >= 1e6 ? (x / 1e6).toFixed(1) + "M" : x >= 1e3 ? (x / 1e3).toFixed(1) + "k" : x >= 10 ? x.toFixed(0) : x.toFixed(1);
}

// line draws rates of the counter key over the samples, per second.
function line(svg, series, key) {
  svg.replaceChildren();
  const pts = [];
  for (let i = 1; i < series.length; i++) {
    const dt = series[i].t - series[i - 1].t;
    if (dt > 0) pts.push([series[i].t, Math.max(0, series[i][key] - series[i - 1][key]) / dt]);
  }
  const now = Date.now() / 1000, w = 600, h = 110, top = Math.max(1, ...pts.map((p) => p[1]));
  const x = (t) => 30 + (w - 32) * (1 - (now - t) / 3600), y = (v) => h - 12 - (h - 20) * v / top;
  svgEl(svg, "text", { x: 2, y: 12 }, fmt(top));
  svgEl(svg, "text", { x: 2, y: h - 12 }, "0");
  svgEl(svg, "text", { x: 30, y: h - 1 }, "-60 min");
  svgEl(svg, "text", { x: w - 20, y: h - 1 }, "now");
  svgEl(svg, "line", { x1: 30, y1: h - 12, x2: w, y2: h - 12, stroke: "#ccd" });
  if (pts.length) svgEl(svg, "polyline", { points: pts.map((p) => x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1)).join(" ") });
  else svgEl(svg, "text", { x: 250, y: 55 }, "no samples yet");
}

// bars draws the ten largest counts of the map m.
function bars(svg, m) {
  svg.replaceChildren();
  const top = [...m].sort((a, b) => b[1] - a[1]).slice(0, 10), h = 14;
  svg.setAttribute("viewBox", "0 0 600 " + Math.max(h, top.length * h));
  top.forEach(([label, n], i) => {
    svgEl(svg, "rect", { x: 300, y: i * h + 2, height: h - 4, width: 250 * n / top[0][1] });
    svgEl(svg, "text", { x: 2, y: i * h + 11 }, String(label).slice(0, 60));
    svgEl(svg, "text", { x: 556, y: i * h + 11 }, n);
  });
}

function tops() {
  const sigs = new Map(), srcs = new Map();
  for (const { eve } of shown) {
    const s = (eve.alert && eve.alert.signature) || "";
    sigs.set(s, (sigs.get(s) || 0) + 1);
    if (eve.src_ip) srcs.set(eve.src_ip, (srcs.get(eve.src_ip) || 0) + 1);
  }
  bars($("topsigs"), sigs);
  bars($("topsrcs"), srcs);
}

// --- stats -----------------------------------------------------------

const seen = new Map(); // sensor remote -> {packets, at, last}: for packets/s and last seen

function tableRows(body, rows) {
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    for (const c of cells) cell(tr, c);
    return tr;
  }));
}

function ago(t) {
  const s = Math.round((Date.now() - t) / 1000);
  return s < 2 ? "now" : s < 120 ? s + " s ago" : Math.round(s / 60) + " min ago";
}

async function stats() {
  let r;
  try { r = await getJSON("api/stats"); } catch (err) { $("error").textContent = err.message; return; }
  const st = r.stats, now = Date.now();
  line($("alertrate"), r.series, "alerts");
  line($("packetrate"), r.series, "packets");
  const sensors = (st.sensors && st.sensors.sensors) || [];
  tableRows($("sensors"), sensors.map((s) => {
    const prev = seen.get(s.remote);
    const rate = prev ? (s.packets - prev.packets) / ((now - prev.at) / 1000) : 0;
    const last = !prev || s.packets > prev.packets ? now : prev.last;
    seen.set(s.remote, { packets: s.packets, at: now, last });
    return [s.name, new Date(s.since).toLocaleTimeString(), fmt(rate), s.drops, ago(last), s.tz];
  }));
  const rules = (st.rules || []).slice().sort((a, b) => b.matches - a.matches || a.sid - b.sid);
  $("rulecount").textContent = rules.length + " rules loaded";
  tableRows($("rules"), rules.map((x) => [x.sid, x.name, x.matches, x.evaluations, (x.time_ns / 1e6).toFixed(2) + " ms"]));
  const rl = st.reload;
  $("reload").textContent = !rl ? "no reload since start" :
    "last reload " + new Date(rl.time).toLocaleString() + ": " + (rl.ok ? "ok, " + rl.rules + " rules, " +
      (rl.added || []).length + " added, " + (rl.removed || []).length + " removed, " + (rl.changed || []).length + " changed"
      : "refused: " + (rl.errors || []).join("; "));
}

// --- wiring ----------------------------------------------------------

let typing = 0;
$("filters").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(load, 300); });
$("filters").addEventListener("reset", () => setTimeout(load, 0));
$("filters").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
$("alerts").addEventListener("click", (ev) => { const tr = ev.target.closest("tr"); if (tr) select(tr); });
$("close").addEventListener("click", () => { $("detail").hidden = true; });
$("older").addEventListener("click", older);
load();
stats();
setInterval(stats, 5000);
