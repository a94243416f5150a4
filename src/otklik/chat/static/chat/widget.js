/* Otklik chat widget: one file, no framework, no CDN.
 *
 * Embed: <script src="https://desk.bank.example/static/chat/widget.js" async
 *                 data-title="Чат банка" data-open="0"></script>
 * The server is where this file came from (or data-server). The site must be listed in
 * OTKLIK_CHAT_ALLOWED_ORIGINS.
 *
 * Nothing is lost: every message the visitor writes goes to an outbox (localStorage) with a
 * client-side id and leaves it only when the server acknowledges that id; on every
 * (re)connect the outbox is resent with the same ids (the server stores each once) and the
 * widget asks for the messages after the last seq it has shown. WebSocket with backoff;
 * after repeated failures, HTTP long polling. Text is always set with textContent.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__otklikChat) { return; }
  window.__otklikChat = true;
  var data = script.dataset || {};
  var server = (data.server || new URL(script.src, location.href).origin).replace(/\/$/, "");
  var KEY = "otklik-chat:" + server;
  var MAX_BYTES = parseInt(data.maxBytes || "5242880", 10);
  var lang = (data.lang || document.documentElement.lang || navigator.language || "ru").slice(0, 2);
  var T = {
    ru: {
      title: data.title || "Чат с банком", open: "Чат", placeholder: "Напишите сообщение…",
      send: "Отправить", attach: "Прикрепить файл", close: "Завершить чат",
      helpful: "Помогло", unhelpful: "Не помогло", operator: "Позвать оператора",
      typing: "печатает…", staffTyping: "Оператор печатает…", rate: "Оцените, пожалуйста, чат",
      comment: "Комментарий (необязательно)", rateSend: "Оценить", thanks: "Спасибо за оценку!",
      again: "Новый чат", offline: "Нет связи, сообщения будут отправлены позже",
      tooBig: "Файл больше 5 МБ", badType: "Можно отправить изображение или PDF",
      alternatives: "Другие статьи:", article: "Открыть статью", minimise: "Свернуть",
      you: "Вы", bot: "Бот", system: "", closed: "Чат завершён"
    },
    en: {
      title: data.title || "Chat with the bank", open: "Chat", placeholder: "Write a message…",
      send: "Send", attach: "Attach a file", close: "End chat",
      helpful: "Helped", unhelpful: "Did not help", operator: "Talk to a person",
      typing: "typing…", staffTyping: "The operator is typing…", rate: "Please rate the chat",
      comment: "Comment (optional)", rateSend: "Rate", thanks: "Thank you!",
      again: "New chat", offline: "Offline, messages will be sent later",
      tooBig: "The file is larger than 5 MB", badType: "Send an image or a PDF",
      alternatives: "Other articles:", article: "Open the article", minimise: "Minimise",
      you: "You", bot: "Bot", system: "", closed: "The chat is closed"
    }
  }[lang === "en" ? "en" : "ru"];

  // --- state kept across reloads ------------------------------------------------------
  function load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch (e) { return {}; }
  }
  var state = load();
  state.outbox = state.outbox || [];
  function save() {
    try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function uid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  // --- DOM (inside a shadow root: the bank's CSS cannot break it, ours cannot leak) ---
  var host = document.createElement("div");
  host.id = "otklik-chat";
  document.body.appendChild(host);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;",
    "padding:14px 22px;background:#0b5cad;color:#fff;font-size:16px;font-weight:600;cursor:pointer;",
    "box-shadow:0 6px 20px rgba(0,0,0,.25)}",
    ".panel{position:fixed;right:20px;bottom:20px;z-index:2147483001;width:380px;height:600px;",
    "max-height:calc(100vh - 40px);display:none;flex-direction:column;background:#fff;color:#1c2430;",
    "border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.3);overflow:hidden;font-size:15px}",
    ".panel.open{display:flex}",
    "@media (max-width:600px){.panel{right:0;bottom:0;width:100vw;height:100%;max-height:none;border-radius:0}}",
    "header{display:flex;align-items:center;gap:8px;padding:12px 14px;background:#0b5cad;color:#fff}",
    "header h2{flex:1;margin:0;font-size:16px}",
    "header button{background:transparent;border:0;color:#fff;font-size:20px;cursor:pointer;padding:4px 8px}",
    ".status{font-size:12px;opacity:.85}",
    ".log{flex:1;overflow-y:auto;padding:12px;background:#f3f5f8;display:flex;flex-direction:column;gap:8px}",
    ".msg{max-width:85%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;line-height:1.35}",
    ".msg.visitor{align-self:flex-end;background:#0b5cad;color:#fff;border-bottom-right-radius:4px}",
    ".msg.staff,.msg.bot{align-self:flex-start;background:#fff;border:1px solid #dde3ea;border-bottom-left-radius:4px}",
    ".msg.system{align-self:center;background:transparent;color:#5b6776;font-size:13px;text-align:center}",
    ".msg .who{display:block;font-size:12px;font-weight:600;color:#0b5cad;margin-bottom:2px}",
    ".msg .meta{display:block;font-size:11px;opacity:.75;text-align:right;margin-top:2px}",
    ".msg.pending{opacity:.6}",
    ".msg a{color:inherit}",
    ".msg img{max-width:100%;border-radius:8px;display:block;margin-top:4px}",
    ".buttons{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".buttons button,.rate button{border:1px solid #0b5cad;background:#fff;color:#0b5cad;border-radius:16px;",
    "padding:6px 10px;font-size:13px;cursor:pointer;min-height:32px}",
    ".buttons button:disabled{opacity:.5;cursor:default}",
    ".typing{min-height:18px;padding:0 14px;font-size:12px;color:#5b6776;background:#f3f5f8}",
    "form.composer{display:flex;gap:6px;padding:8px;border-top:1px solid #dde3ea;background:#fff}",
    "textarea{flex:1;resize:none;border:1px solid #c7d0db;border-radius:10px;padding:9px;font-size:15px;height:44px}",
    ".send{border:0;background:#0b5cad;color:#fff;border-radius:10px;padding:0 14px;font-size:15px;cursor:pointer}",
    ".attach{border:1px solid #c7d0db;background:#fff;border-radius:10px;width:44px;font-size:18px;cursor:pointer}",
    ".footer{display:flex;justify-content:space-between;padding:4px 10px 8px;background:#fff;font-size:12px}",
    ".footer button{background:none;border:0;color:#5b6776;text-decoration:underline;cursor:pointer}",
    ".rate{padding:12px;border-top:1px solid #dde3ea;background:#fff;display:none}",
    ".rate.show{display:block}",
    ".rate .stars{display:flex;gap:6px;margin:8px 0}",
    ".rate .stars button{flex:1;font-size:16px}",
    ".rate .stars button.on{background:#0b5cad;color:#fff}",
    ".rate textarea{width:100%;height:56px}",
    ".error{color:#b3261e;font-size:12px;padding:0 12px}"
  ].join("");
  // A constructed stylesheet where the browser has one: no inline <style>, so the widget
  // works under a strict Content-Security-Policy (ours, and the host site's).
  var sheet = null;
  try {
    if (root !== host && "adoptedStyleSheets" in root) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [sheet];
    }
  } catch (e) { sheet = null; }
  root.innerHTML =
    (sheet ? "" : "<style>" + css + "</style>") +
    "<button class='launcher' type='button' part='launcher'></button>" +
    "<section class='panel' role='dialog' aria-modal='false'>" +
    "<header><h2></h2><span class='status'></span><button type='button' class='min'>×</button></header>" +
    "<div class='log' role='log' aria-live='polite'></div>" +
    "<div class='typing' aria-live='polite'></div>" +
    "<div class='error' role='alert'></div>" +
    // A drawn paperclip: the paperclip emoji renders as a box where no emoji font exists.
    "<form class='composer'><button type='button' class='attach'><svg viewBox='0 0 24 24' " +
    "width='20' height='20' aria-hidden='true' fill='none' stroke='currentColor' stroke-width='2' " +
    "stroke-linecap='round'><path d='M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 " +
    "4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9'/></svg></button>" +
    "<input type='file' accept='image/png,image/jpeg,image/gif,image/webp,application/pdf' hidden>" +
    "<textarea rows='1'></textarea><button type='submit' class='send'></button></form>" +
    "<div class='footer'><span></span><button type='button' class='end'></button></div>" +
    "<div class='rate'><div class='q'></div><div class='stars'></div><textarea></textarea>" +
    "<button type='button' class='rate-send'></button></div>" +
    "</section>";
  function $(sel) { return root.querySelector(sel); }
  var launcher = $(".launcher"), panel = $(".panel"), log = $(".log"), typingEl = $(".typing");
  var errorEl = $(".error"), form = $(".composer"), input = $(".composer textarea");
  var fileInput = $("input[type=file]"), statusEl = $(".status"), rateBox = $(".rate");
  launcher.textContent = T.open;
  $("header h2").textContent = T.title;
  $(".min").setAttribute("aria-label", T.minimise);
  $(".attach").setAttribute("aria-label", T.attach);
  $(".attach").title = T.attach;
  $(".send").textContent = T.send;
  $(".end").textContent = T.close;
  input.placeholder = T.placeholder;
  input.setAttribute("aria-label", T.placeholder);
  $(".rate .q").textContent = T.rate;
  $(".rate textarea").placeholder = T.comment;
  $(".rate-send").textContent = T.rateSend;
  var score = 0;
  for (var s = 1; s <= 5; s++) {
    (function (n) {
      var b = document.createElement("button");
      b.type = "button"; b.textContent = String(n); b.setAttribute("aria-label", n + " / 5");
      b.addEventListener("click", function () {
        score = n;
        root.querySelectorAll(".stars button").forEach(function (x, i) { x.classList.toggle("on", i < n); });
      });
      $(".rate .stars").appendChild(b);
    })(s);
  }

  // --- rendering ----------------------------------------------------------------------
  var shown = {};        // seq -> element
  var pending = {};      // client_msg_id -> element
  var lastSeq = 0; // a fresh page shows the whole history again
  var staffRead = 0;
  var status = "bot";

  function bubble(cls) {
    var el = document.createElement("div");
    el.className = "msg " + cls;
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
    return el;
  }
  function fill(el, m) {
    el.textContent = "";
    var who = m.sender === "bot" ? T.bot : (m.side === "staff" ? m.name : "");
    if (who && m.sender !== "system") {
      var w = document.createElement("span"); w.className = "who"; w.textContent = who; el.appendChild(w);
    }
    var body = document.createElement("span"); body.textContent = m.body || ""; el.appendChild(body);
    if (m.attachment) {
      var url = server + m.attachment.url;
      if (/^image\//.test(m.attachment.type)) {
        var img = document.createElement("img"); img.src = url; img.alt = m.attachment.name; el.appendChild(img);
      }
      var a = document.createElement("a"); a.href = url; a.target = "_blank"; a.rel = "noopener";
      a.textContent = "📄 " + m.attachment.name; a.style.display = "block"; el.appendChild(a);
    }
    var p = m.payload || {};
    if (p.article) {
      var link = document.createElement("a"); link.href = server + p.article.url; link.target = "_blank";
      link.rel = "noopener"; link.textContent = T.article; link.style.display = "block"; el.appendChild(link);
    }
    if (p.alternatives && p.alternatives.length) {
      var alt = document.createElement("span"); alt.className = "meta"; alt.style.textAlign = "left";
      alt.textContent = T.alternatives; el.appendChild(alt);
      p.alternatives.forEach(function (x) {
        var l = document.createElement("a"); l.href = server + x.url; l.target = "_blank"; l.rel = "noopener";
        l.textContent = "• " + x.title; l.style.display = "block"; el.appendChild(l);
      });
    }
    if (p.buttons && p.decision) {
      var row = document.createElement("div"); row.className = "buttons";
      p.buttons.forEach(function (kind) {
        var b = document.createElement("button"); b.type = "button"; b.textContent = T[kind];
        b.dataset.kind = kind;
        b.addEventListener("click", function () {
          row.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          if (kind === "operator") { sendText(T.operator); }
          else { command({ type: "feedback", decision: p.decision, helpful: kind === "helpful" }, "feedback"); }
        });
        row.appendChild(b);
      });
      el.appendChild(row);
    }
    if (m.side === "visitor") {
      var meta = document.createElement("span"); meta.className = "meta";
      meta.textContent = m.seq ? (m.seq <= staffRead ? "✓✓" : "✓") : "…";
      el.appendChild(meta);
    }
  }
  function cls(m) { return m.sender === "system" ? "system" : (m.side === "visitor" ? "visitor" : (m.sender === "bot" ? "bot" : "staff")); }
  function render(m) {
    if (shown[m.seq]) { return; }
    var el = (m.client_msg_id && m.side === "visitor" && pending[m.client_msg_id]) || bubble(cls(m));
    if (m.client_msg_id) { delete pending[m.client_msg_id]; }
    el.classList.remove("pending");
    el.dataset.seq = m.seq;
    shown[m.seq] = el;
    fill(el, m);
    if (m.seq > lastSeq) { lastSeq = m.seq; state.last_seq = lastSeq; save(); }
    log.scrollTop = log.scrollHeight;
    markRead();
  }
  function renderPending(item) {
    if (pending[item.client_msg_id]) { return; }
    var el = bubble("visitor pending");
    pending[item.client_msg_id] = el;
    fill(el, { side: "visitor", body: item.body, sender: "visitor" });
  }
  function setStatus(st) {
    status = st.status || status;
    statusEl.textContent = st.operator || "";
    if (st.staff_read_seq) { refreshRead(st.staff_read_seq); }
    var closed = status === "closed";
    if (closed) { typingEl.textContent = ""; }
    form.style.display = closed ? "none" : "flex";
    $(".footer").style.display = closed ? "none" : "flex";
    rateBox.classList.toggle("show", closed);
    if (closed && (st.rated || state.rated)) { showThanks(); }
  }
  function refreshRead(seq) {
    if (seq <= staffRead) { return; }
    staffRead = seq;
    Object.keys(shown).forEach(function (k) {
      var el = shown[k];
      if (el.classList.contains("visitor")) {
        var meta = el.querySelector(".meta:last-child");
        if (meta) { meta.textContent = Number(k) <= staffRead ? "✓✓" : "✓"; }
      }
    });
  }
  function showThanks() {
    rateBox.textContent = "";
    var t = document.createElement("div"); t.textContent = T.thanks; rateBox.appendChild(t);
    var again = document.createElement("button"); again.type = "button"; again.textContent = T.again;
    again.style.marginTop = "8px";
    again.addEventListener("click", function () {
      localStorage.removeItem(KEY); location.reload();
    });
    rateBox.appendChild(again);
    rateBox.classList.add("show");
  }

  // --- transport ----------------------------------------------------------------------
  var ws = null, ready = false, failures = 0, polling = false, timer = null, readSent = 0;

  function api(path, opts) {
    opts = opts || {};
    var headers = opts.headers || {};
    if (state.token) { headers["X-Chat-Token"] = state.token; }
    if (opts.json) { headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(opts.json); }
    return fetch(server + "/chat/api/" + path, {
      method: opts.method || "GET", headers: headers, body: opts.body, credentials: "same-origin"
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { var e = new Error("http " + r.status); e.data = j; e.status = r.status; throw e; }
        return j;
      });
    });
  }
  var starting = null;
  function start() {
    // One start per page, however many sends race to it.
    if (state.id) { return Promise.resolve(); }
    if (!starting) {
      starting = api("start/", { method: "POST", json: {} }).then(function (j) {
        state.id = j.conversation; state.token = j.token; save();
      }, function (e) { starting = null; throw e; });
    }
    return starting;
  }
  function connect() {
    if (!state.id || ws) { return; }
    if (polling) { poll(); return; }
    var url = server.replace(/^http/, "ws") + "/ws/chat/" + state.id + "/";
    try { ws = new WebSocket(url); } catch (e) { ws = null; retry(); return; }
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: "hello", token: state.token, after_seq: lastSeq }));
    };
    ws.onmessage = function (ev) {
      var f; try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.type === "message") { render(f.message); }
      else if (f.type === "ready") { ready = true; failures = 0; errorEl.textContent = ""; setStatus(f.conversation); flush(); }
      else if (f.type === "ack") { acked(f); }
      else if (f.type === "status") { setStatus(f.conversation); }
      else if (f.type === "typing") { showTyping(); }
      else if (f.type === "read" && f.side === "staff") { refreshRead(f.seq); }
      else if (f.type === "error") { failed(f.client_msg_id, f.message); }
      else if (f.type === "rated") { state.rated = true; save(); showThanks(); }
    };
    ws.onclose = function (ev) {
      ws = null; ready = false;
      if (ev.code === 4404) { localStorage.removeItem(KEY); state = { outbox: [] }; return; }
      retry();
    };
  }
  function retry() {
    failures += 1;
    if (failures >= 4 && !polling) { polling = true; }
    errorEl.textContent = failures > 1 ? T.offline : "";
    var delay = Math.min(15000, 500 * Math.pow(2, failures)) * (0.7 + Math.random() * 0.6);
    clearTimeout(timer);
    timer = setTimeout(function () { if (polling) { poll(); } else { connect(); } }, delay);
  }
  function poll() {
    api(state.id + "/poll/?wait=20&after_seq=" + lastSeq).then(function (j) {
      failures = 0; errorEl.textContent = "";
      (j.messages || []).forEach(render);
      setStatus(j.state);
      flush();
      // Try the WebSocket again now and then; keep polling meanwhile.
      if (Math.random() < 0.2) { polling = false; connect(); } else { poll(); }
    }).catch(function () { retry(); });
  }
  function acked(f) {
    state.outbox = state.outbox.filter(function (x) { return x.client_msg_id !== f.client_msg_id; });
    save();
    var el = pending[f.client_msg_id];
    if (el) { el.classList.remove("pending"); }
  }
  function failed(id, message) {
    errorEl.textContent = message || "";
    if (id) {
      state.outbox = state.outbox.filter(function (x) { return x.client_msg_id !== id; }); save();
      var el = pending[id]; if (el) { el.remove(); delete pending[id]; }
    }
  }
  function flush() {
    state.outbox.forEach(function (item) {
      if (ws && ready) {
        ws.send(JSON.stringify({ type: "message", client_msg_id: item.client_msg_id, body: item.body }));
      } else if (polling) {
        api(state.id + "/messages/", { method: "POST", json: item }).then(function (j) {
          acked(j); render(j.message);
        }).catch(function (e) { if (e.status === 400 || e.status === 409 || e.status === 429) { failed(item.client_msg_id, firstError(e)); } });
      }
    });
  }
  function firstError(e) {
    var errs = (e.data && e.data.errors) || {};
    var k = Object.keys(errs)[0];
    return k ? errs[k][0] : "";
  }
  function command(frame, path) {
    if (ws && ready) { ws.send(JSON.stringify(frame)); return; }
    var payload = Object.assign({}, frame); delete payload.type;
    api(state.id + "/" + path + "/", { method: "POST", json: payload }).then(function (j) {
      setStatus(j.state); if (path === "rate") { state.rated = true; save(); showThanks(); }
    }).catch(function (e) { errorEl.textContent = firstError(e); });
  }
  function sendText(text) {
    text = (text || "").trim();
    if (!text) { return; }
    var item = { client_msg_id: uid(), body: text };
    state.outbox.push(item); save();
    renderPending(item);
    start().then(function () { if (ws && ready) { flush(); } else { connect(); if (polling) { flush(); } } })
      .catch(function (e) { if (e.status === 429) { failed(item.client_msg_id, firstError(e)); } else { errorEl.textContent = T.offline; } });
  }
  var typingTimer = null;
  function showTyping() {
    typingEl.textContent = T.staffTyping;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typingEl.textContent = ""; }, 3000);
  }
  function markRead() {
    if (!panel.classList.contains("open") || document.hidden || lastSeq <= readSent) { return; }
    readSent = lastSeq;
    command({ type: "read", seq: lastSeq }, "read");
  }

  // --- events -------------------------------------------------------------------------
  function openPanel() {
    panel.classList.add("open");
    launcher.style.display = "none";
    start().then(connect).catch(function (e) { errorEl.textContent = (e && e.status === 429 && firstError(e)) || T.offline; });
    input.focus();
    markRead();
  }
  launcher.addEventListener("click", openPanel);
  $(".min").addEventListener("click", function () {
    panel.classList.remove("open"); launcher.style.display = "";
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    sendText(input.value);
    input.value = "";
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.submit(); }
  });
  var lastTyping = 0;
  input.addEventListener("input", function () {
    var now = Date.now();
    if (ws && ready && now - lastTyping > 2000) { lastTyping = now; ws.send(JSON.stringify({ type: "typing" })); }
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && state.id && !ws && !polling) { connect(); }
    markRead();
  });
  $(".attach").addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files[0];
    fileInput.value = "";
    if (!file) { return; }
    if (file.size > MAX_BYTES) { errorEl.textContent = T.tooBig; return; }
    if (!/^(image\/(png|jpeg|gif|webp)|application\/pdf)$/.test(file.type)) { errorEl.textContent = T.badType; return; }
    var body = new FormData();
    body.append("file", file);
    body.append("client_msg_id", uid());
    start().then(function () {
      return api(state.id + "/attachments/", { method: "POST", body: body });
    }).then(function (j) { render(j.message); }).catch(function (e) { errorEl.textContent = firstError(e); });
  });
  $(".end").addEventListener("click", function () { command({ type: "close" }, "close"); });
  $(".rate-send").addEventListener("click", function () {
    if (!score) { return; }
    command({ type: "rate", score: score, comment: $(".rate textarea").value }, "rate");
  });

  // A chat already under way continues after a reload, with its unsent messages.
  if (state.id) {
    state.outbox.forEach(renderPending);
    if (data.open === "1" || state.outbox.length) { openPanel(); } else { connect(); }
  } else if (data.open === "1") {
    openPanel();
  }
})();
