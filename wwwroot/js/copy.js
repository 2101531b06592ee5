// Copy buttons: data-copy="<selector>" copies that element's text (a new key's secret on /keys, the base URL and
// snippets on /connect). A file, not inline script: the Content-Security-Policy refuses inline script.
(function () {
    "use strict";

    document.addEventListener("click", function (event) {
        var button = event.target.closest && event.target.closest("[data-copy]");
        if (!button) {
            return;
        }
        var source = document.querySelector(button.getAttribute("data-copy"));
        if (!source || !navigator.clipboard) {
            button.textContent = "Select and copy";
            return;
        }
        navigator.clipboard.writeText(source.textContent.trim()).then(
            function () { button.textContent = "Copied"; },
            function () { button.textContent = "Select and copy"; });
    });
})();
