// infercost's calculator: the page's inputs → one API call (estimate, or reproduce for a
// scenario) → the figures. Every input the user set lives in the URL's query string; the
// charts are drawn by charts.js.
"use strict";

const DEFAULTS = {
  scenario: "", model: "llama-3.1-70b", gpu: "h100-sxm", tp: "4", precision: "fp8",
  qps: 20, input_tokens: 1000, output_tokens: 200, price: null, utilisation: 0.7,
  ttft: 2, tpot: 0.05,
};
// Sliders and number fields: [key, label, min, max, step, log scale].
const NUMERIC = [
  ["qps", "Traffic (queries/s)", 0.01, 1000000, 0.01, true],
  ["input_tokens", "Input tokens per query", 1, 100000, 1, true],
  ["output_tokens", "Output tokens per query", 1, 20000, 1, true],
  ["price", "Price ($/GPU-hour; empty: catalog)", 0.1, 20, 0.01, false],
  ["utilisation", "Utilisation at peak", 0.05, 1, 0.01, false],
  ["ttft", "TTFT p99 target (s)", 0.05, 30, 0.01, true],
  ["tpot", "TPOT p99 target (s)", 0.005, 1, 0.001, true],
];
// Where each page input lives in a scenario (reproduce's `set` paths).
const SCENARIO_PATHS = {
  model: "model.name", gpu: "hardware.gpu", tp: "parallelism.tp",
  precision: "model.weight_precision", input_tokens: "workload.input_tokens",
  output_tokens: "workload.output_tokens", price: "cost.usd_per_gpu_hour",
  utilisation: "workload.target_utilisation",
};
const VOLUMES = ["workload.daily_users", "workload.queries_per_second", "workload.queries_per_day"];
const PER_DAY = ["workload.input_tokens_per_day", "workload.output_tokens_per_day"];
// A server's field name → the page input that shows its error.
const FIELD_OF = { target_interactivity: "tpot", queries_per_day: "qps", slo: "tpot" };

const $ = (id) => document.getElementById(id);
let user = {};          // inputs the user set (the URL holds exactly these)
let overrides = {};     // scenario assumption path → value, from the assumptions table
let base = { ...DEFAULTS };  // what an unset input shows: the defaults, or the scenario's
let baseAssumptions = [];
let last = null;        // the last result shown: { kind, request, response, figures }
let seq = 0;
let timer = null;

function value(key) { return key in user ? user[key] : base[key]; }

async function post(path, body) {
  const r = await fetch(`/api/v1/${path}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const doc = await r.json();
  if (!r.ok) throw { status: r.status, doc };
  return doc;
}

async function getJSON(path) { return (await fetch(path)).json(); }

// --- inputs ---------------------------------------------------------------------------------

function buildNumeric() {
  for (const [key, label, min, max, step, log] of NUMERIC) {
    const div = document.createElement("div");
    div.className = "field";
    const toSlider = (v) => (log ? Math.log10(v) : v);
    div.innerHTML = `<label for="${key}-number">${label}</label><div class="pair">
      <input type="range" id="${key}-slider" data-testid="${key}-slider"
        min="${toSlider(min)}" max="${toSlider(max)}" step="${log ? 0.01 : step}">
      <input type="number" id="${key}-number" data-testid="${key}-number" step="any"></div>
      <p class="error" id="${key}-error" data-testid="${key}-error"></p>`;
    $("numeric").appendChild(div);
    const slider = $(`${key}-slider`), number = $(`${key}-number`);
    slider.addEventListener("input", () => {
      const raw = log ? 10 ** Number(slider.value) : Number(slider.value);
      const v = Number(raw.toPrecision(3));
      number.value = v;
      setInput(key, v);
    });
    number.addEventListener("input", () => {
      if (number.value === "") { setInput(key, key === "price" ? null : base[key]); return; }
      const v = Number(number.value);
      if (Number.isFinite(v) && v > 0) slider.value = log ? Math.log10(v) : v;
      setInput(key, v);
    });
  }
}

function showInputs() {
  for (const [key, , , , , log] of NUMERIC) {
    const v = value(key);
    const number = $(`${key}-number`);
    if (document.activeElement !== number) number.value = v === null ? "" : v;
    if (v !== null && v > 0) $(`${key}-slider`).value = log ? Math.log10(v) : v;
  }
  for (const key of ["model", "gpu", "tp", "precision"]) ensureOption($(key), String(value(key)));
  $("scenario").value = user.scenario || "";
}

function ensureOption(select, v) {
  if (![...select.options].some((o) => o.value === v)) select.add(new Option(v, v));
  select.value = v;
}

function setInput(key, v) {
  if (v === base[key] || (v === null && base[key] === null)) delete user[key];
  else user[key] = v;
  schedule();
}

function schedule() {
  writeURL();
  clearTimeout(timer);
  timer = setTimeout(refresh, 250);
}

// --- the URL ----------------------------------------------------------------------------------

function writeURL() {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(user)) if (v !== null && v !== "") q.set(k, v);
  for (const [path, v] of Object.entries(overrides)) q.append("set", `${path}=${v}`);
  const text = q.toString();
  history.replaceState(null, "", text ? `?${text}` : location.pathname);
}

function readURL() {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of q.entries()) {
    if (k === "set") { const i = v.indexOf("="); overrides[v.slice(0, i)] = v.slice(i + 1); }
    else if (k in DEFAULTS) user[k] = typeof DEFAULTS[k] === "number" || k === "price" ? Number(v) : v;
  }
}

// --- requests ---------------------------------------------------------------------------------

function estimateBody(qps) {
  const body = {
    model: value("model"), gpu: [value("gpu")], tp: Number(value("tp")),
    precision: value("precision"), input_tokens: value("input_tokens"),
    output_tokens: value("output_tokens"), qps, utilisation: value("utilisation"),
    target_interactivity: 1 / value("tpot"),
  };
  if (value("price") !== null) body.price = value("price");
  return body;
}

function volumeSets(factor) {
  const a = Object.fromEntries(baseAssumptions.map((x) => [x.path, x.value]));
  const found = VOLUMES.find((p) => typeof a[p] === "number");
  const paths = found ? [found] : PER_DAY.filter((p) => typeof a[p] === "number");
  return paths.map((p) => `${p}=${a[p] * factor}`);
}

function reproduceBody(qps) {
  const sets = [];
  for (const [key, path] of Object.entries(SCENARIO_PATHS)) {
    if (!(key in user) || user[key] === null) continue;
    sets.push(`${path}=${user[key]}`);
    if (key === "gpu") sets.push("hardware.server=null");
  }
  if (qps !== base.qps) sets.push(...volumeSets(qps / base.qps));
  for (const [path, v] of Object.entries(overrides)) sets.push(`${path}=${v}`);
  return { scenario: user.scenario, set: sets };
}

function call(qps) {
  return user.scenario ? post("reproduce", reproduceBody(qps)) : post("estimate", estimateBody(qps));
}

const FACTORS = [1, 0.25, 0.5, 2, 4];  // the traffic chart's points, as multiples of the traffic

async function refresh() {
  const mine = ++seq;
  document.body.dataset.busy = "1";
  const qps = value("qps");
  const calls = FACTORS.map((f) => call(qps * f));  // all at once: one round trip
  const settled = calls.map((c) => c.catch(() => null));
  try {
    const doc = await calls[0];
    if (mine !== seq) return;
    clearErrors();
    show(doc, qps);
    if (!document.body.dataset.ready) document.body.dataset.readyMs = performance.now();
    document.body.dataset.ready = "1";  // the figures are shown and the inputs live
    const docs = await Promise.all(settled);
    await plotly();
    if (mine !== seq) return;
    drawGpuHour(last.figures.gpu_hour || {});
    drawTraffic(FACTORS.map((f, i) => [qps * f, docs[i]]));
    if (!document.body.dataset.charts) document.body.dataset.chartsMs = performance.now();
    document.body.dataset.charts = "1";
  } catch (err) {
    if (mine === seq) showError(err);
  } finally {
    if (mine === seq) document.body.dataset.busy = "0";
  }
}

// --- results ----------------------------------------------------------------------------------

function figuresOf(doc) {
  if (doc.computed) {
    const c = doc.computed, d = doc.details;
    return { gpus: c.gpus, servers: c.servers, usd_per_day: c.usd_per_day,
      usd_per_query: c.usd_per_query, usd_per_million_tokens: c.usd_per_million_tokens,
      usd_per_million_output_tokens: c.usd_per_million_output_tokens, ttft_s: c.ttft_s,
      tpot_s: c.tpot_s, usd_per_gpu_hour: c.usd_per_gpu_hour, gpu_hour: d.gpu_hour };
  }
  const e = doc.estimates[0], f = e.fleet_cost || {};
  return { gpus: e.fleet.gpus, servers: e.fleet.servers, usd_per_day: f.usd_per_day,
    usd_per_query: f.usd_per_query, usd_per_million_tokens: f.usd_per_million_tokens,
    usd_per_million_output_tokens: f.usd_per_million_output_tokens, ttft_s: e.replica.ttft_s,
    tpot_s: e.replica.tpot_s, usd_per_gpu_hour: e.usd_per_gpu_hour, gpu_hour: e.gpu_hour };
}

const LABELS = [
  ["gpus", "GPUs", (v) => v.toLocaleString("en-US")],
  ["servers", "servers", (v) => v.toLocaleString("en-US")],
  ["usd_per_day", "$ / day", (v) => "$" + Math.round(v).toLocaleString("en-US")],
  ["usd_per_query", "$ / query", (v) => "$" + v.toPrecision(3)],
  ["usd_per_million_tokens", "$ / 1M tokens", (v) => "$" + v.toPrecision(3)],
  ["usd_per_million_output_tokens", "$ / 1M output tokens", (v) => "$" + v.toPrecision(3)],
  ["ttft_s", "TTFT", (v) => (v * 1000).toPrecision(3) + " ms"],
  ["tpot_s", "TPOT", (v) => (v * 1000).toPrecision(3) + " ms"],
  ["usd_per_gpu_hour", "$ / GPU-hour", (v) => "$" + v.toFixed(2)],
];

function show(doc, qps) {
  const figures = figuresOf(doc);
  const published = Object.fromEntries((doc.comparison || []).map((c) => [c.key, c]));
  const targets = { ttft_s: value("ttft"), tpot_s: value("tpot") };
  $("figures").innerHTML = LABELS.filter(([k]) => figures[k] !== undefined && figures[k] !== null)
    .map(([k, label, fmt]) => {
      const miss = k in targets && figures[k] > targets[k] ? " miss" : "";
      const pub = published[k] ? `<div class="published">published ${fmtNum(published[k].published)}</div>` : "";
      return `<div class="figure${miss}" id="fig-${k}" data-testid="fig-${k}" data-value="${figures[k]}">
        <div class="label">${label}</div><div class="value">${fmt(figures[k])}</div>${pub}</div>`;
    }).join("");
  $("figures").dataset.qps = qps;
  showComparison(doc.comparison);
  if (doc.assumptions) showAssumptions(doc.assumptions);
  last = { kind: doc.computed ? "reproduce" : "estimate", response: doc, figures };
}

function fmtNum(v) {
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v) || Math.abs(v) >= 100) return Math.round(v).toLocaleString("en-US");
  return String(Number(v.toPrecision(3)));
}

function showComparison(rows) {
  const table = $("comparison");
  table.hidden = !rows || !rows.length;
  table.tBodies[0].innerHTML = (rows || []).map((r) => `<tr><td>${r.key}</td>
    <td class="num">${fmtNum(r.published)}</td><td class="num">${fmtNum(r.computed)}</td>
    <td class="num">${r.diff_pct === null ? "" : r.diff_pct.toFixed(1) + " %"}</td></tr>`).join("");
}

function showAssumptions(rows) {
  const body = $("assumptions").tBodies[0];
  body.innerHTML = rows.filter((a) => ["number", "string"].includes(typeof a.value))
    .map((a) => `<tr><td>${a.path}</td><td><input data-path="${a.path}" value="${a.value}"></td>
      <td>${a.basis}</td></tr>`).join("");
  for (const input of body.querySelectorAll("input")) {
    input.addEventListener("change", () => { overrides[input.dataset.path] = input.value; schedule(); });
  }
}

// --- errors -----------------------------------------------------------------------------------

function clearErrors() { for (const el of document.querySelectorAll(".error")) el.textContent = ""; }

function inputOf(field) {
  const name = String(field);
  for (const [key, path] of Object.entries(SCENARIO_PATHS)) if (name.includes(path)) return key;
  if (VOLUMES.some((p) => name.includes(p))) return "qps";
  return FIELD_OF[name] || name;
}

function showError(err) {
  clearErrors();
  const details = err && err.doc && Array.isArray(err.doc.detail) ? err.doc.detail : null;
  if (!details) {
    $("form-error").textContent = err && err.doc ? String(err.doc.detail) : String(err);
    return;
  }
  for (const d of details) {
    const field = d.loc[d.loc.length - 1];
    const box = $(`${inputOf(field)}-error`) || $("form-error");
    box.textContent = `${field}: ${d.msg}`;
  }
}

// --- export -----------------------------------------------------------------------------------

function download(name, text, type) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  URL.revokeObjectURL(a.href);
}

function exportCSV() {
  if (!last) return;
  const rows = [["figure", "value"]];
  for (const [k, v] of Object.entries(last.figures)) if (typeof v === "number") rows.push([k, v]);
  for (const c of last.response.comparison || []) rows.push([`published ${c.key}`, c.published]);
  download("infercost.csv", rows.map((r) => r.join(",")).join("\n") + "\n", "text/csv");
}

function exportJSON() {
  if (last) download("infercost.json", JSON.stringify(last.response, null, 2), "application/json");
}

// --- plan -------------------------------------------------------------------------------------

async function runPlan() {
  const body = {
    model: [value("model")], gpu: [value("gpu")], qps: value("qps"),
    input_tokens: String(value("input_tokens")), output_tokens: String(value("output_tokens")),
    slo: `ttft_p99=${value("ttft")}s,tpot_p99=${value("tpot")}s`, requests: 1000, verify: 3,
  };
  if (value("price") !== null) body.price = value("price");
  $("plan").hidden = false;
  $("plan-button").disabled = true;
  $("plan-status").textContent = "running… (plans simulate their candidates: seconds)";
  $("plan").dataset.state = "running";
  try {
    const doc = await post("plan", body);
    await plotly();
    showPlan(doc);
    $("plan").dataset.state = "done";
  } catch (err) {
    showError(err);
    $("plan-status").textContent = "failed";
    $("plan").dataset.state = "failed";
  } finally {
    $("plan-button").disabled = false;
  }
}

// --- start ------------------------------------------------------------------------------------

async function loadScenario() {
  if (!user.scenario) { base = { ...DEFAULTS }; baseAssumptions = []; $("scenario-title").textContent = ""; return; }
  const doc = await post("reproduce", { scenario: user.scenario });
  const d = doc.details, dep = d.deployment;
  baseAssumptions = doc.assumptions;
  base = { ...DEFAULTS, scenario: user.scenario, model: dep.model, gpu: dep.gpu,
    tp: String(dep.parallelism.tp), precision: dep.weight_precision, qps: d.traffic.queries_per_s,
    input_tokens: d.traffic.input_tokens_per_query, output_tokens: d.traffic.output_tokens_per_query,
    price: d.gpu_hour.usd_per_gpu_hour, utilisation: d.traffic.target_utilisation };
  $("scenario-title").textContent = doc.scenario.title;
}

async function pickScenario() {
  user = $("scenario").value ? { scenario: $("scenario").value } : {};
  overrides = {};
  await loadScenario();
  showInputs();
  schedule();
}

async function start() {
  buildNumeric();
  readURL();
  const [scenarios, models, gpus] = await Promise.all([getJSON("/api/v1/scenarios"),
    getJSON("/api/v1/catalog/models"), getJSON("/api/v1/catalog/gpus")]);
  for (const s of scenarios) $("scenario").add(new Option(`${s.name}: ${s.title}`, s.name));
  for (const m of models) $("model").add(new Option(m.name, m.id));
  for (const g of gpus) $("gpu").add(new Option(g.name, g.id));
  try { await loadScenario(); } catch (err) { showError(err); }
  showInputs();
  $("scenario").addEventListener("change", pickScenario);
  for (const key of ["model", "gpu", "tp", "precision"]) {
    $(key).addEventListener("change", () => setInput(key, $(key).value));
  }
  $("plan-button").addEventListener("click", runPlan);
  $("export-csv").addEventListener("click", exportCSV);
  $("export-json").addEventListener("click", exportJSON);
  await refresh();
}

window.addEventListener("DOMContentLoaded", start);
