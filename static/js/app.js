// Small enhancements on top of htmx; every page works without them.
(function () {
  "use strict";

  function enhance(root) {
    root.querySelectorAll("[data-needs-js][hidden]").forEach(function (el) {
      el.hidden = false;
    });
    loadScanning(root);
  }

  // Scanning (static/js/scan.js, a module) is fetched only by a page with a field to scan,
  // and only where the browser has a camera API; once loaded it follows htmx swaps itself.
  var scanningLoaded = false;
  function loadScanning(root) {
    if (scanningLoaded || !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) return;
    var template = root.querySelector("template[data-scan-for]");
    if (!template) return;
    scanningLoaded = true;
    var script = document.createElement("script");
    script.type = "module";
    script.src = template.getAttribute("data-scan-script");
    document.head.appendChild(script);
  }

  // After a step is swapped in, move focus where a keyboard or screen reader user expects it:
  // the error summary when there is one, otherwise the new page's heading.
  function focusNewContent(main) {
    var target = main.querySelector("[data-error-summary]") || main.querySelector("h1");
    if (!target) return;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: false });
  }

  // The person's time zone, kept a year like the language: the server shows times in it
  // (in UTC until it knows, and always without JavaScript; the zone is always shown).
  function rememberTimeZone() {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    // Zone names ("Europe/Brussels") are safe in a cookie as they are.
    if (!zone || !/^[A-Za-z0-9_+\/-]+$/.test(zone)) return;
    if (document.cookie.split("; ").indexOf("tz=" + zone) !== -1) return;
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax" +
      (location.protocol === "https:" ? "; secure" : "");
  }

  document.addEventListener("DOMContentLoaded", function () {
    rememberTimeZone();
    enhance(document);
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    enhance(target);
    if (target && target.id === "main") focusNewContent(target);
  });

  // One submit per click: a double click must not send the same step twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitting === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "true";
    window.setTimeout(function () { form.dataset.submitting = "false"; }, 3000);
  }, true);
})();
