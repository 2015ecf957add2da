// Teranga's web chat widget: one script tag,
//   <script src="https://bot.example.com/webhooks/socketio/widget.js"></script>
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
  const script = document.currentScript;
  const server = script.dataset.server || new URL(script.src).origin;
  const SESSION = "teranga_session", PENDING = "teranga_pending";
  const RESEND_MS = 10000;  // no ack on an open socket: send it again
  const TRIES = 6;  // sends without an answer before a message is "not sent"
  const STALE_MS = 30 * 60000;  // not sent by itself after this: the conversation moved on
  const MAX_BACKOFF_MS = 30000;
  const T = /^fr\b/i.test(navigator.language || "")
    ? { sending: "Envoi…", sent: "Envoyé", failed: "Non envoyé. Toucher pour réessayer",
        down: "Reconnexion…", message: "Message", send: "Envoyer" }
    : { sending: "Sending…", sent: "Sent", failed: "Not sent. Tap to retry",
        down: "Reconnecting…", message: "Message", send: "Send" };

  let socket = null, ready = false, attempts = 0, pingMs = 20000, ackNo = 0;
  let retryTimer = 0, aliveTimer = 0, resendTimer = 0, holdTimer = 0, holdUntil = 0;
  let sessionId = read(SESSION), lastId = null, inflight = null;
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
    #teranga-chat { position: fixed; right: 1rem; bottom: 1rem; width: 21rem; max-width: 95vw;
      font-family: system-ui, sans-serif; box-shadow: 0 2px 16px #0003; border-radius: 10px;
      background: #fff; display: flex; flex-direction: column; height: 28rem; z-index: 9999; }
    #teranga-chat header { background: #1d5c4d; color: #fff; padding: .6rem .8rem;
      border-radius: 10px 10px 0 0; font-weight: bold; }
    #teranga-chat .status { margin: 0; padding: .3rem .8rem; background: #fff4ce; color: #5c4400;
      font-size: .85rem; }
    #teranga-chat .status:empty { padding: 0; }  /* kept in place: a live region */
    #teranga-chat ol { list-style: none; margin: 0; padding: .5rem; flex: 1; overflow-y: auto; }
    #teranga-chat li { margin: .3rem 0; padding: .4rem .6rem; border-radius: 8px; max-width: 85%;
      white-space: pre-wrap; }
    #teranga-chat li.me { background: #d5efe3; margin-left: auto; }
    #teranga-chat li.bot { background: #eee; }
    #teranga-chat li.agent { background: #e3ecfa; }
    #teranga-chat li small { display: block; color: #555; font-size: .7rem; }
    #teranga-chat li .state { display: block; margin: .2rem 0 0 auto; padding: 0; border: 0;
      background: none; color: #555; font-size: .7rem; text-align: right; }
    #teranga-chat li[data-state=failed] { background: #fde2e1; }
    #teranga-chat li[data-state=failed] .state { color: #a00; text-decoration: underline;
      cursor: pointer; }
    #teranga-chat form { display: flex; border-top: 1px solid #ddd; }
    #teranga-chat input { flex: 1; border: 0; padding: .6rem; font-size: 1rem; }
    #teranga-chat button { border: 0; background: #1d5c4d; color: #fff; padding: 0 .9rem; }
    #teranga-chat .choices button { margin: .2rem .3rem 0 0; padding: .3rem .6rem;
      border-radius: 12px; }`;
  document.head.append(style);

  const panel = document.createElement("section");
  panel.id = "teranga-chat";
  panel.innerHTML = '<header>SunuTel</header><p class="status" role="status"></p>' +
    '<ol role="log" aria-live="polite"></ol><form><input autocomplete="off" maxlength="2000">' +
    '<button type="submit">➤</button></form>';
  document.body.append(panel);
  const list = panel.querySelector("ol");
  const input = panel.querySelector("input");
  const statusLine = panel.querySelector(".status");
  input.setAttribute("aria-label", T.message);
  panel.querySelector("button").setAttribute("aria-label", T.send);

  function bubble(kind, text, who) {
    const item = document.createElement("li");
    item.className = kind;
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
    list.scrollTop = list.scrollHeight;
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
    const item = bubble("me", m.shown);
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
        const item = bubble("me", entry.text || "");
        note(item, "sent");
        place(item);
      }
      return;
    }
    const agent = entry.agent || entry.from === "agent";
    const item = bubble(agent ? "agent" : "bot", entry.text || "",
                        entry.agent_name || entry.agent || "");
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
    inflight = m;
    acks.set(++ackNo, m);
    const data = { message: m.text, session_id: sessionId, client_id: m.cid };
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

  panel.querySelector("form").addEventListener("submit", (event) => {
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
