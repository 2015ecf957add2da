// Teranga's web chat widget: one script tag,
//   <script src="https://bot.example.com/webhooks/socketio/widget.js"></script>
// It speaks Rasa's socket.io protocol over a plain WebSocket (Engine.IO 4, Socket.IO 5),
// so no library is downloaded. Replies, the agent's included, are shown as text; buttons
// send their payload. The conversation survives a reload (session id in localStorage).
(function () {
  "use strict";
  const script = document.currentScript;
  const server = script.dataset.server || new URL(script.src).origin;
  const storageKey = "teranga_session";
  let socket = null;
  let sessionId = localStorage.getItem(storageKey);

  const style = document.createElement("style");
  style.textContent = `
    #teranga-chat { position: fixed; right: 1rem; bottom: 1rem; width: 21rem; max-width: 95vw;
      font-family: system-ui, sans-serif; box-shadow: 0 2px 16px #0003; border-radius: 10px;
      background: #fff; display: flex; flex-direction: column; height: 28rem; z-index: 9999; }
    #teranga-chat header { background: #1d5c4d; color: #fff; padding: .6rem .8rem;
      border-radius: 10px 10px 0 0; font-weight: bold; }
    #teranga-chat ol { list-style: none; margin: 0; padding: .5rem; flex: 1; overflow-y: auto; }
    #teranga-chat li { margin: .3rem 0; padding: .4rem .6rem; border-radius: 8px; max-width: 85%;
      white-space: pre-wrap; }
    #teranga-chat li.me { background: #d5efe3; margin-left: auto; }
    #teranga-chat li.bot { background: #eee; }
    #teranga-chat li.agent { background: #e3ecfa; }
    #teranga-chat li small { display: block; color: #666; font-size: .7rem; }
    #teranga-chat form { display: flex; border-top: 1px solid #ddd; }
    #teranga-chat input { flex: 1; border: 0; padding: .6rem; font-size: 1rem; }
    #teranga-chat button { border: 0; background: #1d5c4d; color: #fff; padding: 0 .9rem; }
    #teranga-chat .choices button { margin: .2rem .3rem 0 0; padding: .3rem .6rem;
      border-radius: 12px; }`;
  document.head.append(style);

  const panel = document.createElement("section");
  panel.id = "teranga-chat";
  panel.innerHTML = '<header>SunuTel</header><ol aria-live="polite"></ol>' +
    '<form><input aria-label="Message" autocomplete="off" maxlength="2000">' +
    '<button type="submit">➤</button></form>';
  document.body.append(panel);
  const list = panel.querySelector("ol");
  const input = panel.querySelector("input");

  function show(kind, text, who) {
    const item = document.createElement("li");
    item.className = kind;
    if (who) {
      const label = document.createElement("small");
      label.textContent = who;
      item.append(label);
    }
    item.append(document.createTextNode(text));  // never HTML: what people type stays text
    list.append(item);
    list.scrollTop = list.scrollHeight;
    return item;
  }

  function emit(event, data) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send("42" + JSON.stringify([event, data]));
    }
  }

  function say(text, shown) {
    show("me", shown || text);
    emit("user_uttered", { message: text, session_id: sessionId });
  }

  function received(event, data) {
    if (event === "session_confirm") {
      sessionId = typeof data === "string" ? data : data.session_id;
      localStorage.setItem(storageKey, sessionId);
    } else if (event === "bot_uttered") {
      const item = show(data.agent ? "agent" : "bot", data.text || "",
                        data.agent_name || (data.agent ? data.agent : ""));
      const choices = data.quick_replies || data.buttons || [];
      if (choices.length) {
        const row = document.createElement("div");
        row.className = "choices";
        for (const choice of choices) {
          const button = document.createElement("button");
          button.textContent = choice.title;
          button.addEventListener("click", () => say(choice.payload, choice.title));
          row.append(button);
        }
        item.append(row);
      }
    }
  }

  function connect() {
    socket = new WebSocket(server.replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket");
    socket.onmessage = (message) => {
      const packet = String(message.data);
      if (packet[0] === "0") socket.send("40");                  // open: join the namespace
      else if (packet === "2") socket.send("3");                 // ping: pong
      else if (packet.startsWith("40")) emit("session_request", { session_id: sessionId });
      else if (packet.startsWith("42")) received(...JSON.parse(packet.slice(2)));
    };
    socket.onclose = () => setTimeout(connect, 2000);            // weak networks: come back
  }

  panel.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text) say(text);
    input.value = "";
  });
  connect();
})();
