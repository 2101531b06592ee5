// MLX Manager, profile form: fields the chosen engine has no way to take are disabled (and so not sent), the
// folder field shows only for "a folder on this machine", and "Use <engine>" applies a suggestion. The server
// renders the same state; this keeps it in step while the user edits. No console output.
(function () {
    "use strict";

    var form = document.querySelector("form.profile-form");
    if (!form) {
        return;
    }
    var engine = form.querySelector("#Input_Engine");
    var model = form.querySelector("#Input_ModelRef");
    var folder = form.querySelector(".model-folder");

    function applyEngine() {
        form.querySelectorAll("[data-unsupported-on]").forEach(function (input) {
            var unsupported = (input.getAttribute("data-unsupported-on") || "").split(" ").indexOf(engine.value) >= 0;
            input.disabled = unsupported;
            input.closest("div").classList.toggle("field-unsupported", unsupported);
        });
    }

    function applyModel() {
        folder.hidden = model.value !== "__folder__";
    }

    engine.addEventListener("change", applyEngine);
    model.addEventListener("change", applyModel);
    form.addEventListener("click", function (event) {
        var use = event.target.closest && event.target.closest("[data-use-engine]");
        if (use) {
            engine.value = use.getAttribute("data-use-engine");
            engine.dispatchEvent(new Event("change", { bubbles: true }));
        }
    });
    applyEngine();
    applyModel();
})();
