// MLX Manager, /servers: the profile picker (an ARIA combobox), log panels that follow a server's log, and
// keeping what only the browser knows out of the live region's morphs. Keep it small; no console output.
(function () {
    "use strict";

    // Log panels and their toggles hold state only the browser knows (open, filled, scrolled): morphing the
    // live region on every tick must leave elements marked data-morph-keep exactly as they are.
    if (window.Idiomorph) {
        var before = Idiomorph.defaults.callbacks.beforeNodeMorphed;
        Idiomorph.defaults.callbacks.beforeNodeMorphed = function (oldNode, newNode) {
            if (oldNode.nodeType === 1 && oldNode.hasAttribute("data-morph-keep")) {
                return false;
            }
            return before ? before(oldNode, newNode) : undefined;
        };
    }

    // --- Profile picker: type to filter, ArrowUp/ArrowDown to move, Enter to choose, Escape to close. ---
    function setUpCombobox(root) {
        var input = root.querySelector("[role=combobox]");
        var value = root.querySelector("input[type=hidden]");
        var active = -1;

        function list() { return document.getElementById(input.getAttribute("aria-controls")); }
        function options() { return Array.prototype.slice.call(list().querySelectorAll("[role=option]")); }
        function shown() { return options().filter(function (o) { return !o.hidden; }); }
        function isOpen() { return !list().hidden; }

        function highlight() {
            var visible = shown();
            options().forEach(function (o) { o.classList.remove("active"); });
            if (active >= 0 && visible[active]) {
                visible[active].classList.add("active");
                input.setAttribute("aria-activedescendant", visible[active].id);
                visible[active].scrollIntoView({ block: "nearest" });
            } else {
                input.removeAttribute("aria-activedescendant");
            }
        }
        function filter() {
            var query = input.value.trim().toLowerCase();
            var any = false;
            options().forEach(function (o) {
                var match = query === "" || o.getAttribute("data-search").indexOf(query) >= 0;
                o.hidden = !match;
                any = any || match;
            });
            list().querySelector(".combobox-empty").hidden = any;
            active = any ? 0 : -1;
            highlight();
        }
        function open() {
            list().hidden = false;
            input.setAttribute("aria-expanded", "true");
            filter();
        }
        function close() {
            list().hidden = true;
            input.setAttribute("aria-expanded", "false");
            active = -1;
            highlight();
        }
        function choose(option) {
            input.value = option.getAttribute("data-label");
            value.value = option.getAttribute("data-value");
            options().forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
            close();
        }

        input.addEventListener("input", function () {
            value.value = "";
            open();
        });
        input.addEventListener("click", function () {
            if (isOpen()) { close(); } else { open(); }
        });
        input.addEventListener("blur", function () { close(); });
        input.addEventListener("keydown", function (event) {
            var visible = shown();
            if (event.key === "ArrowDown" || event.key === "ArrowUp") {
                event.preventDefault();
                if (!isOpen()) {
                    open();
                    return;
                }
                active = event.key === "ArrowDown" ? Math.min(active + 1, visible.length - 1) : Math.max(active - 1, 0);
                highlight();
            } else if (event.key === "Enter") {
                if (isOpen() && visible[active]) {
                    event.preventDefault();
                    choose(visible[active]);
                } else if (!value.value) {
                    event.preventDefault(); // nothing chosen yet: show the choices instead of submitting
                    open();
                }
            } else if (event.key === "Escape" && isOpen()) {
                event.preventDefault();
                close();
            }
        });
        // mousedown, not click: choosing must happen before the input's blur closes the list.
        root.addEventListener("mousedown", function (event) {
            var option = event.target.closest && event.target.closest("[role=option]");
            if (option) {
                event.preventDefault();
                choose(option);
            }
        });
        var form = root.closest("form");
        if (form) {
            form.addEventListener("htmx:afterRequest", function (event) {
                if (event.detail && event.detail.successful) {
                    input.value = "";
                    value.value = "";
                }
            });
        }
    }

    // --- Log panels: fetch new lines when opened and whenever the stream says the log grew. ---
    var maxLines = 2000;

    function panelOf(id) { return document.getElementById("server-logs-" + id); }

    function atBottom(box) { return box.scrollHeight - box.scrollTop - box.clientHeight < 24; }

    function fetchLines(panel, id) {
        if (panel.getAttribute("data-loading") === "1") {
            panel.setAttribute("data-again", "1");
            return;
        }
        var tile = document.getElementById("server-tile-" + id);
        var run = tile ? tile.getAttribute("data-run-id") : "";
        var box = panel.querySelector(".log-lines");
        if (panel.getAttribute("data-run") !== run) {
            box.textContent = ""; // a new run: its lines start over
            panel.setAttribute("data-run", run);
            panel.setAttribute("data-after", "0");
        }
        panel.setAttribute("data-loading", "1");
        var url = "/servers?handler=LogLines&id=" + encodeURIComponent(id) + "&after=" + encodeURIComponent(panel.getAttribute("data-after") || "0");
        fetch(url, { credentials: "same-origin" })
            .then(function (response) {
                if (!response.ok) {
                    throw new Error("HTTP " + response.status);
                }
                var last = response.headers.get("X-Log-Last");
                return response.text().then(function (html) { return { html: html, last: last, run: response.headers.get("X-Log-Run") }; });
            })
            .then(function (result) {
                if (result.run !== panel.getAttribute("data-run")) {
                    panel.setAttribute("data-again", "1"); // the server restarted meanwhile: start over
                    return;
                }
                var follow = atBottom(box);
                box.insertAdjacentHTML("beforeend", result.html); // HTML-encoded by the server
                while (box.children.length > maxLines) {
                    box.removeChild(box.firstElementChild);
                }
                panel.setAttribute("data-after", result.last || "0");
                if (follow) {
                    box.scrollTop = box.scrollHeight;
                }
            })
            .catch(function (error) {
                var line = document.createElement("div");
                line.className = "log-line log-skipped";
                line.textContent = "Could not load the log (" + error.message + ").";
                box.appendChild(line);
            })
            .then(function () {
                panel.setAttribute("data-loading", "0");
                if (panel.getAttribute("data-again") === "1" && !panel.hidden) {
                    panel.setAttribute("data-again", "0");
                    fetchLines(panel, id);
                }
            });
    }

    document.addEventListener("click", function (event) {
        var toggle = event.target.closest && event.target.closest("[data-logs-toggle]");
        if (!toggle) {
            return;
        }
        var id = toggle.getAttribute("data-logs-toggle");
        var panel = panelOf(id);
        if (!panel) {
            return;
        }
        var opening = panel.hidden;
        panel.hidden = !opening;
        toggle.setAttribute("aria-expanded", opening ? "true" : "false");
        if (opening) {
            fetchLines(panel, id);
            panel.querySelector(".log-lines").scrollTop = panel.querySelector(".log-lines").scrollHeight;
        }
    });

    document.addEventListener("htmx:sseMessage", function (event) {
        if (!event.target || event.target.id !== "log-doorbell") {
            return;
        }
        String(event.detail && event.detail.data || "").split(" ").forEach(function (entry) {
            var parts = entry.split(":");
            var panel = panelOf(parts[0]);
            if (panel && !panel.hidden
                && (panel.getAttribute("data-run") !== parts[1] || Number(parts[2]) > Number(panel.getAttribute("data-after") || "0"))) {
                fetchLines(panel, parts[0]);
            }
        });
    });

    document.querySelectorAll("[data-combobox]").forEach(setUpCombobox);
})();
