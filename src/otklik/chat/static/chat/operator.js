/* The operator's chat page: live transcript over the chat WebSocket, replies with an
 * outbox (resent with the same client id until acknowledged), typing and read markers.
 * Without WebSockets the page polls /chat/<id>/poll/ and the reply form posts normally.
 */
(function () {
  "use strict";
  var log = document.getElementById("chat-log");
  if (!log) { return; }
  var id = log.dataset.conversation;
  var lastSeq = parseInt(log.dataset.lastSeq || "0", 10);
  var form = document.getElementById("chat-reply");
  var typingEl = document.getElementById("chat-typing");
  var statusEl = document.getElementById("chat-status");
  var outbox = [];
  var ws = null, ready = false, failures = 0, pollTimer = null;
  var LABELS = { visitor: log.dataset.labelClient || "Клиент", bot: "Бот" };

  // Times arrive with their offset; show them on the viewer's clock (the page's data-tz,
  // the operator's own time zone), not the server's or the browser's.
  var TZ = document.documentElement.dataset.tz || undefined;
  function clock(m) {
    try {
      return new Intl.DateTimeFormat("ru-RU", { hour: "2-digit", minute: "2-digit", timeZone: TZ })
        .format(new Date(m.created_at));
    } catch (e) { return m.time || ""; }
  }
  function uid() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
      : Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function add(m) {
    if (m.seq <= lastSeq) { return; }
    lastSeq = m.seq;
    var el = document.createElement("div");
    el.className = "cmsg cmsg-" + m.sender + (m.internal ? " cmsg-internal" : "");
    el.dataset.seq = m.seq;
    var who = document.createElement("span"); who.className = "cmsg-who";
    who.textContent = m.sender === "visitor" ? LABELS.visitor : m.sender === "bot" ? LABELS.bot : (m.name || "");
    var body = document.createElement("span"); body.className = "cmsg-body"; body.textContent = m.body || "";
    el.appendChild(who); el.appendChild(body);
    if (m.attachment) {
      var a = document.createElement("a"); a.className = "cmsg-file"; a.href = m.attachment.url;
      a.target = "_blank"; a.rel = "noopener"; a.textContent = "📄 " + m.attachment.name; el.appendChild(a);
    }
    var t = document.createElement("span"); t.className = "cmsg-time";
    t.textContent = clock(m); el.appendChild(t);
    var pending = m.client_msg_id && log.querySelector("[data-pending='" + m.client_msg_id + "']");
    if (pending) { pending.remove(); }
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
    read();
  }
  function read() {
    if (ws && ready && !document.hidden) { ws.send(JSON.stringify({ type: "read", seq: lastSeq })); }
  }
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/chat/" + id + "/";
    try { ws = new WebSocket(url); } catch (e) { ws = null; retry(); return; }
    ws.onopen = function () { ws.send(JSON.stringify({ type: "hello", after_seq: lastSeq })); };
    ws.onmessage = function (ev) {
      var f = JSON.parse(ev.data);
      if (f.type === "message") { add(f.message); }
      else if (f.type === "ready") {
        ready = true; failures = 0; stopPolling(); read();
        outbox.forEach(function (item) { ws.send(JSON.stringify(item)); });
      }
      else if (f.type === "ack") {
        outbox = outbox.filter(function (x) { return x.client_msg_id !== f.client_msg_id; });
      }
      else if (f.type === "typing" && f.side === "visitor") {
        typingEl.textContent = typingEl.dataset.text || "Клиент печатает…";
        clearTimeout(typingEl._t);
        typingEl._t = setTimeout(function () { typingEl.textContent = ""; }, 3000);
      }
      else if (f.type === "status" && statusEl) { statusEl.textContent = f.conversation.status; }
      else if (f.type === "error") { alert(f.message); }
    };
    ws.onclose = function () { ws = null; ready = false; retry(); };
  }
  function retry() {
    failures += 1;
    if (failures >= 3) { startPolling(); }
    setTimeout(connect, Math.min(15000, 500 * Math.pow(2, failures)));
  }
  function startPolling() {
    if (pollTimer) { return; }
    pollTimer = setInterval(function () {
      fetch(log.dataset.pollUrl + "?after_seq=" + lastSeq, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (j) { (j.messages || []).forEach(add); })
        .catch(function () {});
    }, 3000);
  }
  function stopPolling() { if (pollTimer) { clearInterval(pollTimer); pollTimer = null; } }

  if (form) {
    var textarea = form.querySelector("textarea");
    form.addEventListener("submit", function (ev) {
      if (!ws || !ready) { return; } // the form posts normally
      ev.preventDefault();
      var body = textarea.value.trim();
      if (!body) { return; }
      var item = { type: "message", client_msg_id: uid(), body: body };
      outbox.push(item);
      var el = document.createElement("div"); el.className = "cmsg cmsg-operator cmsg-pending";
      el.dataset.pending = item.client_msg_id; el.textContent = body; log.appendChild(el);
      log.scrollTop = log.scrollHeight;
      ws.send(JSON.stringify(item));
      textarea.value = "";
      textarea.focus();
    });
    textarea.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
    });
    var last = 0;
    textarea.addEventListener("input", function () {
      var now = Date.now();
      if (ws && ready && now - last > 2000) { last = now; ws.send(JSON.stringify({ type: "typing" })); }
    });
  }
  document.addEventListener("visibilitychange", read);
  log.scrollTop = log.scrollHeight;
  connect();
})();
