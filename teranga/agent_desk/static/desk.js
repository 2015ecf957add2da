// The agents' desk. Everything a customer (or anyone) wrote is shown with textContent, never
// as HTML. No framework, no build step: the desk's Content-Security-Policy allows this file only.
"use strict";

const REFRESH_GAP_MS = 500;      // at most one /api/queue request per half second
const OVERVIEW_GAP_MS = 1000;
const UNDO_SECONDS = 5;          // Close and Return to bot wait this long before they are sent
const SEARCH_DELAY_MS = 300;
const TITLE = "Teranga desk";
const SOUND_KEY = "teranga.desk.sound";
const NOTIFY_ASKED_KEY = "teranga.desk.notifications-asked";

const state = {
  me: null, open: null, openData: null, view: "lists",
  mine: [], waiting: [],
  cards: new Map(),       // conversation id -> its card in a list
  unread: new Map(),      // conversation id -> customer messages not read yet
  latest: new Map(),      // conversation id -> newest message seen live {from, text, at}
  dueAt: new Map(),       // conversation id -> when it goes back to the queue if unanswered
  drafts: new Map(),      // conversation id -> reply being written
  agents: new Map(),      // agent id -> name
  canned: new Map(),      // language -> canned replies
  notes: new Map(),       // note id -> shown (for the open conversation)
  marked: new Set(),      // conversations that went back to the queue when we were marked away
  pending: null,          // a Close or Return waiting for its undo delay
  revealed: null,         // the open conversation, once its holder asked for its personal data
  revealedFacts: [],      // its facts, unmasked
  menu: { items: [], index: 0 },
  audio: null,
};
const $ = (id) => document.getElementById(id);
const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};
const path = (id, action = "") => `/api/conversations/${encodeURIComponent(id)}${action ? `/${action}` : ""}`;

async function api(url, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const reply = await fetch(url, options);
  if (reply.status === 401) { location.href = "/login"; throw new Error("logged out"); }
  const data = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(data.error || `${reply.status} ${reply.statusText}`);
  return data;
}

function minutes(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  return seconds < 60 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}
function clock(seconds) {
  seconds = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}
const shortId = (s) => s.short_id || s.conversation_id;
const agentName = (id) => state.agents.get(id) || id;
const isTyping = (target) => ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);

function flash(text) {
  $("flash").textContent = text;
  $("flash").hidden = !text;
  clearTimeout(flash.timer);
  if (text) flash.timer = setTimeout(() => { $("flash").hidden = true; }, 12000);
}

// ---- Lists: my conversations and the waiting ones ---------------------------------------

function newest(summary) {
  const live = state.latest.get(summary.conversation_id);
  const known = summary.last_message;
  if (!known) return live || null;
  return live && (!known.at || live.at > known.at) ? live : known;
}

function card(summary, mine) {
  const id = summary.conversation_id;
  const li = el("li");
  li.dataset.id = id;
  li.tabIndex = 0;
  li.setAttribute("role", "option");
  li.setAttribute("aria-selected", String(id === state.open));
  li.title = id + (summary.priority ? ` · priority ${summary.priority}` : "");
  li.classList.toggle("overdue", Boolean(summary.overdue));
  const top = el("div", "top");
  if ((summary.reasons || []).includes("negative_sentiment")) {
    const mark = el("span", "upset-mark", "●");
    mark.title = "upset customer";
    top.append(mark);
  }
  const meta = [summary.language, summary.channel, summary.skill, ...(summary.reasons || [])]
    .filter(Boolean).join(" · ");
  top.append(el("span", "id", shortId(summary)), el("span", "meta", meta));
  if (mine) top.append(el("span", "due"), el("span", "unread"));
  else if (summary.holder_name) top.append(el("span", "meta", `with ${summary.holder_name}`));
  const wait = el("span", "wait", minutes(summary.waiting_seconds));
  wait.title = summary.overdue ? "past the response target" : "waiting time";
  top.append(wait);
  li.append(top, el("div", "last"));
  fillLatest(li, newest(summary) || { from: "customer", text: summary.preview || "" });
  if (mine) fillBadges(li, id);
  return li;
}

function fillLatest(li, message) {
  const last = li.querySelector(".last");
  last.replaceChildren(el("span", "from", `${message.from}:`), el("span", "", message.text || ""));
}

function fillBadges(li, id) {
  const count = state.unread.get(id) || 0;
  const badge = li.querySelector(".unread");
  if (badge) {
    badge.textContent = count ? String(count) : "";
    badge.hidden = !count;
    badge.title = `${count} unread`;
  }
  const due = li.querySelector(".due");
  if (due) {
    const left = state.dueAt.has(id) ? state.dueAt.get(id) - Date.now() / 1000 : null;
    due.hidden = left === null;
    if (left !== null) {
      due.textContent = `due ${clock(left)}`;
      due.title = "answer before this runs out, or the conversation goes back to the queue";
      due.classList.toggle("soon", left <= warningSeconds());
    }
  }
}

function renderList(list, summaries, mine) {
  const fragment = document.createDocumentFragment();
  for (const summary of summaries) {
    const li = card(summary, mine);
    state.cards.set(summary.conversation_id, li);
    fragment.append(li);
  }
  list.replaceChildren(fragment);
}

function renderLists(data) {
  state.mine = data.mine;
  state.waiting = data.waiting;
  state.cards.clear();
  const myIds = new Set(data.mine.map((s) => s.conversation_id));
  for (const id of state.unread.keys()) if (!myIds.has(id)) state.unread.delete(id);
  state.dueAt.clear();
  for (const s of data.mine) if (s.answer_due_at && !s.answered) state.dueAt.set(s.conversation_id, s.answer_due_at);
  renderList($("mine"), data.mine, true);
  renderList($("waiting"), data.waiting, false);
  const total = data.waiting_total ?? data.waiting.length;
  const matching = data.waiting_matching ?? total;
  $("showing").textContent = `showing ${data.waiting.length} of ${matching}`
    + (matching !== total ? ` (${total} waiting)` : "");
  renderFacets(data.facets || {});
  updateTitle();
  performance.mark("queue-rendered");
}

const FILTERS = { language: "All languages", channel: "All channels", reason: "All reasons", skill: "All skills" };

function renderFacets(facets) {
  for (const [name, label] of Object.entries(FILTERS)) {
    const select = $(`filter-${name}`);
    const chosen = select.value;
    const counts = facets[name] || {};
    const options = [new Option(label, "")];
    for (const [value, count] of Object.entries(counts).sort((a, b) => b[1] - a[1])) {
      options.push(new Option(`${value} (${count})`, value));
    }
    if (chosen && !(chosen in counts)) options.push(new Option(`${chosen} (0)`, chosen));
    select.replaceChildren(...options);
    select.value = chosen;
    select.hidden = !chosen && Object.keys(counts).length === 0;
  }
}

function queueQuery() {
  const query = new URLSearchParams({ limit: "500" });
  for (const name of Object.keys(FILTERS)) {
    const value = $(`filter-${name}`).value;
    if (value) query.set(name, value);
  }
  const text = $("search").value.trim();
  if (text) query.set("q", text);
  return query;
}

async function refreshLists() {
  renderLists(await api(`/api/queue?${queueQuery()}`));
}

// Websocket news comes in bursts: one request at most every REFRESH_GAP_MS, whatever the news.
function coalesced(task, gap) {
  let timer = null, last = 0, running = false, again = false;
  const run = async () => {
    timer = null;
    if (running) { again = true; return; }
    running = true;
    last = Date.now();
    try { await task(); } catch (error) { console.warn(error); } finally {
      running = false;
      if (again) { again = false; schedule(); }
    }
  };
  const schedule = () => {
    if (!timer) timer = setTimeout(run, Math.max(0, last + gap - Date.now()));
  };
  return schedule;
}
const scheduleRefresh = coalesced(refreshLists, REFRESH_GAP_MS);
const scheduleOverview = coalesced(() => (state.view === "overview" ? showOverview() : null), OVERVIEW_GAP_MS);

function updateTitle() {
  let total = 0;
  for (const s of state.mine) total += state.unread.get(s.conversation_id) || 0;
  document.title = total ? `(${total}) ${TITLE}` : TITLE;
}

function markRead(id) {
  state.unread.delete(id);
  const li = state.cards.get(id);
  if (li) fillBadges(li, id);
  updateTitle();
}

function isMine(id) {
  return state.mine.some((s) => s.conversation_id === id);
}

// ---- Sound and notifications -------------------------------------------------------------

function beep() {
  if (!$("sound").checked) return;
  try {
    state.audio = state.audio || new AudioContext();
    const oscillator = state.audio.createOscillator();
    const gain = state.audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, state.audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, state.audio.currentTime + 0.25);
    oscillator.connect(gain).connect(state.audio.destination);
    oscillator.start().catch((error) => {
  $("link").textContent = `the desk could not start: ${error.message}`;
  $("link").classList.add("down");
});
    oscillator.stop(state.audio.currentTime + 0.25);
  } catch (error) { console.warn("no sound:", error); }
}

function alertAgent(title, body, id) {
  beep();
  if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") return;
  const notification = new Notification(title, { body: body.slice(0, 140), tag: id });
  notification.onclick = () => { window.focus(); openConversation(id); notification.close(); };
}

function setUpAlerts() {
  $("sound").checked = localStorage.getItem(SOUND_KEY) === "on";
  $("sound").addEventListener("change", (e) => {
    localStorage.setItem(SOUND_KEY, e.target.checked ? "on" : "off");
    if (e.target.checked) { state.audio = state.audio || new AudioContext(); beep(); }
  });
  const askable = "Notification" in window && Notification.permission === "default"
    && !localStorage.getItem(NOTIFY_ASKED_KEY);
  $("notify").hidden = !askable;
  $("notify").addEventListener("click", async () => {
    localStorage.setItem(NOTIFY_ASKED_KEY, "yes");  // asked once, whatever the answer
    $("notify").hidden = true;
    await Notification.requestPermission();
  });
}

// ---- Answer deadlines and being marked away ----------------------------------------------

const warningSeconds = () => (state.me && state.me.answer_warning_seconds) || 30;

function tick() {
  for (const id of state.dueAt.keys()) {
    const li = state.cards.get(id);
    if (li) fillBadges(li, id);
  }
  const due = state.open && state.dueAt.get(state.open);
  const left = due ? due - Date.now() / 1000 : null;
  const warn = left !== null && left > 0 && left <= warningSeconds() && isMine(state.open);
  $("due-warning").hidden = !warn;
  if (warn) {
    $("due-warning").textContent = `Answer within ${clock(left)}: otherwise this conversation `
      + "goes back to the queue and you are marked away.";
  }
}

function markedAway(news) {
  state.marked.add(news.conversation_id);
  const count = state.marked.size;
  const timeout = minutes((state.me && state.me.answer_timeout_seconds) || 120);
  $("away-text").textContent = `You were marked away: ${count} conversation${count > 1 ? "s" : ""} `
    + `went back to the queue because ${count > 1 ? "they were" : "it was"} not answered in ${timeout}.`;
  $("away-banner").hidden = false;
  $("available").checked = false;
}

async function setAvailable(available) {
  await api("/api/presence", { available });
  $("available").checked = available;
  if (available) { state.marked.clear(); $("away-banner").hidden = true; }
}

// ---- Live news ---------------------------------------------------------------------------

function onMessage(news) {
  const id = news.conversation_id;
  const external = news.intent && news.text === `EXTERNAL: ${news.intent}`;  // from the desk
  let entry = null;
  if (news.event === "user" && !external && news.text) {
    entry = { from: "customer", text: news.text, at: news.at, intent: news.intent, sentiment: news.sentiment };
  } else if (news.event === "bot" && news.text) {
    const notice = news.notice || news.teranga_notice;
    entry = { from: notice ? "system" : (news.agent ? "agent" : "bot"), notice,
              name: news.agent_name || news.agent, text: news.text, at: news.at };
  } else if (news.event === "pause" || news.event === "resume") {
    entry = { from: "system", at: news.at, text: news.event === "pause" ? "an agent took over" : "back with the assistant" };
  }
  if (!entry) return;
  if (entry.from !== "system") {
    state.latest.set(id, { from: entry.from, text: entry.text.slice(0, 140), at: entry.at || Date.now() / 1000 });
    const li = state.cards.get(id);
    if (li) fillLatest(li, state.latest.get(id));
  }
  if (id === state.open) {
    showLine(entry);
    if (entry.from === "customer") scheduleSuggestions();
  }
  if (entry.from === "customer" && isMine(id)) {
    if (id !== state.open || document.hidden) {
      state.unread.set(id, (state.unread.get(id) || 0) + 1);
      const li = state.cards.get(id);
      if (li) fillBadges(li, id);
      updateTitle();
    }
    if (id !== state.open || document.hidden) alertAgent("New message", entry.text, id);
  }
}

function onNotice(news) {
  const me = state.me.id, id = news.conversation_id;
  if (news.kind === "note") {
    if (id === state.open) addNote(news);
    return;
  }
  if (news.kind === "answer_due_soon") {
    if (news.due_at) state.dueAt.set(id, news.due_at);
    tick();
    alertAgent("Answer soon", `Conversation ${id} goes back to the queue soon`, id);
    return;
  }
  scheduleRefresh();
  scheduleOverview();
  if (news.kind === "requeued" && news.marked_away && news.agent === me) markedAway(news);
  if (news.kind === "assigned" && news.agent === me && news.from_agent !== me) {
    alertAgent("New conversation", `Conversation ${id} is yours`, id);
  }
  const leftMe = news.kind === "assigned" && news.from_agent === me && news.agent !== me;
  if (leftMe) flash(`Conversation ${id} is now with ${agentName(news.agent)}.`);
  if (id === state.open && news.kind !== "queued") {
    if (leftMe && state.me.role !== "supervisor") closeView();
    else openConversation(id, { keepContext: true }).catch(() => closeView());
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.onopen = () => { $("link").textContent = "live"; $("link").classList.remove("down"); scheduleRefresh(); };
  socket.onclose = () => {
    $("link").textContent = "reconnecting…"; $("link").classList.add("down");
    setTimeout(connect, 2000);
  };
  socket.onmessage = (message) => {
    const news = JSON.parse(message.data);
    if (news.type === "message") onMessage(news);
    else if (news.type === "notice") onNotice(news);
  };
}

// ---- One conversation --------------------------------------------------------------------

function line(entry) {
  // The desk's own notices to the customer (joined, closed...) read as system lines.
  const notice = Boolean(entry.notice || entry.teranga_notice || entry.from === "notice");
  const li = el("li", notice || entry.from === "system" ? "system" : entry.from);
  const at = entry.at ? new Date(entry.at * 1000).toLocaleTimeString() : "";
  const label = entry.from === "agent" ? entry.name : entry.from;
  const extra = entry.from === "customer" && entry.intent ? ` · ${entry.intent}` : "";
  const lost = ["failed", "undelivered"].includes(entry.delivery);
  const delivery = lost ? " · NOT DELIVERED: the customer did not get this message"
    : (entry.delivery ? ` · ${entry.delivery}` : "");
  const mood = entry.sentiment && entry.sentiment.label ? ` · ${entry.sentiment.label}` : delivery;
  let who = `${label} · ${at}${extra}${mood}`;
  if (notice) who = `${at} · told the customer${delivery}`;
  else if (entry.from === "system") who = at;
  if (lost) li.classList.add("undelivered");
  li.append(el("small", "", who), el("span", "", entry.text));
  return li;
}

function showLine(entry) {
  $("transcript").append(line(entry));
  $("transcript").lastElementChild.scrollIntoView({ block: "end" });
}

function showView(view) {
  state.view = view;
  $("overview").hidden = view !== "overview";
  $("conversation").hidden = view !== "conversation" || !state.open;
  $("tab-overview").setAttribute("aria-selected", String(view === "overview"));
  $("tab-conversation").setAttribute("aria-selected", String(view === "conversation"));
  $("tab-conversation").disabled = !state.open;
}

function closeView() {
  if (state.open) state.drafts.set(state.open, $("reply").value);
  state.open = null;
  state.revealed = null;
  state.openData = null;
  for (const li of state.cards.values()) li.setAttribute("aria-selected", "false");
  showView(state.me.role === "supervisor" ? "overview" : "lists");
  if (state.me.role === "supervisor") scheduleOverview();
}

async function openConversation(id, { keepContext = false } = {}) {
  if (state.open && state.open !== id) state.drafts.set(state.open, $("reply").value);
  const switching = state.open !== id;
  state.open = id;
  if (switching) state.revealed = null;  // personal data stays shown only in its own chat
  $("error").textContent = "";
  const data = await api(path(id));
  if (state.open !== id) return;  // another chat was opened meanwhile
  state.openData = data;
  for (const [cardId, li] of state.cards) li.setAttribute("aria-selected", String(cardId === id));
  showView("conversation");
  renderConversation(data);
  if (switching) {
    $("reply").value = state.drafts.get(id) || "";
    closeMenu();
    $("wrap-up").hidden = true;
  }
  if (data.answer_due_at && !data.answered) state.dueAt.set(id, data.answer_due_at);
  markRead(id);
  tick();
  const loads = [loadCanned(data.language), loadTransferTargets(data)];
  if (switching || !keepContext) loads.push(loadContext(id));
  await Promise.all(loads);
}

function renderConversation(data) {
  const me = state.me;
  $("title").textContent = `${data.conversation_id} (${data.channel})`;
  const sentiment = data.sentiment && data.sentiment.label
    ? `${data.sentiment.label} (${Number(data.sentiment.score).toFixed(2)})` : "unknown";
  $("facts").textContent = `Language: ${data.language} · Why: ${data.reasons.join(", ")}`
    + (data.skill ? ` · Needs: ${data.skill}` : "") + ` · Sentiment: ${sentiment}`;
  const intents = (data.top_intents || []).map((i) => `${i.name} ${(i.confidence * 100).toFixed(0)}%`);
  $("guesses").textContent = `Bot's guesses: ${intents.join(", ") || "none"}`;
  $("transcript").replaceChildren(...data.transcript.map(line));
  if ($("transcript").lastElementChild) $("transcript").lastElementChild.scrollIntoView({ block: "end" });
  const mine = data.owner === `agent:${me.id}`;
  const heldByOther = Boolean(data.assigned_to) && data.assigned_to !== me.id;
  const supervisor = me.role === "supervisor";
  $("holder").hidden = !heldByOther;
  $("holder").textContent = heldByOther ? `Held by ${data.holder_name || agentName(data.assigned_to)}` : "";
  $("claim").hidden = data.owner !== "queued";
  for (const id of ["take-over", "reassign-to", "reassign"]) $(id).hidden = !(supervisor && heldByOther);
  for (const id of ["transfer", "transfer-to", "return", "close", "reply-form"]) $(id).hidden = !mine;
  $("note-form").hidden = false;
  if (!mine) state.revealed = null;
  $("reveal").hidden = !mine || state.revealed === data.conversation_id;
  if (state.revealed === data.conversation_id) revealPersonalData(data.conversation_id);
}

function showRevealedFacts() {
  const facts = $("summary").querySelector(".chips");
  if (facts && state.revealedFacts.length) facts.replaceWith(chips(state.revealedFacts, "fact"));
}

// The holder only; the desk records each time it is shown (who, which conversation, when).
async function revealPersonalData(id) {
  try {
    const revealed = await api(path(id, "reveal"), {});
    if (state.open !== id) return;
    state.revealed = id;
    state.revealedFacts = revealed.facts || [];
    $("reveal").hidden = true;
    $("transcript").replaceChildren(...revealed.transcript.map(line));
    if ($("transcript").lastElementChild) $("transcript").lastElementChild.scrollIntoView({ block: "end" });
    showRevealedFacts();
  } catch (error) {
    $("error").textContent = `Personal data not shown: ${error.message}`;
  }
}

async function loadCanned(language) {
  if (!state.canned.has(language)) state.canned.set(language, await api(`/api/canned/${language}`));
}

async function loadTransferTargets(data) {
  const agents = await api("/api/agents");
  for (const a of agents) state.agents.set(a.id, a.name);
  const others = agents.filter((a) => a.id !== state.me.id && a.id !== data.assigned_to);
  const agentOptions = () => others.map((a) => new Option(
    `${a.name}${a.online ? "" : " (offline)"} · ${a.languages.join("/")}`, `agent:${a.id}`));
  // The conversation's own queue is listed last, never chosen by default.
  const languages = state.me.all_languages.filter((l) => l !== data.language)
    .map((l) => new Option(`${l} queue`, `queue:${l}`));
  const own = new Option(`back to the ${data.language} queue`, `queue:${data.language}`);
  $("transfer-to").replaceChildren(new Option("Transfer to…", ""), ...agentOptions(), ...languages, own);
  $("transfer").disabled = true;
  $("reassign-to").replaceChildren(new Option("Reassign to…", ""), ...agentOptions());
  $("reassign").disabled = true;
}

// ---- Context: summary, knowledge base, history, notes ------------------------------------

async function loadContext(id) {
  const [context] = await Promise.allSettled([api(path(id, "context")), loadSuggestions(id)]);
  if (state.open !== id) return;
  if (context.status === "fulfilled") {
    renderSummary(context.value.summary || {});
    if (state.revealed === id) showRevealedFacts();
    renderHistory(context.value.history || []);
    state.notes.clear();
    $("notes").replaceChildren();
    for (const note of context.value.notes || []) addNote(note);
  } else {
    $("summary").replaceChildren(el("p", "muted", `No summary: ${context.reason.message}`));
    $("history").replaceChildren();
    $("notes").replaceChildren();
  }
}

// The articles for the customer's latest message: asked again when they write.
async function loadSuggestions(id) {
  try {
    const suggestions = await api(path(id, "suggestions"));
    if (state.open === id) renderSuggestions(suggestions.articles || []);
  } catch (error) {
    if (state.open === id) $("suggestions").replaceChildren(el("li", "muted", `No suggestions: ${error.message}`));
  }
}
const scheduleSuggestions = coalesced(() => state.open && loadSuggestions(state.open), 2000);

function chips(values, title) {
  const box = el("div", "chips");
  for (const value of values) {
    const chip = el("span", "chip", typeof value === "string" ? value : value.text);
    if (typeof value !== "string") chip.title = value.kind;
    if (title) chip.dataset.kind = typeof value === "string" ? title : value.kind;
    box.append(chip);
  }
  return box;
}

function renderSummary(summary) {
  const parts = [];
  parts.push(el("p", "", summary.wants ? `Wants: ${summary.wants}` : "Wants: not clear yet"));
  if ((summary.tried || []).length) parts.push(el("p", "", `Bot tried: ${summary.tried.join("; ")}`));
  if ((summary.why || []).length) parts.push(el("p", "", `Handed over: ${summary.why.join("; ")}`));
  if ((summary.facts || []).length) parts.push(chips(summary.facts, "fact"));
  $("summary").replaceChildren(...parts);
}

function renderSuggestions(articles) {
  if (!articles.length) {
    $("suggestions").replaceChildren(el("li", "muted", "Nothing close in the knowledge base."));
    return;
  }
  $("suggestions").replaceChildren(...articles.map((article) => {
    const li = el("li");
    const insert = el("button", "insert", "Insert");
    insert.type = "button";
    insert.title = "Put this text in the reply box, to edit before sending";
    insert.addEventListener("click", () => insertIntoReply(article.text));
    li.append(el("strong", "", article.title), el("p", "", article.text), insert);
    return li;
  }));
}

function renderHistory(history) {
  if (!history.length) {
    $("history").replaceChildren(el("li", "muted", "None."));
    return;
  }
  $("history").replaceChildren(...history.map((h) => {
    const li = el("li");
    const when = h.started_at ? new Date(h.started_at * 1000).toLocaleDateString() : "";
    li.append(el("span", "", [when, h.channel, h.agent_name || "bot only", h.wrap_up || "no wrap-up"]
      .filter(Boolean).join(" · ")));
    if ((h.tags || []).length) li.append(chips(h.tags));
    if (h.preview) li.append(el("small", "muted", ` ${h.preview}`));
    li.title = h.conversation_id;
    return li;
  }));
}

function addNote(note) {
  if (note.id && state.notes.has(note.id)) return;
  state.notes.set(note.id || `${note.at}`, true);
  const li = el("li", "", note.text);
  const at = note.at ? new Date(note.at * 1000).toLocaleString() : "";
  li.prepend(el("small", "", `${note.name || note.agent} · ${at} · internal`));
  $("notes").append(li);
}

function insertIntoReply(text) {
  const box = $("reply");
  box.value = box.value.trim() ? `${box.value.trimEnd()}\n${text}` : text;
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
}

// ---- Canned replies: "/" at the start of the reply, then type to search --------------------

function fillPlaceholders(text) {
  const values = { agent: state.me.name, agent_first_name: state.me.name.split(" ")[0] };
  return text.replace(/\{(\w+)\}/g, (whole, name) => values[name] ?? whole);
}

function openMenu(query) {
  const replies = (state.openData && state.canned.get(state.openData.language)) || [];
  const q = query.toLowerCase();
  state.menu.items = replies.filter((r) => `${r.title}\n${r.text}`.toLowerCase().includes(q));
  state.menu.index = 0;
  renderMenu();
}

function renderMenu() {
  const menu = $("canned-menu");
  menu.hidden = false;
  if (!state.menu.items.length) { menu.replaceChildren(el("li", "muted", "No canned reply matches")); return; }
  menu.replaceChildren(...state.menu.items.map((reply, index) => {
    const li = el("li", "", reply.title);
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(index === state.menu.index));
    li.append(el("small", "", fillPlaceholders(reply.text)));
    li.addEventListener("mousedown", (e) => { e.preventDefault(); chooseCanned(index); });
    return li;
  }));
  const chosen = menu.children[state.menu.index];
  if (chosen) chosen.scrollIntoView({ block: "nearest" });
}

function closeMenu() { $("canned-menu").hidden = true; state.menu.items = []; }
const menuOpen = () => !$("canned-menu").hidden;

function chooseCanned(index) {
  const reply = state.menu.items[index];
  closeMenu();
  if (!reply) return;
  $("reply").value = fillPlaceholders(reply.text);
  $("reply").focus();
}

function onReplyKey(e) {
  if (menuOpen()) {
    const count = state.menu.items.length;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (count) state.menu.index = (state.menu.index + (e.key === "ArrowDown" ? 1 : count - 1)) % count;
      renderMenu();
      return;
    }
    if (e.key === "Enter") { e.preventDefault(); chooseCanned(state.menu.index); return; }
    if (e.key === "Escape") { e.preventDefault(); closeMenu(); return; }
  }
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey) {
    e.preventDefault();
    sendReply();
  } else if (e.key === "Enter" && e.ctrlKey) {
    e.preventDefault();
    sendReply();
  }
}

async function sendReply() {
  const id = state.open;
  const text = $("reply").value.trim();
  if (!text || !id || $("send").disabled) return;
  $("send").disabled = true;
  try {
    await api(path(id, "reply"), { text });
    if (state.open === id) $("reply").value = "";  // kept on failure: nothing typed is lost
    state.drafts.delete(id);
    state.dueAt.delete(id);
    tick();
    $("error").textContent = "";
  } catch (error) {
    $("error").textContent = error.message;
    scheduleRefresh();  // taken over or re-queued meanwhile: the lists say so
  } finally {
    $("send").disabled = false;
  }
}

// ---- Moves -------------------------------------------------------------------------------

async function act(id, action, body = {}) {
  $("error").textContent = "";
  try {
    await api(path(id, action), body);
    const stays = ["claim", "take_over"].includes(action);
    if (!stays && state.open === id) closeView();
    else if (stays && state.open === id) await openConversation(id, { keepContext: true });
    scheduleRefresh();
    scheduleOverview();
  } catch (error) {
    if (state.open === id) $("error").textContent = error.message;
    else flash(`${id}: ${error.message}`);
  }
}

function startWrapUp(action) {
  const codes = state.me.wrap_up_codes || [];
  $("wrap-up").dataset.action = action;
  $("wrap-up-title").textContent = action === "close" ? "Close this conversation?" : "Return it to the bot?";
  $("wrap-up-code").replaceChildren(new Option("— no wrap-up code —", ""),
    ...codes.map((c) => new Option(c.label || c.code, c.code)));
  $("wrap-up-code").parentElement.hidden = codes.length === 0;
  $("wrap-up-tags").value = "";
  $("wrap-up").hidden = false;
  (codes.length ? $("wrap-up-code") : $("wrap-up-confirm")).focus();
}

function confirmWrapUp(e) {
  e.preventDefault();
  const action = $("wrap-up").dataset.action;
  const id = state.open;
  const tags = $("wrap-up-tags").value.split(",").map((t) => t.trim().slice(0, 32)).filter(Boolean).slice(0, 5);
  const body = {};
  if ($("wrap-up-code").value) body.wrap_up = $("wrap-up-code").value;
  if (tags.length) body.tags = tags;
  $("wrap-up").hidden = true;
  cancelPending();
  let left = UNDO_SECONDS;
  const verb = action === "close" ? "Closing" : "Returning to the bot";
  const say = () => { $("undo-text").textContent = `${verb}: ${id} in ${left} s.`; };
  say();
  $("undo-bar").hidden = false;
  $("undo").focus();
  const countdown = setInterval(() => { left -= 1; say(); }, 1000);
  const timer = setTimeout(() => {
    clearInterval(countdown);
    state.pending = null;
    $("undo-bar").hidden = true;
    act(id, action, body);
  }, UNDO_SECONDS * 1000);
  state.pending = { timer, countdown };
}

function cancelPending() {
  if (!state.pending) return;
  clearTimeout(state.pending.timer);
  clearInterval(state.pending.countdown);
  state.pending = null;
  $("undo-bar").hidden = true;
}

// ---- Supervisors' overview ---------------------------------------------------------------

function row(cells, openId) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = el("td", cell && cell.className, cell && typeof cell === "object" ? cell.text : String(cell ?? ""));
    if (cell && cell.title) td.title = cell.title;
    tr.append(td);
  }
  if (openId) {
    tr.tabIndex = 0;
    tr.dataset.id = openId;
    tr.addEventListener("click", () => openConversation(openId));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") openConversation(openId); });
  }
  return tr;
}

function fillTable(table, rows, empty) {
  if (rows.length) { table.tBodies[0].replaceChildren(...rows); return; }
  const td = el("td", "muted", empty);
  td.colSpan = table.tHead.rows[0].cells.length;
  const tr = document.createElement("tr");
  tr.append(td);
  table.tBodies[0].replaceChildren(tr);
}

const holder = (s) => s.holder_name || (s.assigned_to ? agentName(s.assigned_to) : "waiting");
const idCell = (s) => ({ text: shortId(s), title: s.conversation_id });

async function showOverview() {
  const data = await api("/api/overview");
  showView("overview");
  const live = data.live || [];
  $("live-count").textContent = data.live ? `${live.length}` : "(not available)";
  fillTable($("live"), live.map((s) => row([
    idCell(s), holder(s), s.language, s.channel,
    { text: minutes(s.waiting_seconds), className: s.overdue ? "late" : "" },
    (newest(s) || { text: s.preview }).text], s.conversation_id)), "No conversation with a person.");
  fillTable($("queues"), Object.entries(data.languages).map(([language, q]) =>
    row([language, q.waiting, minutes(q.longest_wait), q.upset])), "Nobody waiting.");
  $("agents").tBodies[0].replaceChildren(...data.agents.map((a) => row([
    `${a.name} (${a.role})`, a.status || (a.available ? "available" : (a.online ? "away" : "offline")),
    `${a.load} / ${a.max_conversations}`, a.languages.join(", "),
    `${a.satisfaction.yes} yes / ${a.satisfaction.no} no`])));
  fillTable($("dead-letters"), data.dead_letters.map((d) => row([
    new Date(d.at * 1000).toLocaleString(), d.channel, d.recipient, d.text, d.error])), "None.");
  fillTable($("attention"), data.attention.map((c) => row([
    idCell(c), c.language, holder(c), { text: minutes(c.waiting_seconds), className: c.overdue ? "late" : "" },
    [c.overdue ? "past response time" : "", ...c.requeues.map((r) => `${r.agent}: ${r.why}`)].filter(Boolean).join("; ")],
  c.conversation_id)), "Nothing needs attention.");
  showWarnings(data.warnings || [], data.warning_window_hours);
  // once: the overview refreshes every second, the audit when the supervisor asks
  if (!$("audit").tBodies[0].rows.length) await showAudit();
}

// A rise above the usual level (the analytics store's early warnings, insights.js draws
// them as on the Insights page), with the way to the page; nothing when all is calm.
function showWarnings(warnings, hours) {
  const box = $("early-warnings");
  box.hidden = !warnings.length;
  if (!warnings.length) return;
  const more = el("a", "", "Open Insights");
  more.href = "/insights";
  box.replaceChildren(earlyWarnings(warnings, hours), more);
}

// Who did what to which conversation (GET /api/audit): loaded with the overview and on demand.
async function showAudit() {
  const conversation = $("audit-conversation").value.trim();
  const query = conversation ? `?conversation_id=${encodeURIComponent(conversation)}` : "";
  try {
    const data = await api(`/api/audit${query}`);
    fillTable($("audit"), data.entries.map((a) => row([
      a.at ? new Date(a.at * 1000).toLocaleString() : "", a.actor, a.action,
      a.conversation_id, a.detail || ""])), "Nothing recorded.");
  } catch (error) {
    fillTable($("audit"), [], `Audit not available: ${error.message}`);
  }
}

// ---- Keyboard ----------------------------------------------------------------------------

const SHORTCUTS = [
  ["Enter (or Ctrl+Enter)", "send the reply"], ["Shift+Enter", "new line in the reply"],
  ["/", "at the start of the reply: canned replies (type to search, ↑/↓, Enter inserts, Esc closes)"],
  ["Alt+↑ / Alt+↓", "previous / next of my conversations"], ["Alt+1 … Alt+9", "my n-th conversation"],
  ["Alt+C", "claim the open conversation"], ["Alt+R", "go to the reply box"],
  ["Alt+O", "supervisors: the overview"],
  ["Tab, Enter", "reach a conversation in the lists, open it (↑/↓ move in a list)"],
  ["?", "this help"], ["Esc", "close this help, the canned replies or the wrap-up"],
];

function showHelp() {
  $("help-list").replaceChildren(...SHORTCUTS.flatMap(([keys, what]) => [el("dt", "", keys), el("dd", "", what)]));
  if (!$("help").open) $("help").showModal();
}

function moveInMine(step, index = null) {
  const ids = state.mine.map((s) => s.conversation_id);
  if (!ids.length) return;
  const at = ids.indexOf(state.open);
  const next = index !== null ? index : (at === -1 ? (step > 0 ? 0 : ids.length - 1) : (at + step + ids.length) % ids.length);
  if (ids[next]) openConversation(ids[next]).then(() => $("reply-form").hidden || $("reply").focus());
}

function onKey(e) {
  if (e.altKey && !e.ctrlKey && !e.metaKey) {
    const digit = /^Digit([1-9])$/.exec(e.code);
    const handled = {
      ArrowUp: () => moveInMine(-1), ArrowDown: () => moveInMine(1),
      KeyC: () => { if (state.open && !$("claim").hidden) act(state.open, "claim"); },
      KeyR: () => { if (!$("reply-form").hidden) $("reply").focus(); },
      KeyO: () => { if (state.me.role === "supervisor") showOverview(); },
    }[e.code] || (digit && (() => moveInMine(0, Number(digit[1]) - 1)));
    if (handled) { e.preventDefault(); handled(); }
    return;
  }
  if (e.key === "?" && !isTyping(e.target)) { e.preventDefault(); showHelp(); return; }
  if (e.key === "Escape") {
    if (!$("wrap-up").hidden) $("wrap-up").hidden = true;
    closeMenu();
  }
}

function onCardKey(e) {
  const li = e.target.closest("li[data-id]");
  if (!li) return;
  if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openConversation(li.dataset.id); }
  if (e.key === "ArrowDown" && li.nextElementSibling) { e.preventDefault(); li.nextElementSibling.focus(); }
  if (e.key === "ArrowUp" && li.previousElementSibling) { e.preventDefault(); li.previousElementSibling.focus(); }
}

// ---- Start -------------------------------------------------------------------------------

function wire() {
  for (const list of [$("mine"), $("waiting")]) {
    list.addEventListener("click", (e) => {
      const li = e.target.closest("li[data-id]");
      if (li) openConversation(li.dataset.id);
    });
    list.addEventListener("keydown", onCardKey);
  }
  $("available").addEventListener("change", (e) => setAvailable(e.target.checked));
  $("back").addEventListener("click", () => setAvailable(true));
  $("tab-overview").addEventListener("click", showOverview);
  $("tab-conversation").addEventListener("click", () => state.open && showView("conversation"));
  $("show-help").addEventListener("click", showHelp);
  $("claim").addEventListener("click", () => act(state.open, "claim"));
  $("take-over").addEventListener("click", () => act(state.open, "take_over"));
  $("reveal").addEventListener("click", () => state.open && revealPersonalData(state.open));
  $("audit-form").addEventListener("submit", (e) => { e.preventDefault(); showAudit(); });
  $("reassign-to").addEventListener("change", (e) => { $("reassign").disabled = !e.target.value; });
  $("reassign").addEventListener("click", () => {
    const target = $("reassign-to").value.split(":")[1];
    if (target) act(state.open, "transfer", { agent: target });
  });
  $("transfer-to").addEventListener("change", (e) => { $("transfer").disabled = !e.target.value; });
  $("transfer").addEventListener("click", () => {
    const [kind, target] = $("transfer-to").value.split(":");
    if (target) act(state.open, "transfer", kind === "agent" ? { agent: target } : { language: target });
  });
  $("return").addEventListener("click", () => startWrapUp("return"));
  $("close").addEventListener("click", () => startWrapUp("close"));
  $("wrap-up").addEventListener("submit", confirmWrapUp);
  $("wrap-up-cancel").addEventListener("click", () => { $("wrap-up").hidden = true; });
  $("undo").addEventListener("click", cancelPending);
  $("reply").addEventListener("keydown", onReplyKey);
  $("reply").addEventListener("input", (e) => {
    const value = e.target.value;
    if (value.startsWith("/") && !value.includes("\n")) openMenu(value.slice(1));
    else if (menuOpen()) closeMenu();
  });
  $("reply").addEventListener("blur", () => setTimeout(closeMenu, 150));
  $("reply-form").addEventListener("submit", (e) => { e.preventDefault(); sendReply(); });
  $("note-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("note-text").value.trim();
    const id = state.open;
    if (!text || !id) return;
    try {
      const { note } = await api(path(id, "notes"), { text });
      $("note-text").value = "";
      if (state.open === id) addNote(note);
    } catch (error) { $("error").textContent = `Note not saved: ${error.message}`; }
  });
  let searchTimer = null;
  $("search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(scheduleRefresh, SEARCH_DELAY_MS);
  });
  for (const name of Object.keys(FILTERS)) $(`filter-${name}`).addEventListener("change", scheduleRefresh);
  document.addEventListener("keydown", onKey);
  document.addEventListener("visibilitychange", () => { if (!document.hidden && state.open) markRead(state.open); });
}

async function start() {
  const [me, agents] = await Promise.all([  // together: the first render waits for both
    api("/api/me"), api("/api/agents").catch(() => [])]);
  state.me = me;
  $("me").textContent = `${me.name} (${me.role}; ${me.languages.join(", ")})`;
  const supervisor = me.role === "supervisor";
  $("available-box").hidden = supervisor;  // supervisors are never given conversations
  $("available").checked = Boolean(me.available);
  $("tabs").hidden = !supervisor;
  setUpAlerts();
  wire();
  for (const a of agents) state.agents.set(a.id, a.name);
  await refreshLists();
  if (supervisor) await showOverview();
  connect();
  setInterval(tick, 1000);
  setInterval(scheduleRefresh, 30000);  // waiting times move on without news
  setInterval(scheduleOverview, 10000);
}

start().catch((error) => {
  $("link").textContent = `the desk could not start: ${error.message}`;
  $("link").classList.add("down");
});
