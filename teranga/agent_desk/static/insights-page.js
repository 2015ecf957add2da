/* The desk's Insights page: the filters' figures from /api/insights, drawn by insights.js;
   the export link follows the filters. */
"use strict";

const form = document.getElementById("filters");
let drawn = [];

function query() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (value) params.set(name, value);
  }
  return params.toString();
}

async function show() {
  const wanted = query();
  document.getElementById("export").href = `/api/insights/export.csv?${wanted}`;
  const error = document.getElementById("error");
  error.textContent = "";
  const reply = await fetch(`/api/insights?${wanted}`, { credentials: "same-origin" });
  const body = await reply.json();
  if (!reply.ok) {
    error.textContent = body.error || `The figures could not be read (${reply.status}).`;
    return;
  }
  for (const chart of drawn) chart.dispose();
  drawn = drawInsights(document.getElementById("insights"), body);
  document.body.dataset.drawn = "yes";
  showIrritants(wanted);
}

async function showIrritants(wanted) {
  // grouping by meaning needs the knowledge base's model: drawn when it is ready
  const box = document.getElementById("irritants");
  const reply = await fetch(`/api/insights/irritants?${wanted}`, { credentials: "same-origin" });
  const body = await reply.json();
  if (!reply.ok) {
    box.replaceChildren(element("p", "error", body.error || "The irritants could not be read."));
    return;
  }
  drawIrritants(box, body.groups);
  document.body.dataset.irritants = "yes";
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  show();
});
window.addEventListener("resize", () => drawn.forEach((chart) => chart.resize()));
show();
setInterval(show, 60_000);  // early warnings as they happen
