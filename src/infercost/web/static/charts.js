// infercost's calculator, its charts: plotly.js loaded once the first figures are shown, the
// $/GPU-hour split, GPUs and $/day against traffic, and a plan's cost frontier.
"use strict";

// --- plotly.js and the result charts ---------------------------------------------------------

let plotlyLoading = null;

function plotly() {  // plotly.js, run once, after the first figures
  plotlyLoading = plotlyLoading || new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/vendor/plotly.min.js";
    script.onload = resolve;
    script.onerror = () => reject(new Error("plotly.js did not load"));
    document.head.appendChild(script);
  });
  return plotlyLoading;
}

const LAYOUT = { margin: { l: 55, r: 60, t: 40, b: 45 }, font: { size: 12 } };
const CONFIG = { displaylogo: false, responsive: true };

function drawGpuHour(h) {
  const parts = [["capital_usd", "capital"], ["networking_usd", "networking"], ["power_usd", "power"],
    ["facility_usd", "facility"], ["rental_usd", "rental"]].filter(([k]) => h[k]);
  const traces = parts.map(([k, name]) => ({ type: "bar", name, x: ["$ / GPU-hour"], y: [h[k]] }));
  Plotly.react("chart-gpu-hour", traces, { ...LAYOUT, barmode: "stack",
    title: { text: `$ per GPU-hour (${h.mode || ""})` } }, CONFIG);
}

function drawTraffic(points) {
  const pts = points.filter(([, doc]) => doc).map(([q, doc]) => [q, figuresOf(doc)])
    .sort((a, b) => a[0] - b[0]);
  const x = pts.map(([q]) => q);
  Plotly.react("chart-traffic", [
    { name: "GPUs", x, y: pts.map(([, f]) => f.gpus), mode: "lines+markers" },
    { name: "$ / day", x, y: pts.map(([, f]) => f.usd_per_day), mode: "lines+markers", yaxis: "y2",
      line: { dash: "dot" } },
  ], { ...LAYOUT, title: { text: "GPUs and $/day against traffic" },
    xaxis: { title: { text: "queries/s" }, type: "log" }, yaxis: { title: { text: "GPUs" } },
    yaxis2: { title: { text: "$ / day" }, overlaying: "y", side: "right" },
    legend: { orientation: "h" } }, CONFIG);
}

// --- plan ---------------------------------------------------------------------------------

function poolText(p) {
  return `${p.replicas} × ${p.gpus_per_replica} ${p.gpu} (TP${p.tp}, ${p.weight_precision})`;
}

function fleetText(b) {  // a colocated fleet, or prefill and decode pools
  if (b.disaggregated) return `prefill ${poolText(b.prefill)} + decode ${poolText(b.decode)}`;
  return poolText(b);
}

function showPlan(doc) {
  const b = doc.best;
  $("plan-status").textContent = doc.feasible ? "" : "no fleet meets the targets";
  $("plan-best").textContent = b ? `${fleetText(b)}: ${b.gpus} GPUs, ` +
    `$${Math.round(b.usd_per_month).toLocaleString("en-US")} a month, ` +
    `$${b.usd_per_million_output_tokens.toPrecision(3)} per 1M output tokens` : "";
  const pts = doc.frontier || [];
  const on = pts.filter((p) => p.on_cost_frontier);
  const traces = [
    { name: "candidates", mode: "markers", x: pts.map((p) => p.interactivity_tokens_per_s),
      y: pts.map((p) => p.usd_per_million_output_tokens), marker: { size: 5, color: "#9aa5b1" } },
    { name: "cost frontier", mode: "lines+markers", x: on.map((p) => p.interactivity_tokens_per_s),
      y: on.map((p) => p.usd_per_million_output_tokens) },
  ];
  const tpot = b && b.simulated && b.simulated.tpot_s && b.simulated.tpot_s.mean;
  if (tpot) {
    traces.push({ name: "chosen", mode: "markers", x: [1 / tpot],
      y: [b.usd_per_million_output_tokens], marker: { size: 14, symbol: "star", color: "#d97706" } });
  }
  Plotly.react("chart-frontier", traces, { ...LAYOUT, title: { text: "Cost against interactivity" },
    xaxis: { title: { text: "tokens/s per user" } },
    yaxis: { title: { text: "$ per 1M output tokens" }, type: "log" } }, CONFIG);
}
