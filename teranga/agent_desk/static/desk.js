// The agents' desk. Everything the customer wrote is shown with textContent, never as HTML.
"use strict";

const state = { me: null, open: null, openData: null, canned: [], socket: null };
const $ = (id) => document.getElementById(id);

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const reply = await fetch(path, options);
  if (reply.status === 401) { location.href = "/login"; throw new Error("logged out"); }
  const data = await reply.json();
  if (!reply.ok) throw new Error(data.error || reply.statusText);
  return data;
}

function minutes(seconds) {
  return seconds < 60 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

function item(summary) {
  const li = document.createElement("li");
  li.dataset.id = summary.conversation_id;
  li.classList.toggle("open", summary.conversation_id === state.open);
  li.classList.toggle("upset", summary.reasons.includes("negative_sentiment"));
  li.classList.toggle("overdue", summary.overdue);
  const title = document.createElement("span");
  title.textContent = `${summary.conversation_id} · ${summary.language} · ${summary.channel}`
    + (summary.skill ? ` · ${summary.skill}` : "");
  const wait = document.createElement("small");
  wait.className = "wait";
  wait.textContent = `${summary.reasons.join(", ")} · waiting ${minutes(summary.waiting_seconds)}`
    + (summary.callback ? " · callback requested" : "")
    + (summary.requeues.length ? ` · re-queued ${summary.requeues.length}×` : "");
  const preview = document.createElement("small");
  preview.textContent = summary.preview;
  li.append(title, wait, preview);
  li.addEventListener("click", () => openConversation(summary.conversation_id));
  return li;
}

async function refreshLists() {
  const data = await api("/api/queue");
  $("mine").replaceChildren(...data.mine.map(item));
  $("waiting").replaceChildren(...data.waiting.map(item));
}

function line(entry) {
  const li = document.createElement("li");
  li.className = entry.from;
  const who = document.createElement("small");
  const at = entry.at ? new Date(entry.at * 1000).toLocaleTimeString() : "";
  const label = entry.from === "agent" ? entry.name : entry.from;
  const extra = entry.from === "customer" && entry.intent ? ` · ${entry.intent}` : "";
  const lost = ["failed", "undelivered"].includes(entry.delivery);
  const delivery = lost ? " · NOT DELIVERED: the customer did not get this message"
    : (entry.delivery ? ` · ${entry.delivery}` : "");
  const mood = entry.sentiment && entry.sentiment.label ? ` · ${entry.sentiment.label}` : delivery;
  who.textContent = entry.from === "system" ? at : `${label} · ${at}${extra}${mood}`;
  if (lost) li.classList.add("undelivered");
  const text = document.createElement("span");
  text.textContent = entry.text;
  li.append(who, text);
  return li;
}

function showLine(entry) {
  $("transcript").append(line(entry));
  $("transcript").lastElementChild.scrollIntoView({ block: "end" });
}

async function openConversation(id) {
  state.open = id;
  $("overview").hidden = true;
  $("error").textContent = "";
  const data = await api(`/api/conversations/${encodeURIComponent(id)}`);
  state.openData = data;
  $("conversation").hidden = false;
  $("title").textContent = `${data.conversation_id} (${data.channel})`;
  const sentiment = data.sentiment && data.sentiment.label
    ? `${data.sentiment.label} (${Number(data.sentiment.score).toFixed(2)})` : "unknown";
  $("facts").textContent = `Language: ${data.language} · Why: ${data.reasons.join(", ")}`
    + (data.skill ? ` · Needs: ${data.skill}` : "")
    + ` · Sentiment: ${sentiment} · Owner: ${data.owner}`;
  const intents = data.top_intents.map((i) => `${i.name} ${(i.confidence * 100).toFixed(0)}%`);
  const articles = data.kb_candidates.map((a) => `${a.title} (${a.score})`);
  $("guesses").textContent = `Bot's guesses: ${intents.join(", ") || "none"}`
    + ` · Knowledge base: ${articles.join("; ") || "nothing close"}`;
  $("transcript").replaceChildren(...data.transcript.map(line));
  if ($("transcript").lastElementChild) $("transcript").lastElementChild.scrollIntoView({ block: "end" });
  const mine = data.owner === `agent:${state.me.id}` || (state.me.role === "supervisor" && data.assigned_to);
  $("claim").hidden = data.owner !== "queued";
  for (const id of ["transfer", "transfer-to", "return", "close", "reply-form"]) $(id).hidden = !mine;
  await loadCanned(data.language);
  await loadTransferTargets(data.language);
  await refreshLists();
}

async function loadCanned(language) {
  state.canned = await api(`/api/canned/${language}`);
  const options = state.canned.map((reply, index) => new Option(reply.title, String(index)));
  $("canned").replaceChildren(new Option("Canned replies…", ""), ...options);
}

async function loadTransferTargets(language) {
  const agents = await api("/api/agents");
  const options = agents.filter((a) => a.id !== state.me.id)
    .map((a) => new Option(`${a.name}${a.online ? "" : " (offline)"} · ${a.languages.join("/")}`, `agent:${a.id}`));
  const languages = [language, ...state.me.all_languages.filter((l) => l !== language)]
    .map((l) => new Option(`${l} queue`, `queue:${l}`));
  $("transfer-to").replaceChildren(...languages, ...options);
}

async function act(action, body = {}) {
  $("error").textContent = "";
  try {
    await api(`/api/conversations/${encodeURIComponent(state.open)}/${action}`, body);
    if (action !== "claim") {  // handed back, closed or transferred: no longer ours to show
      state.open = null;
      $("conversation").hidden = true;
      await refreshLists();
    } else {
      await openConversation(state.open);
    }
  } catch (error) {
    $("error").textContent = error.message;
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  state.socket = socket;
  socket.onopen = () => { $("link").textContent = "live"; $("link").classList.remove("down"); refreshLists(); };
  socket.onclose = () => {
    $("link").textContent = "reconnecting…"; $("link").classList.add("down");
    setTimeout(connect, 2000);
  };
  socket.onmessage = (message) => {
    const news = JSON.parse(message.data);
    if (news.type === "message" && news.conversation_id === state.open) {
      const external = news.intent && news.text === `EXTERNAL: ${news.intent}`;  // from the desk
      if (news.event === "user" && !external) {
        showLine({ from: "customer", text: news.text, at: news.at, intent: news.intent, sentiment: news.sentiment });
      } else if (news.event === "bot" && news.text) {
        showLine({ from: news.agent ? "agent" : "bot", name: news.agent_name || news.agent, text: news.text, at: news.at });
      }
    }
    if (news.type === "notice") {
      refreshLists();
      if (news.kind === "requeued" && news.agent === state.me.id) {
        // an unanswered conversation went back to the queue and we were marked away
        api("/api/me").then((me) => { $("available").checked = me.available; });
      }
      if (news.conversation_id === state.open && news.kind !== "queued") openConversation(state.open).catch(() => {});
      if (!$("overview").hidden) showOverview();
    }
  };
}

async function showOverview() {
  const data = await api("/api/overview");
  $("conversation").hidden = true;
  $("overview").hidden = false;
  const row = (cells) => {
    const tr = document.createElement("tr");
    for (const cell of cells) { const td = document.createElement("td"); td.textContent = cell; tr.append(td); }
    return tr;
  };
  $("queues").tBodies[0].replaceChildren(...Object.entries(data.languages).map(([language, q]) =>
    row([language, q.waiting, minutes(q.longest_wait), q.upset])));
  $("agents").tBodies[0].replaceChildren(...data.agents.map((a) => row([
    `${a.name} (${a.role})`, a.available ? "available" : (a.online ? "away" : "offline"),
    `${a.load} / ${a.max_conversations}`, a.languages.join(", "),
    `${a.satisfaction.yes} yes / ${a.satisfaction.no} no`])));
  $("dead-letters").tBodies[0].replaceChildren(...data.dead_letters.map((d) => row([
    new Date(d.at * 1000).toLocaleString(), d.channel, d.recipient, d.text, d.error])));
  $("attention").tBodies[0].replaceChildren(...data.attention.map((c) => row([
    c.conversation_id, c.language, c.owner, minutes(c.waiting_seconds),
    [c.overdue ? "past response time" : "", ...c.requeues.map((r) => `${r.agent}: ${r.why}`)].filter(Boolean).join("; ")])));
}

async function start() {
  state.me = await api("/api/me");
  $("me").textContent = `${state.me.name} (${state.me.role}; ${state.me.languages.join(", ")})`;
  $("available").checked = state.me.available;
  $("available").addEventListener("change", (e) => api("/api/presence", { available: e.target.checked }));
  $("show-overview").hidden = state.me.role !== "supervisor";
  $("show-overview").addEventListener("click", showOverview);
  $("claim").addEventListener("click", () => act("claim"));
  $("return").addEventListener("click", () => act("return"));
  $("close").addEventListener("click", () => act("close"));
  $("transfer").addEventListener("click", () => {
    const [kind, target] = $("transfer-to").value.split(":");
    act("transfer", kind === "agent" ? { agent: target } : { language: target });
  });
  $("canned").addEventListener("change", (e) => {
    const reply = state.canned[Number(e.target.value)];
    if (reply) $("reply").value = reply.text.replaceAll("{agent}", state.me.name);
    e.target.value = "";
    $("reply").focus();
  });
  $("reply-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("reply").value.trim();
    if (!text) return;
    $("send").disabled = true;
    try {
      await api(`/api/conversations/${encodeURIComponent(state.open)}/reply`, { text });
      $("reply").value = "";  // kept on failure, so nothing typed is lost
      $("error").textContent = "";
    } catch (error) {
      $("error").textContent = error.message;
    } finally {
      $("send").disabled = false;
    }
  });
  await refreshLists();
  connect();
}

start();
