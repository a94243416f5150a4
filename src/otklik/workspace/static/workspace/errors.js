// htmx does not swap a 4xx/5xx answer, so without this a refused request (a note of
// several megabytes: 400) would change nothing on screen. Show the server's message
// (X-Error-Message, from otklik.common.error_pages) above the page; the form keeps its text.
document.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail.xhr;
  var text = xhr && xhr.getResponseHeader("X-Error-Message");
  if (!text) { return; }
  var box = document.createElement("textarea");
  box.innerHTML = text; // decode the &#NNN; entities of the header
  var main = document.querySelector("main.page") || document.body;
  var flash = document.getElementById("error-flash");
  if (!flash) {
    flash = document.createElement("div");
    flash.id = "error-flash"; flash.className = "flash"; flash.setAttribute("role", "alert");
    main.insertBefore(flash, main.firstChild);
  }
  flash.innerHTML = "";
  var p = document.createElement("p"); p.className = "flash-error"; p.textContent = box.value;
  flash.appendChild(p);
});
