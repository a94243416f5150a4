/* Screen pop: the live channel (live.js) fires "live:event" on document.body; a ringing
 * call for this operator opens a card with the caller's client (card + intake form), or
 * a client search for an unknown number; a finished call offers its wrap-up page.
 * Text is set with textContent only: nothing from the event is parsed as HTML. */
(function () {
  "use strict";
  var pop = document.getElementById("call-pop");
  if (!pop) return;
  var L = pop.dataset;

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function frame(title) {
    pop.textContent = "";
    var close = el("button", "×", { type: "button", "class": "close", "aria-label": L.labelClose });
    close.addEventListener("click", function () { pop.hidden = true; });
    pop.appendChild(close);
    pop.appendChild(el("h2", title));
  }
  function ringing(p) {
    frame(L.labelTitle);
    pop.appendChild(el("p", p.number, { "class": "number", "data-test": "pop-number" }));
    if (p.clients && p.clients.length) {
      var list = el("ul");
      p.clients.forEach(function (c) {
        var li = el("li");
        li.appendChild(el("strong", c.name, { "data-test": "pop-client" }));
        li.appendChild(document.createElement("br"));
        li.appendChild(el("a", L.labelOpen, { href: c.card_url, "class": "btn btn-primary", "data-test": "pop-open" }));
        list.appendChild(li);
      });
      pop.appendChild(list);
    } else {
      pop.appendChild(el("p", L.labelUnknown, { "data-test": "pop-unknown" }));
      var form = el("form", "", { method: "post", action: p.search_url });
      form.appendChild(el("input", "", { type: "hidden", name: "csrfmiddlewaretoken", value: csrfToken() }));
      var q = el("input", "", { type: "search", name: "q", "aria-label": L.labelSearch });
      q.value = p.number;
      form.appendChild(q);
      form.appendChild(el("button", L.labelSearch, { type: "submit", "class": "btn" }));
      pop.appendChild(form);
    }
    pop.appendChild(el("a", L.labelWrap, { href: p.call_url, "class": "muted" }));
    pop.hidden = false;
  }
  function ended(p) {
    frame(L.labelWrap);
    pop.appendChild(el("a", L.labelWrap, { href: p.call_url, "class": "btn btn-primary", "data-test": "pop-wrap" }));
    pop.hidden = false;
  }
  document.body.addEventListener("live:event", function (e) {
    var ev = e.detail || {};
    if (ev.kind === "call.ringing") ringing(ev.payload || {});
    else if (ev.kind === "call.ended") ended(ev.payload || {});
  });
})();
