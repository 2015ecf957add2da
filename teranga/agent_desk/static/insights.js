/* The Insights charts, drawn with ECharts from the figures of teranga/insights/report.py's
   `insights_data`: the same script for the desk's Insights page and the HTML report. Every
   text from the data goes in as text (textContent, ECharts' own escaping), never as HTML. */
"use strict";

const REASONS = {
  asked_for_person: "asked for a person", negative_sentiment: "upset",
  not_understood: "not understood", repeated_fallback: "repeated misunderstanding",
  action_error: "assistant error", callback_requested: "callback requested",
  voice_note: "voice note", document: "document", out_of_scope: "insisted out of scope",
};

function share(part, whole) {
  return whole ? part / whole : null;
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${(100 * value).toFixed(1)}%`;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function keyFigures(totals, value) {
  const t = totals;
  const figures = [
    ["conversations", String(t.conversations)],
    ["contained by the assistant", percent(share(t.contained, t.conversations))],
    ["handed to a person", percent(share(t.handed_over, t.conversations))],
    ["abandoned", percent(share(t.abandoned, t.conversations))],
    ["satisfied (of answers)", percent(share(t.satisfied, t.satisfaction_answered))],
    ["satisfaction response rate", percent(share(t.satisfaction_answered, t.satisfaction_asked))],
    ["knowledge-base answers", percent(share(t.kb_answers, t.kb_answers + t.kb_misses))],
    ["with a fallback", percent(share(t.with_fallback, t.conversations))],
    ["ended upset", percent(share(t.ended_upset, t.conversations))],
    ["time to hand-over", duration(t.time_to_handover)],
    ["queue wait, open hours", duration(t.queue_wait_in_hours)],
    ["queue wait, closed hours", duration(t.queue_wait_out_of_hours)],
    ["first agent response, open hours", duration(t.first_response_in_hours)],
    ["handling time", duration(t.handling)],
    ["resolution time", duration(t.resolution)],
  ];
  if (value) figures.push(["saved by containment", value.saved.toLocaleString("en")]);
  const cards = element("div", "cards");
  for (const [label, shown] of figures) {
    const card = element("div", "card");
    card.dataset.figure = label;
    card.append(element("div", "value", shown), element("div", "label", label));
    cards.append(card);
  }
  return cards;
}

function chart(root, id, title, option) {
  const box = element("div", "chart");
  box.id = id;
  root.append(box);
  const drawn = echarts.init(box, null, { renderer: "svg" });
  // no animation: a report, a screenshot or a print shows the final figures at once
  drawn.setOption({ animation: false, title: { text: title, textStyle: { fontSize: 14 } },
                    tooltip: { trigger: "axis" }, legend: { top: 24 },
                    grid: { top: 64, left: 48, right: 16, bottom: 32 }, ...option });
  return drawn;
}

// One colour per meaning, the same in every chart.
const COLOURS = {
  contained: "#2e8b57", "handed over": "#3b6fd8", abandoned: "#c0392b", conversations: "#3b6fd8",
  negative: "#c0392b", neutral: "#9aa5b1", positive: "#2e8b57", satisfied: "#2e8b57",
  "not satisfied": "#c0392b", answered: "#2e8b57", missed: "#e0a800",
};

function bars(rows, label, series) {
  return {
    xAxis: { type: "category", data: rows.map((r) => label(r.group)) },
    yAxis: { type: "value", minInterval: 1 },
    series: series.map(([name, pick, stack]) => ({
      name, type: "bar", stack, data: rows.map(pick), itemStyle: { color: COLOURS[name] } })),
  };
}

function drawInsights(root, data) {
  root.replaceChildren();
  const meta = document.getElementById("meta");
  const f = data.filters;
  if (meta) {
    meta.textContent = `From ${f.since || "the beginning"} to ${f.until || "today"}` +
      (f.language ? `, language ${f.language}` : "") + (f.channel ? `, channel ${f.channel}` : "") +
      ` (days in ${data.timezone}); generated ${data.generated_at}.`;
  }
  if (!data.totals) {
    root.append(earlyWarnings(data.warnings || [], data.warning_window_hours));
    root.append(element("p", "empty", "No conversation in this period."));
    return [];
  }
  root.append(earlyWarnings(data.warnings || [], data.warning_window_hours));
  root.append(keyFigures(data.totals, data.value));
  if (data.value) {
    root.append(element("p", "assumption",
      `Saved by containment: ${data.value.contained} conversations the assistant handled ` +
      `alone × ${data.value.cost_per_conversation} per conversation an agent handles ` +
      "(the configured cost; it assumes each would otherwise have reached an agent)."));
  }
  const grid = element("div", "charts");
  root.append(grid);
  const by = data.by;
  const drawn = [
    chart(grid, "chart-days", "Conversations per day", bars(by.day, (g) => g, [
      ["contained", (r) => r.contained, "all"],
      ["handed over", (r) => r.handed_over, "all"],
      ["abandoned", (r) => r.abandoned, undefined]])),
    chart(grid, "chart-reasons", "Hand-overs by reason", bars(by.reason, (g) => REASONS[g] || g, [
      ["conversations", (r) => r.conversations]])),
    chart(grid, "chart-languages", "By language", bars(by.language, (g) => g || "unknown", [
      ["contained", (r) => r.contained, "all"], ["handed over", (r) => r.handed_over, "all"]])),
    chart(grid, "chart-channels", "By channel", bars(by.channel, (g) => g || "unknown", [
      ["contained", (r) => r.contained, "all"], ["handed over", (r) => r.handed_over, "all"]])),
    chart(grid, "chart-sentiment", "Customers' messages by sentiment, per day", bars(by.day, (g) => g, [
      ["negative", (r) => r.negative, "all"], ["neutral", (r) => r.neutral, "all"],
      ["positive", (r) => r.positive, "all"]])),
    chart(grid, "chart-hours", "Conversations by hour of day (staffing)", bars(by.hour, (g) => `${g}h`, [
      ["conversations", (r) => r.conversations]])),
    chart(grid, "chart-satisfaction", "Satisfaction answers per day", bars(by.day, (g) => g, [
      ["satisfied", (r) => r.satisfied, "all"],
      ["not satisfied", (r) => r.satisfaction_answered - r.satisfied, "all"]])),
    chart(grid, "chart-knowledge", "Knowledge base per day", bars(by.day, (g) => g, [
      ["answered", (r) => r.kb_answers, "all"], ["missed", (r) => r.kb_misses, "all"]])),
  ];
  root.append(agentsTable(by.agent));
  if (data.irritants) {
    const box = element("section", "irritants-box");
    root.append(box);
    drawIrritants(box, data.irritants);
  }
  return drawn;
}

function earlyWarnings(warnings, hours) {
  const box = element("section", "warnings");
  box.setAttribute("aria-label", "Early warnings");
  box.append(element("h2", "", "Early warnings"));
  if (!warnings.length) {
    box.append(element("p", "calm", `Nothing above its usual level in the last ${hours} hours ` +
      "(topics, hand-over reasons, upset customers by language)."));
    return box;
  }
  const list = element("ul");
  for (const w of warnings) {
    const times = w.ratio === null ? "usually none" : `usually ${w.usual}, ×${w.ratio}`;
    const shown = w.signal === "hand-over reason" ? (REASONS[w.value] || w.value) : w.value;
    list.append(element("li", "warning",
      `${w.signal} "${shown}": ${w.now} in the last ${hours} hours (${times} at these hours)`));
  }
  box.append(list);
  return box;
}

function agentsTable(rows) {
  const table = element("table", "agents");
  const head = element("tr");
  for (const title of ["agent", "conversations", "first response", "handling", "satisfied"]) {
    head.append(element("th", "", title));
  }
  table.append(head);
  for (const r of rows.filter((row) => row.group)) {
    const line = element("tr");
    for (const cell of [r.group, String(r.conversations), duration(r.first_response_in_hours),
                        duration(r.handling), percent(share(r.satisfied, r.satisfaction_answered))]) {
      line.append(element("td", "", cell));
    }
    table.append(line);
  }
  return table;
}

const KINDS = { not_understood: "not understood", kb_miss: "no article", upset: "ended upset" };

function drawIrritants(root, groups) {
  root.replaceChildren(element("h2", "", "Irritants and content gaps"));
  if (!groups.length) {
    root.append(element("p", "calm", "Nothing the assistant missed in this period."));
    return;
  }
  const list = element("ol", "irritants");
  groups.forEach((g, index) => {
    const item = element("li", "irritant");
    const kinds = Object.entries(g.kinds).map(([k, n]) => `${KINDS[k] || k} ${n}`).join(", ");
    item.append(element("div", "irritant-head",
      `${g.customers} customer(s), ${g.messages} message(s), ${g.language} (${kinds})`));
    const examples = element("ul", "examples");
    for (const text of g.examples) examples.append(element("li", "", text));
    item.append(examples);
    for (const answer of g.agent_answers) {
      item.append(element("div", "answer", `An agent answered: ${answer}`));
    }
    item.append(element("div", "nearest", g.nearest_article
      ? `Nearest article: ${g.nearest_article.title} (${g.nearest_article.article_id}, ` +
        `score ${g.nearest_article.score})`
      : "No existing article is near."));
    item.append(element("code", "draft",
      `teranga kb draft --language ${g.language} --group ${index + 1}`));
    list.append(item);
  });
  root.append(list);
}

if (typeof module !== "undefined") module.exports = { drawInsights, drawIrritants, duration, percent };
