/* «Insert the department's answer»: put an answered handoff's text into the answer to the
 * client so the operator edits it instead of retyping it. While an answer in the personal
 * cabinet is promised (its deadline badge shows) it goes there; otherwise into the case's
 * message form, switched to «reply to client». Loaded with the handoff panel; one handler.
 */
(function () {
  "use strict";
  if (window.otklikInsertAnswer) { return; }
  window.otklikInsertAnswer = true;
  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("[data-insert-answer]") : null;
    if (!button) { return; }
    e.preventDefault();
    var text = button.getAttribute("data-insert-answer") || "";
    var target = null;
    if (document.getElementById("portal-due")) { target = document.getElementById("portal-answer-body"); }
    if (!target) {
      target = document.getElementById("message-body");
      var reply = document.querySelector("#message-form input[name=visibility][value=public]");
      if (reply) { reply.checked = true; }
    }
    if (!target) { return; }
    target.value = target.value ? target.value.replace(/\s+$/, "") + "\n\n" + text : text;
    target.focus();
    target.scrollIntoView({ block: "center" });
  });
})();
