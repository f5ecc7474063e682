// The chat page: sends the conversation to /chat/send and writes the streamed answer as it comes.
"use strict";

(function () {
  function csrfOf(root) {
    return root.dataset.csrf;
  }

  // The words of a refusal: the gateway's JSON error, or the message of a dashboard error page.
  async function refusalText(response, root) {
    const type = response.headers.get("content-type") || "";
    try {
      if (type.includes("application/json")) {
        const body = await response.json();
        if (body && body.error && body.error.message) return body.error.message;
      } else {
        const html = await response.text();
        const doc = new DOMParser().parseFromString(html, "text/html");
        const found = doc.querySelector("main .flash p, main .flash, main p, body p");
        if (found && found.textContent.trim()) return found.textContent.trim();
      }
    } catch (error) {
      // fall through to the generic message
    }
    return root.dataset.failed;
  }

  function setup(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "yes";
    const form = root.querySelector("#chat-form");
    if (!form) return;
    const log = root.querySelector("#chat-log");
    const box = root.querySelector("#chat-message");
    const model = root.querySelector("#chat-model");
    const sendButton = root.querySelector("#chat-send");
    const busy = root.querySelector("#chat-busy");
    const history = [];
    let sending = false;

    function append(role, text) {
      const empty = root.querySelector("#chat-empty");
      if (empty) empty.remove();
      const item = document.createElement("div");
      item.className = "chat-turn " + role;
      const who = document.createElement("p");
      who.className = "who";
      who.textContent = role === "user" ? root.dataset.you : root.dataset.assistant + " · " + model.value;
      const body = document.createElement("div");
      body.className = "text";
      body.textContent = text;
      item.append(who, body);
      log.append(item);
      item.scrollIntoView({ block: "end" });
      return item;
    }

    function refuse(item, message) {
      item.classList.add("refused");
      item.setAttribute("role", "alert");
      item.querySelector(".text").textContent = message;
    }

    // One server-sent event of the gateway's stream; returns the text it adds.
    function readEvent(event, item) {
      let added = "";
      for (const line of event.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") continue;
        let chunk;
        try { chunk = JSON.parse(data); } catch (error) { continue; }
        if (chunk.error) { refuse(item, chunk.error.message || root.dataset.failed); continue; }
        for (const choice of chunk.choices || []) {
          const piece = choice.delta && choice.delta.content;
          if (typeof piece === "string") added += piece;
        }
        if (chunk.usage) {
          const note = document.createElement("p");
          note.className = "usage-note";
          note.textContent = (chunk.usage.total_tokens || 0).toLocaleString() + " " + root.dataset.used;
          item.append(note);
        }
      }
      return added;
    }

    async function readStream(response, item) {
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const text = item.querySelector(".text");
      let buffer = "";
      let answer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const added = readEvent(buffer.slice(0, cut), item);
          buffer = buffer.slice(cut + 2);
          if (added) {
            answer += added;
            text.textContent = answer;
            item.scrollIntoView({ block: "end" });
          }
        }
      }
      return item.classList.contains("refused") ? "" : answer;
    }

    async function send() {
      const message = box.value.trim();
      if (!message || sending) return;
      sending = true;
      sendButton.disabled = true;
      busy.hidden = false;
      append("user", message);
      history.push({ role: "user", content: message });
      box.value = "";
      const item = append("assistant", "");
      item.setAttribute("aria-busy", "true");
      let answer = "";
      try {
        const response = await fetch(root.dataset.send, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "content-type": "application/json",
            "accept": "text/event-stream",
            "x-csrf-token": csrfOf(root),
          },
          body: JSON.stringify({ model: model.value, messages: history }),
        });
        if (response.ok) {
          answer = await readStream(response, item);
        } else {
          refuse(item, await refusalText(response, root));
        }
      } catch (error) {
        refuse(item, root.dataset.failed);
      } finally {
        item.removeAttribute("aria-busy");
        if (answer) {
          history.push({ role: "assistant", content: answer });
        } else {
          history.pop(); // unanswered: not part of the conversation the model sees
        }
        sending = false;
        sendButton.disabled = false;
        busy.hidden = true;
        box.focus();
        document.body.dispatchEvent(new CustomEvent("tokengate:answered"));
      }
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      send();
    });
    box.addEventListener("keydown", (event) => {
      // Enter sends; not while an input method (Korean, Japanese…) is still composing
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send();
      }
    });
    root.querySelector("#chat-clear").addEventListener("click", () => {
      history.length = 0;
      log.replaceChildren();
      box.focus();
    });
  }

  function setupAll() {
    const root = document.getElementById("chat-page");
    if (root) setup(root);
  }
  document.addEventListener("DOMContentLoaded", setupAll);
  document.addEventListener("htmx:afterSettle", setupAll);
})();
