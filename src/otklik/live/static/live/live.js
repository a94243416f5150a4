/* Live workspace notifications: one WebSocket per tab, catch-up by id, HTTP fallback.
 *
 * - Connects to /ws/live/?after=<last id seen>; the server replays missed events, then
 *   sends {"type": "hello", last_id, unread} and live events.
 * - Remembers the last id in localStorage (per user), reconnects with backoff
 *   (1 s, 2 s, 4 s ... 30 s, with jitter); while the socket is down it polls
 *   GET /live/events?after=<id> so nothing is lost.
 * - Shows a toast and keeps the unread counter in the header; clicking the bell lists
 *   the events of this page and marks them read.
 * - For an event about a case it triggers `live:case-<id>` (and `live:event`) on
 *   document.body: a case page refreshes a fragment with
 *   hx-trigger="live:case-7 from:body".
 */
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) return;
  var storeKey = "otklik.live.last." + root.dataset.user;
  var badge = document.getElementById("live-badge");
  var bell = document.getElementById("live-bell");
  var panel = document.getElementById("live-panel");
  var list = document.getElementById("live-list");
  var toasts = document.getElementById("live-toasts");
  var lastId = parseInt(localStorage.getItem(storeKey) || "0", 10) || 0;
  var unread = 0;
  var failures = 0;
  var socket = null;
  var pollTimer = null;
  var catchingUp = true;
  var missed = [];
  var seen = [];

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  function setUnread(n) {
    unread = Math.max(0, n);
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread === 0;
  }

  function remember(id) {
    if (id > lastId) {
      lastId = id;
      try { localStorage.setItem(storeKey, String(lastId)); } catch (e) { /* private mode */ }
    }
  }

  function caseLink(ev) {
    return ev.case_id ? "/cases/" + ev.case_id + "/" : null;
  }

  function onThisCase(ev) {
    var here = document.querySelector("[data-live-case]");
    return !!(here && ev.case_id && String(ev.case_id) === here.getAttribute("data-live-case"));
  }

  function toast(text, href) {
    var el = document.createElement("div");
    el.className = "live-toast";
    el.textContent = text;
    if (href) el.addEventListener("click", function () { window.location.href = href; });
    toasts.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }

  function addToList(ev) {
    seen.unshift(ev);
    Array.prototype.forEach.call(list.querySelectorAll(".muted"), function (el) { el.remove(); });
    var li = document.createElement("li");
    var href = caseLink(ev);
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = ev.text;
      li.appendChild(a);
    } else {
      li.textContent = ev.text;
    }
    list.insertBefore(li, list.firstChild);
  }

  function handleEvent(ev, live) {
    if (!ev || ev.id <= lastId) return;  // ids only grow: a repeat is dropped
    remember(ev.id);
    addToList(ev);
    if (live) {
      setUnread(unread + 1);
      // On the page of the case the event is about, the panels update in place: a toast
      // would only cover them (the department's answer in the handoff panel).
      if (!onThisCase(ev)) toast(ev.text, caseLink(ev));
    } else {
      missed.push(ev);
    }
    var detail = { detail: ev };
    document.body.dispatchEvent(new CustomEvent("live:event", detail));
    if (ev.case_id) {
      var name = "live:case-" + ev.case_id;
      if (window.htmx) window.htmx.trigger(document.body, name, ev);
      else document.body.dispatchEvent(new CustomEvent(name, detail));
    }
  }

  function flushMissed() {
    if (missed.length === 1) toast(missed[0].text, caseLink(missed[0]));
    else if (missed.length > 1) toast(root.dataset.labelMissed + " " + missed.length);
    missed = [];
  }

  function poll() {
    fetch(root.dataset.eventsUrl + "?after=" + lastId, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        data.events.forEach(function (ev) { handleEvent(ev, true); });
        setUnread(data.unread);
      })
      .catch(function () { /* offline: the next try will tell */ });
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + window.location.host + root.dataset.wsPath + (lastId ? "?after=" + lastId : "");
    catchingUp = true;
    socket = new WebSocket(url);
    socket.onopen = function () {
      failures = 0;
      if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    };
    socket.onmessage = function (msg) {
      var data;
      try { data = JSON.parse(msg.data); } catch (e) { return; }
      if (data.type === "event") {
        handleEvent(data.event, !catchingUp);
      } else if (data.type === "hello") {
        catchingUp = false;
        remember(data.last_id);
        setUnread(data.unread);
        flushMissed();
      }
    };
    socket.onclose = function (ev) {
      socket = null;
      if (ev.code === 4401) return;  // logged out: stop
      failures += 1;
      if (!pollTimer) { poll(); pollTimer = setInterval(poll, 15000); }
      var delay = Math.min(30000, 1000 * Math.pow(2, failures - 1));
      setTimeout(connect, delay / 2 + Math.random() * delay / 2);
    };
  }

  bell.addEventListener("click", function () {
    var open = panel.hidden;
    panel.hidden = !open;
    bell.setAttribute("aria-expanded", String(open));
    if (!seen.length && !list.children.length) {
      var li = document.createElement("li");
      li.className = "muted";
      li.textContent = root.dataset.labelEmpty;
      list.appendChild(li);
    }
    if (open && unread > 0) {
      var body = new URLSearchParams({ up_to: String(lastId) });
      fetch(root.dataset.readUrl, {
        method: "POST", credentials: "same-origin", body: body,
        headers: { "X-CSRFToken": csrfToken() },
      }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) setUnread(data.unread); });
    }
  });
  document.addEventListener("click", function (e) {
    if (!panel.hidden && !root.contains(e.target)) {
      panel.hidden = true;
      bell.setAttribute("aria-expanded", "false");
    }
  });

  connect();
})();
