// The operator's page: the outbox (GEPS hand-overs and completion mails) and how its deliveries stand. The
// operator's token is typed into the page and kept in this module's memory only, never stored.

const kinds = { gepsHandOver: "GEPS連携", mail: "完了メール" };
const states = { pending: "送信待ち", delivered: "配信済み", failed: "失敗" };

function say(title, detail, code) {
  const box = document.getElementById("message");
  box.hidden = false;
  box.dataset.kind = "error";
  box.dataset.code = code;
  document.getElementById("message-title").textContent = title;
  document.getElementById("message-detail").textContent = detail;
}

function when(text) {
  return text ? text.replace("T", " ").replace("Z", " UTC") : "—";
}

async function showOutbox(event) {
  event.preventDefault();
  document.getElementById("message").hidden = true;
  const token = document.getElementById("token").value.trim();
  const response = await fetch("/api/v1/operator/outbox", { headers: { Authorization: `Bearer ${token}` } });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    say(answer.title || `HTTP ${response.status}`, answer.detail || "", answer.rule || "problem");
    return;
  }
  const rows = document.querySelector("#outbox tbody");
  rows.replaceChildren();
  const counts = {};
  for (const message of answer.messages) {
    counts[message.state] = (counts[message.state] || 0) + 1;
    const row = rows.insertRow();
    row.dataset.state = message.state;
    for (const text of [
      message.id, kinds[message.kind] || message.kind, states[message.state] || message.state, String(message.attempts),
      when(message.createdAt), when(message.nextAttemptAt), when(message.deliveredAt), message.lastError || "",
    ]) {
      row.insertCell().textContent = text;
    }
  }
  document.getElementById("summary").textContent = `${answer.messages.length}件: ` +
    Object.entries(counts).map(([state, count]) => `${states[state] || state} ${count}件`).join("、");
  document.body.dataset.loaded = "true";
}

document.getElementById("token-form").addEventListener("submit", (event) => showOutbox(event).catch((error) =>
  say("ポータルに接続できません", String(error), "serverUnreachable")));
