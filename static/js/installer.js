// The installer's pages on a flaky network, and the Copy button; every page works without.
(function () {
  "use strict";

  function messageFor(kind) {
    var body = document.body;
    return kind === "send" ? body.dataset.networkError : body.dataset.serverError;
  }

  // Say next to the action that it did not reach us; what was typed stays in the form.
  function showProblem(elt, kind) {
    var anchor = elt.closest("form") || elt;
    var note = anchor.querySelector("[data-request-problem]");
    if (!note) {
      note = document.createElement("p");
      note.className = "field__error request-problem";
      note.setAttribute("role", "alert");
      note.setAttribute("data-request-problem", "");
      if (anchor.tagName === "FORM") {
        var button = anchor.querySelector("[type=submit]");
        anchor.insertBefore(note, button || null);
      } else {
        anchor.appendChild(note);
      }
    }
    note.textContent = messageFor(kind);
    var form = elt.closest("form");
    if (form) form.dataset.submitting = "false";
  }

  // The page follows by itself with JavaScript: the Refresh button is for pages without.
  function hideWithoutJsOnly(root) {
    root.querySelectorAll("[data-without-js]").forEach(function (el) { el.hidden = true; });
  }
  document.addEventListener("DOMContentLoaded", function () { hideWithoutJsOnly(document); });
  document.addEventListener("htmx:afterSettle", function (event) {
    hideWithoutJsOnly(event.detail.target || document);
  });

  document.addEventListener("htmx:sendError", function (event) {
    showProblem(event.detail.elt, "send");
  });
  document.addEventListener("htmx:timeout", function (event) {
    showProblem(event.detail.elt, "send");
  });
  document.addEventListener("htmx:responseError", function (event) {
    showProblem(event.detail.elt, "server");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful) return;
    var anchor = event.detail.elt.closest("form") || event.detail.elt;
    var note = anchor.querySelector && anchor.querySelector("[data-request-problem]");
    if (note) note.remove();
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button || !navigator.clipboard) return;
    var status = document.querySelector("[data-copy-status]");
    navigator.clipboard.writeText(button.dataset.copy).then(function () {
      if (status) status.textContent = button.dataset.copied;
    });
  });
})();
