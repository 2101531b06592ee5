// MLX Manager: the little behaviour htmx does not cover. Keep it small; no console output.
(function () {
    "use strict";

    // When an htmx request fails, say so instead of leaving the page silently unchanged.
    function showProblem(text) {
        var notice = document.getElementById("request-problem");
        if (!notice) {
            return;
        }
        notice.querySelector("[data-message]").textContent = text;
        notice.hidden = false;
    }

    document.addEventListener("htmx:responseError", function (event) {
        var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
        var text = status === 403
            ? "You are not allowed to do that."
            : status === 429
                ? "Too many attempts. Wait a minute and try again."
                : "The server could not complete the request (HTTP " + status + "). Reload the page and try again.";
        showProblem(text);
    });

    document.addEventListener("htmx:sendError", function () {
        showProblem("MLX Manager did not answer. Is it still running?");
    });

    // A form with data-confirm asks first (instead of an inline onsubmit, which the Content-Security-Policy refuses).
    document.addEventListener("submit", function (event) {
        var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
        if (question && !window.confirm(question)) {
            event.preventDefault();
        }
    });

    // Polling only while the page is visible. htmx runs without eval (CSP), so hx-trigger cannot carry a
    // [document.visibilityState==='visible'] filter: every "every …" poll is skipped here while the page is hidden.
    document.addEventListener("htmx:beforeRequest", function (event) {
        var trigger = event.detail.elt.getAttribute("hx-trigger") || "";
        if (document.visibilityState !== "visible" && /(^|,)\s*every\s/.test(trigger)) {
            event.preventDefault();
        }
    });

    document.addEventListener("click", function (event) {
        var dismiss = event.target.closest && event.target.closest("[data-dismiss]");
        if (dismiss) {
            dismiss.closest("[role=alert]").hidden = true;
        }
    });
})();
