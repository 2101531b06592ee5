// Keys page: the "Copy" button next to a new key's secret (no inline script: the Content-Security-Policy refuses it).
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
