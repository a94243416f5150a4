/* Presence on a case page or client card, live case updates and server-side drafts.
 *
 * - One WebSocket per page: /ws/presence/<kind>/<id>/?tab=<random>&seen=<event id>.
 *   The server sends the list of people here, asks for a heartbeat every 2 s (this tab
 *   answers; without answers its entry expires) and, on a case page, the id of every
 *   new case event.
 * - On a case event the page fetches the timeline, the status badge and the "new since
 *   you opened the page" strip; entries that were not there when the page opened are
 *   marked as new.
 * - Typing in a reply form (any form with a [data-presence-guard] field) tells the others
 *   "typing a reply/note"; the text is saved as a draft on the server as one types, and
 *   put back into the form when the page is opened again.
 */
(function () {
  "use strict";
  var root = document.getElementById("presence");
  if (!root) return;
  var me = parseInt(root.dataset.user, 10);
  var tab = Math.random().toString(36).slice(2, 12);
  var opened = parseInt(root.dataset.opened || "0", 10) || 0;
  var lastEvent = opened;
  var people = document.getElementById("presence-people");
  var offline = document.getElementById("presence-offline");
  var socket = null;
  var failures = 0;
  var lastTyping = 0;
  var lastWhat = "";
  var knownMessages = {};
  var knownEvents = {};
  var refreshing = false;
  var refreshAgain = false;

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  function send(obj) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(obj));
  }

  function initials(name) {
    return name.split(/\s+/).filter(Boolean).slice(0, 2).map(function (p) { return p[0]; }).join("").toUpperCase();
  }

  function hhmm(seconds) {
    var d = new Date(seconds * 1000);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function renderPeople(list) {
    var others = list.filter(function (p) { return p.user !== me; });
    people.textContent = "";
    if (!others.length) {
      people.appendChild(document.getElementById("presence-nobody").content.cloneNode(true));
      return;
    }
    others.forEach(function (p) {
      var li = document.createElement("li");
      li.className = "presence-person";
      li.dataset.user = String(p.user);
      li.title = p.name + " · " + root.dataset.labelSince + " " + hhmm(p.since);
      var av = document.createElement("span");
      av.className = "presence-avatar";
      av.setAttribute("aria-hidden", "true");
      av.textContent = initials(p.name);
      var name = document.createElement("span");
      name.className = "presence-name";
      name.textContent = p.name;
      li.appendChild(av);
      li.appendChild(name);
      if (p.typing) {
        var t = document.createElement("span");
        t.className = "presence-typing";
        t.dataset.typing = p.typing;
        t.textContent = root.dataset["labelTyping" + p.typing.charAt(0).toUpperCase() + p.typing.slice(1)] || "";
        li.appendChild(t);
        li.classList.add("is-typing");
      }
      people.appendChild(li);
    });
  }

  /* --- live case page ----------------------------------------------------------- */

  function rememberTimeline() {
    var tl = document.getElementById("timeline");
    if (!tl) return;
    Array.prototype.forEach.call(tl.querySelectorAll("li[id^='message-']"), function (li) { knownMessages[li.id] = true; });
    Array.prototype.forEach.call(tl.querySelectorAll("li[data-event]"), function (li) { knownEvents[li.dataset.event] = true; });
  }

  function markNew() {
    var tl = document.getElementById("timeline");
    if (!tl) return;
    var label = root.dataset.labelNew || "";
    Array.prototype.forEach.call(tl.querySelectorAll("li[id^='message-']"), function (li) {
      if (!knownMessages[li.id]) { li.classList.add("is-new"); li.dataset.newLabel = label; }
    });
    Array.prototype.forEach.call(tl.querySelectorAll("li[data-event]"), function (li) {
      if (!knownEvents[li.dataset.event]) { li.classList.add("is-new"); li.dataset.newLabel = label; }
    });
  }

  function refreshCase() {
    if (!root.dataset.liveUrl || !window.htmx) return;
    if (refreshing) { refreshAgain = true; return; }
    refreshing = true;
    window.htmx.ajax("GET", root.dataset.liveUrl + "?opened=" + opened, { target: "#timeline", swap: "outerHTML" })
      .then(function () {
        markNew();
        refreshing = false;
        if (refreshAgain) { refreshAgain = false; refreshCase(); }
      }, function () { refreshing = false; });
  }

  /* --- socket ----------------------------------------------------------------------- */

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.wsPath + "?tab=" + tab + "&seen=" + lastEvent);
    socket.onopen = function () { failures = 0; offline.hidden = true; };
    socket.onmessage = function (msg) {
      var data;
      try { data = JSON.parse(msg.data); } catch (e) { return; }
      if (data.type === "beat") send({ type: "beat" });
      else if (data.type === "people") renderPeople(data.people || []);
      else if (data.type === "case" && data.event > lastEvent) { lastEvent = data.event; refreshCase(); }
    };
    socket.onclose = function (ev) {
      socket = null;
      if (ev.code === 4401 || ev.code === 4403) return;
      offline.textContent = root.dataset.labelOffline;
      offline.hidden = false;
      failures += 1;
      var delay = Math.min(30000, 1000 * Math.pow(2, failures - 1));
      setTimeout(connect, delay / 2 + Math.random() * delay / 2);
    };
  }

  /* --- typing and drafts ------------------------------------------------------------ */

  var timers = {};
  var guards = Array.prototype.slice.call(document.querySelectorAll("[data-presence-guard]"));

  function formParts(guard) {
    var form = guard.form || guard.closest("form");
    if (!form) return null;
    var area = form.querySelector("textarea");
    return area ? { form: form, area: area } : null;
  }

  function typingWhat(guard, form) {
    if (guard.dataset.typing !== "reply") return guard.dataset.typing;
    var vis = form.querySelector("input[name='visibility']:checked");
    return vis && vis.value === "internal" ? "note" : "reply";
  }

  function saveDraft(guard, form, area, keepalive) {
    if (!root.dataset.draftsUrl) return;
    var vis = form.querySelector("input[name='visibility']:checked");
    var body = new URLSearchParams({ kind: guard.dataset.draftKind, body: area.value, visibility: vis ? vis.value : "" });
    try { localStorage.setItem(storeKey(guard), area.value); } catch (e) { /* private mode */ }
    fetch(root.dataset.draftsUrl, {
      method: "POST", credentials: "same-origin", body: body, keepalive: !!keepalive,
      headers: { "X-CSRFToken": csrfToken() },
    }).then(function (r) {
      if (r.ok) { try { localStorage.removeItem(storeKey(guard)); } catch (e) { /* ignore */ } }
    }).catch(function () { /* offline: kept locally, saved again on the next keystroke or when back online */ });
  }

  function storeKey(guard) {
    return "otklik.draft." + me + "." + root.dataset.id + "." + guard.dataset.draftKind;
  }

  function bind(guard) {
    var parts = formParts(guard);
    if (!parts || parts.form.dataset.presenceBound) return;
    parts.form.dataset.presenceBound = "1";
    var kind = guard.dataset.draftKind;
    parts.form.addEventListener("input", function (e) {
      var cur = formParts(guard);
      if (!cur) return;
      var what = typingWhat(guard, cur.form);
      var now = Date.now();
      if (e.target === cur.area && (now - lastTyping > 1500 || what !== lastWhat)) {
        lastTyping = now; lastWhat = what;
        send({ type: "typing", what: what });
      }
      clearTimeout(timers[kind]);
      timers[kind] = setTimeout(function () { saveDraft(guard, cur.form, cur.area); }, 700);
    });
    parts.form.addEventListener("submit", function () { clearTimeout(timers[kind]); });
  }

  function loadDrafts() {
    if (!root.dataset.draftsUrl || !guards.length) return;
    fetch(root.dataset.draftsUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        var byKind = {};
        (data ? data.drafts : []).forEach(function (d) { byKind[d.kind] = d; });
        document.querySelectorAll("[data-presence-guard]").forEach(function (guard) {
          var parts = formParts(guard);
          if (!parts || parts.area.value) return;
          var d = byKind[guard.dataset.draftKind];
          var local = null;
          try { local = localStorage.getItem(storeKey(guard)); } catch (e) { /* ignore */ }
          var text = local !== null ? local : d ? d.body : "";
          if (!text) return;
          parts.area.value = text;
          if (d && d.visibility) {
            var radio = parts.form.querySelector("input[name='visibility'][value='" + d.visibility + "']");
            if (radio) radio.checked = true;
          }
          if (local !== null) saveDraft(guard, parts.form, parts.area);
        });
      }).catch(function () { /* offline: the form stays as it is */ });
  }

  document.body.addEventListener("htmx:afterSwap", function (evt) {
    // The page's own action (a sent reply, a POST) swapped the timeline: what it shows is
    // not news, even when a live refresh of the same change is under way meanwhile.
    var config = evt.detail && evt.detail.requestConfig;
    var ownAction = config && config.verb && config.verb.toLowerCase() !== "get";
    if (ownAction || !refreshing) rememberTimeline();
    guards = Array.prototype.slice.call(document.querySelectorAll("[data-presence-guard]"));
    guards.forEach(function (guard) {
      var parts = formParts(guard);
      // Sent (the server answered with an empty form and dropped the draft): forget the local copy too.
      if (parts && !parts.area.value && !parts.form.querySelector(".presence-held")) {
        try { localStorage.removeItem(storeKey(guard)); } catch (e) { /* ignore */ }
      }
      bind(guard);
    });
  });
  window.addEventListener("online", function () {
    guards.forEach(function (guard) {
      var parts = formParts(guard);
      if (parts && parts.area.value) saveDraft(guard, parts.form, parts.area);
    });
  });

  rememberTimeline();
  guards.forEach(bind);
  loadDrafts();
  connect();
})();
