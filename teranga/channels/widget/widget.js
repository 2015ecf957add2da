// Teranga's web chat widget: one script tag,
//   <script src="https://bot.example.com/webhooks/socketio/widget.js"></script>
// with optional attributes: data-title (the panel's title), data-color (the accent colour),
// data-lang (the page's language), data-open="true" (open at first visit), data-server.
// A round launcher at the bottom right opens the panel (full screen under 480 px, fitted to
// the visual viewport so that the keyboard hides neither header nor input); open or closed
// is kept across reloads. Its texts are data (chat_labels/<code>.yml), which the server
// writes in below: the language is data-lang's, else <html lang>'s, else the browser's, else
// the default; the page's (data-lang, <html lang>) goes with each message (customData).
// It speaks Rasa's socket.io protocol over a plain WebSocket (Engine.IO 4, Socket.IO 5),
// so no library is downloaded. Replies, the agent's included, are shown as text; buttons
// send their payload. The conversation survives a reload (session id in localStorage).
//
// Nothing is lost on a weak network. Each message gets a random client id and waits in
// localStorage until the server acknowledges it (a Socket.IO ack), shown "Sending…", then
// "Sent", or "Not sent" with a button to try again (refused, or no ack after TRIES sends, or
// older than STALE_MS). Waiting messages go out in order, one at a time, when the socket is
// up; the server ignores a repeated client id. While the socket is down the widget says
// "Reconnecting…" and tries again with backoff and jitter; once back (or after a reload) it
// asks for what it missed, `session_request {session_id, after: <last transcript id>}`,
// and shows the server's transcript, each message once (by transcript id and client id).
(function () {
  "use strict";
  const script = document.currentScript, opts = script.dataset;
  const server = opts.server || new URL(script.src).origin;
  const SESSION = "teranga_session", PENDING = "teranga_pending", OPEN = "teranga_open";
  const RESEND_MS = 10000;  // no ack on an open socket: send it again
  const TRIES = 6;  // sends without an answer before a message is "not sent"
  const STALE_MS = 30 * 60000;  // not sent by itself after this: the conversation moved on
  const MAX_BACKOFF_MS = 30000;
  const TYPING_MS = 20000;  // the typing dots go after this, if no reply came
  // {default, languages: {<code>: {<key>: text}}}: chat_labels/, written in by the server
  const LABELS = {/*labels*/};
  const known = LABELS.languages || {};
  const pick = (...tags) => tags.map((tag) => String(tag || "").toLowerCase().split(/[-_]/)[0])
    .find((code) => known[code]);
  // The page's own language (script tag, <html lang>) goes with each message: the language
  // detector starts from it. The browser's is the phone's setting, not what its owner writes:
  // it only picks the texts.
  const PAGE_LANG = pick(opts.lang, document.documentElement.lang);
  const LANG = PAGE_LANG || pick(navigator.language) || LABELS.default;
  const T = known[LANG] || {};
  const TITLE = opts.title || "SunuTel";
  let socket = null, ready = false, attempts = 0, pingMs = 20000, ackNo = 0;
  let retryTimer = 0, aliveTimer = 0, resendTimer = 0, holdTimer = 0, holdUntil = 0;
  let sessionId = read(SESSION), lastId = null, inflight = null, typingTimer = 0, botAt = 0;
  const seen = new Set(), items = new Map(), acks = new Map();
  let pending = [];
  try { pending = JSON.parse(read(PENDING)) || []; } catch (e) { pending = []; }
  pending = pending.filter((m) => Date.now() - m.at < 86400000);  // a day-old "not sent" goes

  function read(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function write(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* kept in memory */ } }
  function save() {
    write(PENDING, JSON.stringify(pending.map(({ cid, text, shown, at, state }) =>
      ({ cid, text, shown, at, state }))));
  }

  const style = document.createElement("style");
  style.textContent = `
    #teranga-chat, #teranga-open { --tc: #1d5c4d; font-family: system-ui, sans-serif;
      z-index: 9999; box-sizing: border-box; }
    #teranga-open { position: fixed; right: 1rem; bottom: 1rem; width: 3.5rem; height: 3.5rem;
      border: 0; border-radius: 50%; background: var(--tc); color: #fff; line-height: 0;
      box-shadow: 0 2px 10px #0004; cursor: pointer; }
    #teranga-open.unread::after { content: ""; position: absolute; top: .2rem; right: .2rem;
      width: .8rem; height: .8rem; border-radius: 50%; background: #e23; }
    #teranga-chat { position: fixed; right: 1rem; bottom: 1rem; width: 22rem;
      max-width: calc(100vw - 2rem); height: 30rem; max-height: calc(100vh - 2rem);
      max-height: calc(100dvh - 2rem); box-shadow: 0 2px 16px #0003; border-radius: 10px;
      background: #fff; display: flex; flex-direction: column; overflow: hidden; }
    #teranga-chat.vv { max-height: calc(var(--vh) - 2rem); }
    #teranga-chat[hidden], #teranga-open[hidden], #teranga-chat [hidden] {
      display: none !important; }
    @media (max-width: 480px) {
      #teranga-chat { left: 0; right: 0; top: 0; bottom: auto; width: 100%; max-width: none;
        height: 100vh; height: 100dvh; max-height: none; border-radius: 0; }
      #teranga-chat.vv { top: var(--vt); height: var(--vh); max-height: none; }
    }
    #teranga-chat header { display: flex; align-items: center; background: var(--tc);
      color: #fff; padding: .3rem .3rem .3rem .8rem; font-weight: bold; flex: none; }
    #teranga-chat header b { flex: 1; }
    #teranga-chat header button { font-size: 1.4rem; line-height: 1; padding: .3rem .7rem;
      background: none; }
    #teranga-chat .status { margin: 0; padding: .3rem .8rem; background: #fff4ce; color: #5c4400;
      font-size: .85rem; flex: none; }
    #teranga-chat .status:empty { padding: 0; }  /* kept in place: a live region */
    #teranga-chat .scroll { flex: 1; overflow-y: auto; padding: .5rem; min-height: 0; }
    #teranga-chat ol { list-style: none; margin: 0; padding: 0; }
    #teranga-chat li, #teranga-chat .hello { margin: .3rem 0; padding: .4rem .6rem;
      border-radius: 8px; max-width: 85%; white-space: pre-wrap; overflow-wrap: anywhere; }
    #teranga-chat li::after { content: attr(data-time); display: block; color: #555;
      font-size: .65rem; text-align: right; }
    #teranga-chat li.me { background: #d5efe3; margin-left: auto; }
    #teranga-chat li.bot, #teranga-chat .hello { background: #eee; }
    #teranga-chat li.agent { background: #e3ecfa; }
    #teranga-chat li small { display: block; color: #555; font-size: .7rem; }
    #teranga-chat li .state { display: block; margin: .2rem 0 0 auto; padding: 0; border: 0;
      background: none; color: #555; font-size: .7rem; text-align: right; }
    #teranga-chat li[data-state=failed] { background: #fde2e1; }
    #teranga-chat li[data-state=failed] .state { color: #a00; text-decoration: underline;
      cursor: pointer; }
    #teranga-chat .typing { display: inline-flex; gap: .25rem; padding: .6rem; margin: .3rem 0;
      background: #eee; border-radius: 8px; }
    #teranga-chat .typing i { width: .45rem; height: .45rem; border-radius: 50%;
      background: #777; animation: teranga-dot 1s infinite; }
    #teranga-chat .typing i:nth-child(2) { animation-delay: .2s; }
    #teranga-chat .typing i:nth-child(3) { animation-delay: .4s; }
    @keyframes teranga-dot { 50% { opacity: .2; } }
    #teranga-chat form { display: flex; border-top: 1px solid #ddd; flex: none; }
    #teranga-chat input { flex: 1; min-width: 0; border: 0; padding: .7rem; font-size: 1rem; }
    #teranga-chat button { border: 0; background: var(--tc); color: #fff; padding: 0 .9rem;
      cursor: pointer; }
    #teranga-chat .choices button { margin: .2rem .3rem 0 0; padding: .3rem .6rem;
      border-radius: 12px; }
    #teranga-chat :focus-visible, #teranga-open:focus-visible { outline: 3px solid #f2a900;
      outline-offset: -3px; }
    #teranga-open:focus-visible { outline-offset: 2px; }`;
  document.head.append(style);

  const launcher = document.createElement("button");
  launcher.id = "teranga-open";
  launcher.type = "button";
  launcher.innerHTML = '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">' +
    '<path fill="currentColor" d="M6 3h12a3 3 0 0 1 3 3v8a3 3 0 0 1-3 3h-7l-5 4v-4H6a3 3 0 0 ' +
    '1-3-3V6a3 3 0 0 1 3-3z"/></svg>';
  const panel = document.createElement("section");
  panel.id = "teranga-chat";
  panel.setAttribute("role", "dialog");
  panel.innerHTML = '<header><b></b><button type="button" class="min">–</button></header>' +
    '<p class="status" role="status"></p><div class="scroll"><p class="hello"></p>' +
    '<ol role="log" aria-live="polite"></ol><div class="typing" role="img" hidden>' +
    '<i></i><i></i><i></i></div></div><form><input autocomplete="off" maxlength="2000">' +
    '<button type="submit">➤</button></form>';
  for (const el of [launcher, panel]) {
    el.style.setProperty("--tc", opts.color || "#1d5c4d");
    el.lang = LANG;  // read out in the language of its texts, whatever the page's
  }
  document.body.append(launcher, panel);
  const $ = (selector) => panel.querySelector(selector);
  const list = $("ol"), input = $("input"), statusLine = $(".status"), scroller = $(".scroll");
  const hello = $(".hello"), typing = $(".typing"), minimise = $(".min");
  $("header b").textContent = TITLE;
  hello.textContent = T.greeting || "";
  const labelled = [[panel, TITLE], [launcher, T.open], [minimise, T.minimise],
                    [input, T.message], [$("form button"), T.send], [typing, T.typing]];
  for (const [el, text] of labelled) el.setAttribute("aria-label", text || "");
  input.placeholder = T.placeholder || "";
  launcher.setAttribute("aria-controls", panel.id);

  function show(open, focus) {  // the panel or the launcher; focus follows when asked
    panel.hidden = !open;
    launcher.hidden = open;
    launcher.setAttribute("aria-expanded", String(open));
    write(OPEN, open ? "1" : "0");
    if (open) {
      launcher.classList.remove("unread");
      scroller.scrollTop = scroller.scrollHeight;
    }
    if (focus) (open ? input : launcher).focus();
  }
  launcher.addEventListener("click", () => show(true, true));
  minimise.addEventListener("click", () => show(false, true));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") show(false, true);
  });
  const stored = read(OPEN);
  show(stored ? stored === "1" : opts.open === "true", false);

  const view = window.visualViewport;  // the part of the page the keyboard leaves visible
  function fit() {
    panel.style.setProperty("--vh", view.height + "px");
    panel.style.setProperty("--vt", view.offsetTop + "px");
  }
  if (view) {
    panel.classList.add("vv");
    view.addEventListener("resize", fit);
    view.addEventListener("scroll", fit);
    fit();
  }

  function clock(ms) {  // HH:MM in the browser's locale
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit",
                                                 hourCycle: "h23" });
  }

  function when(entry) {  // a server message's time: its own, its transcript id's, or now
    const t = entry.timestamp;
    if (typeof t === "number") return t < 1e12 ? t * 1000 : t;
    if (typeof t === "string" && !isNaN(Date.parse(t))) return Date.parse(t);
    const ms = Number(String(entry.id || "").split("-")[0]);
    return ms > 0 ? ms : Date.now();
  }

  function dots(on) {  // the typing indicator, until a reply or TYPING_MS
    clearTimeout(typingTimer);
    typing.hidden = !on;
    if (on) {
      typingTimer = setTimeout(() => dots(false), TYPING_MS);
      scroller.scrollTop = scroller.scrollHeight;
    }
  }

  function bubble(kind, text, who, at) {
    const item = document.createElement("li");
    item.className = kind;
    item.dataset.time = clock(at || Date.now());
    if (who) {
      const label = document.createElement("small");
      label.textContent = who;
      item.append(label);
    }
    item.append(document.createTextNode(text));  // never HTML: what people type stays text
    return item;
  }

  function place(item, last) {  // the server's messages go above the ones still sending
    list.insertBefore(item, last ? null : list.querySelector('li[data-state="sending"]'));
    hello.hidden = true;  // the greeting is for an empty conversation
    scroller.scrollTop = scroller.scrollHeight;
  }

  function note(item, state, retry) {  // what became of one of the customer's messages
    item.dataset.state = state;
    const old = item.querySelector(".state");
    if (old) old.remove();
    const line = document.createElement(retry ? "button" : "small");
    line.className = "state";
    line.textContent = T[state];
    if (retry) {
      line.type = "button";
      line.addEventListener("click", retry);
    }
    item.append(line);
  }

  function mark(m, state) {
    m.state = state;
    const item = items.get(m.cid);
    note(item, state, state === "failed" && (() => {
      m.at = Date.now();
      m.tries = 0;
      place(item, true);  // it goes out now, after the rest
      mark(m, "sending");
      save();
      flush();
    }));
  }

  function mine(m) {
    const item = bubble("me", m.shown, "", m.at);
    item.dataset.cid = m.cid;
    items.set(m.cid, item);
    place(item, true);
    mark(m, m.state);
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return Array.from(crypto.getRandomValues(new Uint8Array(16)),
                      (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function say(text, shown) {
    const m = { cid: newId(), text, shown: shown || text, at: Date.now(), state: "sending" };
    pending.push(m);
    save();
    mine(m);
    flush();
  }

  function settle(m) {
    pending = pending.filter((p) => p !== m);
    save();
    mark(m, "sent");
  }

  function later(a, b) {  // transcript (Redis stream) ids: "<ms>-<seq>"
    if (!b) return true;
    const [am, as] = a.split("-").map(Number), [bm, bs] = b.split("-").map(Number);
    return am > bm || (am === bm && as > bs);
  }

  function showServer(entry) {  // a live bot_uttered or a transcript entry, once each
    if (!entry) return;
    if (entry.id) {
      if (seen.has(entry.id)) return;
      seen.add(entry.id);
      if (later(entry.id, lastId)) lastId = entry.id;
    }
    if (entry.from === "customer") {
      const m = pending.find((p) => p.cid === entry.client_id);
      if (m) settle(m);
      else if (!items.has(entry.client_id)) {  // said before this page, or on another one
        const item = bubble("me", entry.text || "", "", when(entry));
        note(item, "sent");
        place(item);
      }
      return;
    }
    const agent = entry.agent || entry.from === "agent";
    const item = bubble(agent ? "agent" : "bot", entry.text || "",
                        entry.agent_name || entry.agent || "", when(entry));
    botAt = Date.now();
    dots(false);
    if (panel.hidden) launcher.classList.add("unread");
    const choices = entry.quick_replies || entry.buttons || [];
    if (choices.length) {
      const row = document.createElement("div");
      row.className = "choices";
      for (const choice of choices) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = choice.title;
        button.addEventListener("click", () => say(choice.payload, choice.title));
        row.append(button);
      }
      item.append(row);
    }
    place(item);
  }

  function flush() {  // the oldest waiting message, one at a time, in order
    if (!ready || inflight) return;
    clearTimeout(holdTimer);
    if (holdUntil > Date.now()) {
      holdTimer = setTimeout(flush, holdUntil - Date.now());
      return;
    }
    const m = pending.find((p) => p.state === "sending");
    if (!m) return;
    if (Date.now() - m.at > STALE_MS || (m.tries || 0) >= TRIES) {
      mark(m, "failed");
      save();
      return flush();
    }
    m.tries = (m.tries || 0) + 1;
    m.sentAt = Date.now();
    inflight = m;
    acks.set(++ackNo, m);
    const data = { message: m.text, session_id: sessionId, client_id: m.cid };
    if (PAGE_LANG) data.customData = { language: PAGE_LANG };
    if (m.shown !== m.text) data.shown = m.shown;
    socket.send("42" + ackNo + JSON.stringify(["user_uttered", data]));
    resendTimer = setTimeout(() => { inflight = null; flush(); }, RESEND_MS);
  }

  function acked(number, answer) {
    const m = acks.get(number);
    acks.delete(number);
    if (!m) return;
    if (inflight === m) {
      inflight = null;
      clearTimeout(resendTimer);
    }
    const status = answer && answer.status;
    if (status === "retry") holdUntil = Date.now() + 1000 * (Number(answer.after) || 5);
    else if (status === "refused") { mark(m, "failed"); save(); }
    else if (pending.includes(m)) {
      if (answer && answer.id) seen.add(answer.id);
      settle(m);
      if (botAt < m.sentAt) dots(true);  // the reply is on its way
    }
    flush();
  }

  function received(event, data) {
    if (event === "session_confirm") {
      const id = typeof data === "string" ? data : data && data.session_id;
      if (id !== sessionId) lastId = null;  // a new conversation
      sessionId = id;
      write(SESSION, id);
      ready = true;
      attempts = 0;
      statusLine.textContent = "";
      setTimeout(flush, 3000);  // in case no transcript comes
    } else if (event === "transcript") {
      list.setAttribute("aria-live", "off");  // history is not read out again
      for (const entry of (data && data.messages) || []) showServer(entry);
      list.setAttribute("aria-live", "polite");
      flush();
    } else if (event === "bot_uttered") showServer(data);
  }

  function alive(ms) {  // no packet for this long: the link is dead, even if nobody said so
    clearTimeout(aliveTimer);
    aliveTimer = setTimeout(down, ms);
  }

  function packet(p) {
    alive(pingMs);
    if (p[0] === "0") {  // Engine.IO open: join the namespace
      try {
        const open = JSON.parse(p.slice(1));
        pingMs = open.pingInterval + open.pingTimeout;
      } catch (e) { /* keep the default */ }
      socket.send("40");
    } else if (p === "2") socket.send("3");  // ping: pong
    else if (p.startsWith("40")) {
      socket.send("42" + JSON.stringify(["session_request",
                                         { session_id: sessionId, after: lastId }]));
    } else if (p.startsWith("42")) received(...JSON.parse(p.slice(p.indexOf("["))));
    else if (p.startsWith("43")) {
      const at = p.indexOf("[");
      acked(Number(p.slice(2, at)), JSON.parse(p.slice(at))[0]);
    } else if (p[0] === "1" || p.startsWith("41") || p.startsWith("44")) down();
  }

  function connect() {
    clearTimeout(retryTimer);
    const ws = socket = new WebSocket(server.replace(/^http/, "ws") +
                                      "/socket.io/?EIO=4&transport=websocket");
    alive(20000);
    ws.onmessage = (message) => { if (ws === socket) packet(String(message.data)); };
    ws.onclose = () => { if (ws === socket) down(); };
  }

  function down() {  // weak networks: come back, later and later, not all widgets at once
    const ws = socket;
    if (!ws) return;
    socket = null;
    ws.onclose = ws.onmessage = null;
    try { ws.close(); } catch (e) { /* already gone */ }
    clearTimeout(aliveTimer);
    clearTimeout(resendTimer);
    ready = false;
    inflight = null;
    acks.clear();
    statusLine.textContent = T.down;
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempts++);
    retryTimer = setTimeout(connect, delay / 2 + Math.random() * delay / 2);
  }

  function wake() {  // the network or the page is back: do not wait for the backoff
    if (!socket && !document.hidden) {
      attempts = 0;
      connect();
    }
  }

  $("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text) say(text);
    input.value = "";
  });
  addEventListener("online", wake);
  document.addEventListener("visibilitychange", wake);
  setInterval(() => {  // messages too old to go out by themselves
    const stale = pending.filter((m) => m.state === "sending" && m !== inflight &&
                                        Date.now() - m.at > STALE_MS);
    for (const m of stale) mark(m, "failed");
    if (stale.length) save();
  }, 15000);
  for (const m of pending) mine(m);
  connect();
})();
