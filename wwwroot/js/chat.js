// MLX Manager chat: composer (attachments by button, drag-and-drop and paste), sending, and the live answer read
// from the turn's SSE stream. The server renders Markdown (safely) and the final message list; this file only
// places what the stream says. No console output.
(function () {
    "use strict";

    var app = document.getElementById("chat-app");
    var composer = document.getElementById("chat-composer");
    if (!app || !composer) {
        return;
    }

    var conversationId = app.dataset.conversationId;
    var mediaRefusal = app.dataset.mediaRefusal || "";
    var maxAttachments = parseInt(app.dataset.maxAttachments || "8", 10);
    var limits = { image: 20 * 1024 * 1024, video: 100 * 1024 * 1024, text: 512 * 1024 };
    var input = document.getElementById("chat-input");
    var fileInput = document.getElementById("attach-input");
    var previews = document.getElementById("attachment-previews");
    var problem = document.getElementById("composer-problem");
    var sendButton = document.getElementById("send-button");
    var stopButton = document.getElementById("stop-button");
    var scroller = document.getElementById("chat-scroll");
    var live = document.getElementById("chat-live");
    var dropHint = document.getElementById("chat-drop-hint");
    var token = composer.querySelector("input[name=__RequestVerificationToken]").value;
    var attachments = [];
    var currentTurn = null;

    function el(tag, className, text) {
        var node = document.createElement(tag);
        if (className) {
            node.className = className;
        }
        if (text !== undefined && text !== null) {
            node.textContent = text;
        }
        return node;
    }

    function nearBottom() {
        return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
    }

    function scrollDown(force) {
        if (force || nearBottom()) {
            scroller.scrollTop = scroller.scrollHeight;
        }
    }

    function showProblem(text) {
        problem.textContent = text;
        problem.hidden = !text;
    }

    function kindOf(file) {
        var name = (file.name || "").toLowerCase();
        if ((file.type || "").indexOf("image/") === 0 || /\.(png|jpe?g|webp|gif|bmp)$/.test(name)) {
            return "image";
        }
        if ((file.type || "").indexOf("video/") === 0 || /\.(mp4|mov|m4v|webm|mkv|avi)$/.test(name)) {
            return "video";
        }
        return "text";
    }

    function formatSize(bytes) {
        return bytes >= 1024 * 1024 ? (bytes / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(bytes / 1024)) + " KB";
    }

    // Attachments: checked here for a quick answer; the server checks again and has the last word.
    function addFiles(files) {
        var refused = [];
        Array.prototype.forEach.call(files, function (file) {
            var kind = kindOf(file);
            if (attachments.length >= maxAttachments) {
                refused.push("At most " + maxAttachments + " attachments per message.");
                return;
            }
            if ((kind === "image" || kind === "video") && mediaRefusal) {
                refused.push(file.name + " was not attached: " + mediaRefusal);
                return;
            }
            if (file.size > limits[kind]) {
                refused.push(file.name + " is " + formatSize(file.size) + "; a " + (kind === "text" ? "text file" : kind) + " may be at most " + formatSize(limits[kind]) + ".");
                return;
            }
            attachments.push({ file: file, kind: kind });
        });
        renderPreviews();
        showProblem(refused.join(" "));
    }

    function renderPreviews() {
        previews.textContent = "";
        attachments.forEach(function (attachment, index) {
            var item = el("li", "attachment-preview " + attachment.kind);
            item.dataset.testid = "attachment-preview";
            item.setAttribute("data-testid", "attachment-preview");
            if (attachment.kind === "image") {
                var img = el("img");
                img.alt = attachment.file.name;
                img.src = URL.createObjectURL(attachment.file);
                item.appendChild(img);
            } else {
                item.appendChild(el("span", "file-badge", attachment.kind === "video" ? "VIDEO" : "TXT"));
            }
            item.appendChild(el("span", "attachment-name", attachment.file.name));
            var remove = el("button", "attachment-remove", "×");
            remove.type = "button";
            remove.setAttribute("aria-label", "Remove " + attachment.file.name);
            remove.addEventListener("click", function () {
                attachments.splice(index, 1);
                renderPreviews();
            });
            item.appendChild(remove);
            previews.appendChild(item);
        });
    }

    fileInput.addEventListener("change", function () {
        addFiles(fileInput.files);
        fileInput.value = "";
    });

    var dragDepth = 0;
    app.addEventListener("dragenter", function (event) {
        if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types || [], "Files") >= 0) {
            dragDepth++;
            dropHint.hidden = false;
        }
    });
    app.addEventListener("dragleave", function () {
        dragDepth = Math.max(0, dragDepth - 1);
        if (dragDepth === 0) {
            dropHint.hidden = true;
        }
    });
    app.addEventListener("dragover", function (event) {
        event.preventDefault();
    });
    app.addEventListener("drop", function (event) {
        event.preventDefault();
        dragDepth = 0;
        dropHint.hidden = true;
        if (event.dataTransfer && event.dataTransfer.files && event.dataTransfer.files.length) {
            addFiles(event.dataTransfer.files);
        }
    });
    input.addEventListener("paste", function (event) {
        var files = event.clipboardData && event.clipboardData.files;
        if (files && files.length) {
            event.preventDefault();
            addFiles(files);
        }
    });

    var sizesItself = window.CSS && CSS.supports && CSS.supports("field-sizing", "content");

    function grow() {
        if (sizesItself) {
            return;
        }
        input.style.height = "auto";
        input.style.height = Math.min(input.scrollHeight, 240) + "px";
    }
    input.addEventListener("input", grow);
    input.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            composer.requestSubmit();
        }
    });

    function setBusy(busy) {
        sendButton.hidden = busy;
        stopButton.hidden = !busy;
        stopButton.disabled = false;
    }

    composer.addEventListener("submit", function (event) {
        event.preventDefault();
        if (currentTurn) {
            return;
        }
        var text = input.value.trim();
        if (!text && attachments.length === 0) {
            showProblem("Write a message or attach a file.");
            return;
        }
        var form = new FormData();
        form.append("__RequestVerificationToken", token);
        form.append("text", text);
        attachments.forEach(function (attachment) {
            form.append("files", attachment.file, attachment.file.name);
        });
        sendButton.disabled = true;
        showProblem("");
        fetch("/chat/" + conversationId + "?handler=Send", { method: "POST", body: form, credentials: "same-origin" })
            .then(function (response) {
                return response.json().catch(function () {
                    return { error: "The message could not be sent (HTTP " + response.status + ")." };
                }).then(function (body) {
                    return { ok: response.ok, body: body };
                });
            })
            .then(function (result) {
                sendButton.disabled = false;
                if (!result.ok) {
                    showProblem(result.body.error || "The message could not be sent.");
                    return;
                }
                appendUserMessage(text, attachments);
                nameConversation(text || (attachments[0] && attachments[0].file.name));
                attachments = [];
                renderPreviews();
                input.value = "";
                grow();
                follow(result.body.turnId);
            })
            .catch(function () {
                sendButton.disabled = false;
                showProblem("MLX Manager did not answer. Is it still running?");
            });
    });

    stopButton.addEventListener("click", function () {
        if (!currentTurn) {
            return;
        }
        stopButton.disabled = true;
        var form = new FormData();
        form.append("__RequestVerificationToken", token);
        fetch("/chat/" + conversationId + "?handler=Stop&turnId=" + encodeURIComponent(currentTurn.id), { method: "POST", body: form, credentials: "same-origin" });
    });

    function appendUserMessage(text, sent) {
        var article = el("article", "msg msg-user");
        article.setAttribute("data-testid", "user-message");
        var body = el("div", "msg-body");
        if (sent.length) {
            var list = el("div", "msg-attachments");
            sent.forEach(function (attachment) {
                if (attachment.kind === "image") {
                    var img = el("img");
                    img.alt = attachment.file.name;
                    img.src = URL.createObjectURL(attachment.file);
                    var holder = el("span", "attachment-image");
                    holder.appendChild(img);
                    list.appendChild(holder);
                } else {
                    var chip = el("span", "attachment-file");
                    chip.appendChild(el("span", "file-badge", attachment.kind === "video" ? "VIDEO" : "TXT"));
                    chip.appendChild(document.createTextNode(" " + attachment.file.name));
                    list.appendChild(chip);
                }
            });
            body.appendChild(list);
        }
        if (text) {
            body.appendChild(el("div", "msg-text", text));
        }
        article.appendChild(body);
        var hint = document.querySelector("[data-testid=no-messages]");
        if (hint) {
            hint.remove();
        }
        live.appendChild(article);
        scrollDown(true);
    }

    // One live assistant message per round of the turn.
    function newRound(turn) {
        var article = el("article", "msg msg-assistant streaming");
        article.setAttribute("data-testid", "live-answer");
        article.appendChild(el("div", "msg-avatar", "M")).setAttribute("aria-hidden", "true");
        var body = el("div", "msg-body");
        var status = el("p", "msg-status");
        status.appendChild(el("span", "typing-dots")).setAttribute("aria-hidden", "true");
        status.appendChild(el("span", "msg-status-text", "Waiting for the model…"));
        body.appendChild(status);
        article.appendChild(body);
        live.appendChild(article);
        turn.round = { article: article, body: body, status: status, thinking: null, content: null, answerHtml: "", tools: {}, thinkingStarted: 0, collapsed: false };
        scrollDown(false);
        return turn.round;
    }

    function round(turn) {
        return turn.round || newRound(turn);
    }

    function setStatus(r, text) {
        if (!r.status) {
            return;
        }
        if (!text) {
            r.status.remove();
            r.status = null;
            return;
        }
        r.status.querySelector(".msg-status-text").textContent = text;
    }

    function thinkingPanel(r) {
        if (!r.thinking) {
            var details = el("details", "thinking live");
            details.setAttribute("data-testid", "thinking");
            details.open = true;
            details.appendChild(el("summary", null, "Thinking…"));
            details.appendChild(el("div", "thinking-text"));
            r.body.insertBefore(details, r.status ? r.status.nextSibling : r.body.firstChild);
            r.thinking = details;
            r.thinkingStarted = Date.now();
        }
        return r.thinking;
    }

    function collapseThinking(r) {
        if (r.thinking && !r.collapsed) {
            var seconds = Math.max(1, Math.round((Date.now() - r.thinkingStarted) / 1000));
            r.thinking.querySelector("summary").textContent = "Thought for " + seconds + " s";
            r.thinking.open = false;
            r.thinking.classList.remove("live");
            r.collapsed = true;
        }
    }

    function contentBox(r) {
        if (!r.content) {
            r.content = el("div", "msg-content markdown");
            r.body.appendChild(r.content);
        }
        return r.content;
    }

    function toolBubble(r, id, name) {
        var bubble = r.tools[id];
        if (!bubble) {
            bubble = el("details", "tool-bubble running");
            bubble.setAttribute("data-testid", "tool-bubble");
            var summary = el("summary");
            summary.appendChild(el("span", "tool-icon", "ƒ")).setAttribute("aria-hidden", "true");
            summary.appendChild(el("span", "tool-name", name));
            summary.appendChild(el("code", "tool-args-inline", ""));
            summary.appendChild(el("span", "tool-state", "running…"));
            bubble.appendChild(summary);
            var detail = el("div", "tool-detail");
            detail.appendChild(el("div", "tool-label", "Arguments"));
            detail.appendChild(el("pre", "tool-args"));
            detail.appendChild(el("div", "tool-label", "Result"));
            detail.appendChild(el("pre", "tool-result", "…"));
            bubble.appendChild(detail);
            r.body.insertBefore(bubble, r.content);
            r.tools[id] = bubble;
        }
        return bubble;
    }

    function parse(event) {
        try {
            return JSON.parse(event.data);
        } catch (e) {
            return {};
        }
    }

    function follow(turnId) {
        var turn = { id: turnId, round: null, failed: false, saved: false };
        currentTurn = turn;
        setBusy(true);
        var source = new EventSource("/chat/turns/" + encodeURIComponent(turnId) + "/events");
        turn.source = source;
        source.addEventListener("status", function (event) {
            var data = parse(event);
            var r = round(turn);
            if (data.kind === "notice") {
                r.body.insertBefore(el("p", "msg-notice", data.text), r.body.firstChild);
            } else {
                setStatus(r, data.text);
            }
            scrollDown(false);
        });
        source.addEventListener("round", function (event) {
            var data = parse(event);
            if (data.round > 1 || !turn.round) {
                newRound(turn);
            }
        });
        source.addEventListener("prefill", function (event) {
            var data = parse(event);
            var r = round(turn);
            var bar = r.body.querySelector("progress.prefill");
            if (!bar) {
                bar = el("progress", "prefill");
                bar.max = 1;
                bar.setAttribute("data-testid", "prefill");
                r.body.insertBefore(bar, r.body.firstChild);
            }
            bar.value = data.fraction;
            bar.title = "Reading the prompt: " + data.done + " / " + data.total + " tokens";
            setStatus(r, "Reading the prompt… " + Math.round(data.fraction * 100) + " %");
            if (data.done >= data.total) {
                bar.remove();
            }
        });
        source.addEventListener("thinking", function (event) {
            var r = round(turn);
            setStatus(r, null);
            var panel = thinkingPanel(r);
            var data = parse(event);
            var box = panel.querySelector(".thinking-text");
            // "full": the whole thinking so far (sent now and then, so late readers need no older deltas).
            box.textContent = data.full ? data.text : box.textContent + data.text;
            scrollDown(false);
        });
        source.addEventListener("thinking-reset", function (event) {
            var r = round(turn);
            var panel = thinkingPanel(r);
            var box = panel.querySelector(".thinking-text");
            box.textContent = parse(event).text + box.textContent;
            r.collapsed = false;
            panel.open = true;
        });
        source.addEventListener("answer", function (event) {
            var r = round(turn);
            setStatus(r, null);
            var data = parse(event);
            // With "at": a delta — keep that many characters of the previous HTML and append the rest.
            var html = typeof data.at === "number" ? (r.answerHtml || "").substring(0, data.at) + (data.html || "") : (data.html || "");
            r.answerHtml = html;
            if (html) {
                collapseThinking(r);
            }
            contentBox(r).innerHTML = html;
            scrollDown(false);
        });
        source.addEventListener("tool-streaming", function (event) {
            var data = parse(event);
            var r = round(turn);
            setStatus(r, "Calling " + data.name + "…");
        });
        source.addEventListener("tool-call", function (event) {
            var data = parse(event);
            var r = round(turn);
            setStatus(r, null);
            collapseThinking(r);
            var bubble = toolBubble(r, data.id, data.name);
            bubble.querySelector(".tool-args-inline").textContent = data.arguments;
            bubble.querySelector(".tool-args").textContent = data.arguments;
            scrollDown(false);
        });
        source.addEventListener("tool-result", function (event) {
            var data = parse(event);
            var bubble = toolBubble(round(turn), data.id, data.name);
            bubble.classList.remove("running");
            if (data.isError) {
                bubble.classList.add("tool-error");
            }
            bubble.querySelector(".tool-state").textContent = data.isError ? "error" : "done · " + data.ms + " ms";
            bubble.querySelector(".tool-result").textContent = data.content;
            scrollDown(false);
        });
        source.addEventListener("completed", function (event) {
            var data = parse(event);
            var r = round(turn);
            setStatus(r, null);
            r.article.classList.remove("streaming");
            if (data.incomplete) {
                r.article.classList.add("incomplete");
            }
            var m = data.metrics;
            if (m) {
                var footer = el("footer", "msg-metrics");
                footer.setAttribute("data-testid", "metrics");
                if (m.completionTokens !== null) {
                    footer.appendChild(el("span", null, m.completionTokens + (m.estimated ? "≈" : "") + " tokens"));
                }
                if (m.ttftMs !== null) {
                    footer.appendChild(el("span", null, (m.ttftMs / 1000).toFixed(2) + " s to first token"));
                }
                if (m.tokensPerSecond !== null) {
                    footer.appendChild(el("span", null, m.tokensPerSecond.toFixed(1) + " tok/s"));
                }
                r.body.appendChild(footer);
            }
        });
        source.addEventListener("saved", function () {
            turn.saved = true;
        });
        source.addEventListener("failure", function (event) {
            var r = round(turn);
            setStatus(r, null);
            r.body.appendChild(el("p", "msg-incomplete", parse(event).message));
        });
        source.addEventListener("done", function (event) {
            var data = parse(event);
            source.close();
            finish(turn, data);
        });
    }

    // The server names a new conversation after its first message; show that name without a reload.
    function nameConversation(text) {
        var title = document.getElementById("conversation-title");
        if (!title || title.textContent !== "New chat" || !text) {
            return;
        }
        var name = text.replace(/\s+/g, " ").trim();
        name = name.length > 60 ? name.substring(0, 57).trim() + "…" : name;
        title.textContent = name;
        var link = document.querySelector(".conversation-list a[aria-current=page] .conversation-title");
        if (link) {
            link.textContent = name;
        }
        document.title = name + " · MLX Manager";
    }

    function finish(turn, data) {
        currentTurn = null;
        setBusy(false);
        var failedBeforeAnswer = data.outcome === "failed" && !turn.saved;
        fetch("/chat/" + conversationId + "?handler=Messages", { credentials: "same-origin" })
            .then(function (response) {
                return response.ok ? response.text() : null;
            })
            .then(function (html) {
                if (html !== null) {
                    var holder = document.createElement("div");
                    holder.innerHTML = html;
                    var fresh = holder.firstElementChild;
                    var old = document.getElementById("chat-messages");
                    old.replaceWith(fresh);
                    decorate(fresh);
                    live.textContent = "";
                }
                if (failedBeforeAnswer && data.error) {
                    var notice = el("p", "form-error turn-error", data.error);
                    notice.setAttribute("data-testid", "turn-error");
                    live.appendChild(notice);
                }
                scrollDown(true);
                input.focus();
            });
    }

    // Copy buttons on code blocks of finished answers.
    function decorate(root) {
        Array.prototype.forEach.call(root.querySelectorAll(".msg-content pre"), function (pre) {
            if (pre.querySelector(".copy-code") || !navigator.clipboard) {
                return;
            }
            var button = el("button", "copy-code", "Copy");
            button.type = "button";
            button.addEventListener("click", function () {
                var code = pre.querySelector("code");
                navigator.clipboard.writeText((code || pre).textContent).then(function () {
                    button.textContent = "Copied";
                    setTimeout(function () { button.textContent = "Copy"; }, 1500);
                });
            });
            pre.appendChild(button);
        });
    }

    decorate(document);
    scrollDown(true);
    if (app.dataset.runningTurn) {
        follow(app.dataset.runningTurn);
    }
})();
