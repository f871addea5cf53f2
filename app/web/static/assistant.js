// The assistant page: history on load, then each question POSTed as JSON; the answer arrives as NDJSON events
// and is drawn with textContent only (model text is never HTML), citations as chips.
"use strict";
(function () {
  const log = document.getElementById("chat-log");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-input");
  const send = document.getElementById("chat-send");
  const status = document.getElementById("chat-status");
  const CITE = /\[listing:([A-Za-z0-9_=-]+)\]/g;

  function bubble(kind, testid) {
    const li = document.createElement("li");
    li.className = kind;
    if (testid) li.dataset.testid = testid;
    log.appendChild(li);
    return li;
  }

  function draw(li, text) {
    li.textContent = "";
    let last = 0;
    for (const match of text.matchAll(CITE)) {
      li.appendChild(document.createTextNode(text.slice(last, match.index)));
      const chip = document.createElement("span");
      chip.className = "cite";
      chip.dataset.listing = match[1];
      chip.textContent = "listing " + match[1];
      li.appendChild(chip);
      last = match.index + match[0].length;
    }
    li.appendChild(document.createTextNode(text.slice(last)));
  }

  function showTurn(turn) {
    draw(bubble("from-user"), turn.question);
    const answer = bubble("from-assistant", "answer");
    if (turn.answer) draw(answer, turn.answer);
    else { answer.classList.add("failed"); answer.textContent = "No answer (" + turn.outcome + ")."; }
  }

  async function loadHistory() {
    const response = await fetch("/api/assistant/history", { headers: { accept: "application/json" } });
    if (!response.ok) return;
    (await response.json()).turns.forEach(showTurn);
  }

  async function ask(question) {
    draw(bubble("from-user"), question);
    const answer = bubble("from-assistant", "answer");
    status.textContent = "Thinking…";
    send.disabled = true;
    let text = "";
    try {
      const response = await fetch("/api/assistant/messages", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message: question }),
      });
      if (!response.ok) {
        const body = await response.json().catch(() => ({ detail: "The assistant could not answer." }));
        answer.classList.add("failed");
        answer.textContent = body.detail;
        status.textContent = response.headers.get("retry-after") ? "Retry after " + response.headers.get("retry-after") + " s." : "";
        return;
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let newline;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          const event = JSON.parse(buffer.slice(0, newline));
          buffer = buffer.slice(newline + 1);
          if (event.type === "delta") { text += event.text; draw(answer, text); status.textContent = ""; }
          else if (event.type === "tool") status.textContent = event.name === "price_car" ? "Pricing the car…" : "Searching listings…";
          else if (event.type === "refused" || event.type === "error") {
            answer.classList.add(event.type === "refused" ? "refused" : "failed");
            answer.textContent = event.detail;
          } else if (event.type === "done") status.textContent = "";
        }
      }
    } catch (error) {
      answer.classList.add("failed");
      answer.textContent = "The connection was lost. Please ask again.";
    } finally {
      send.disabled = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) return;
    input.value = "";
    ask(question);
  });
  loadHistory();
})();
