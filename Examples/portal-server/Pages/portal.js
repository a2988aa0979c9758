// The portal's pages: certificate login, the registration, the IC card renewal (ICカード更新) with the card swap, the
// certificate update without login (電子証明書更新) and the revocation request (インターネット失効申込).
// The card stays on the person's computer: this module asks the card agent on loopback for evidence over the
// server's challenges; PINs are typed into the agent's own dialog (pinentry), never into this page. No framework
// and no build step: an ES module the browser loads as it is.

const agentURL = document.querySelector('meta[name="card-agent"]').content;
const api = "/api/v1";

/** An error a person can act on: a Japanese title (the manuals' term) and an English sentence. */
class PersonError extends Error {
  constructor(title, detail, code, extra = {}) {
    super(detail);
    this.title = title;
    this.code = code;
    Object.assign(this, extra);
  }
}

// The titles of the agent's error codes; the agent's own sentence says what happened and what to do.
const agentTitles = {
  wrongPIN: "PINが正しくありません",
  pinBlocked: "PINが閉塞しています",
  lastTryRefused: "PINを送信しませんでした",
  noCard: "ICカードが見つかりません",
  cardRemoved: "ICカードが取り出されました",
  readerGone: "カードリーダが見つかりません",
  pcscUnavailable: "カードサービスに接続できません",
  cancelled: "中止しました",
  timeout: "時間切れです",
  originNotAllowed: "このポータルはカードエージェントに許可されていません",
};

/** A request to the card agent. A fetch that fails outright never reached it: not running, or not allowed. */
async function agent(path, body) {
  let response;
  try {
    response = await fetch(agentURL + path, body === undefined
      ? { method: "GET" }
      : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch {
    setAgentStatus(false);
    throw new PersonError(
      "カードエージェントに接続できません",
      "The page cannot reach the card agent on this computer. Start the card agent (card-agent); if the browser " +
        "asked whether this site may use apps and devices on this computer (ローカルネットワークへのアクセス), " +
        "allow it in the site's settings, then try again.",
      "agentUnreachable");
  }
  setAgentStatus(true);
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = answer.error || {};
    const code = error.code || "agentFailed";
    throw new PersonError(agentTitles[code] || "カードエージェントのエラー", error.message || `HTTP ${response.status}`,
      code, { triesLeft: error.triesLeft });
  }
  return answer;
}

/** A request to the portal's API; a problem document (RFC 9457) becomes a PersonError. */
async function portal(method, path, body) {
  const init = { method, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(api + path, init);
  } catch {
    throw new PersonError("ポータルに接続できません", "The portal cannot be reached; check the network and try again.",
      "serverUnreachable");
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new PersonError(answer.title || `HTTP ${response.status}`, answer.detail || "", answer.rule || "problem",
      { status: response.status });
  }
  return answer;
}

// MARK: Screens and messages

function show(screen) {
  for (const section of document.querySelectorAll("section[data-screen]")) {
    section.hidden = section.dataset.screen !== screen;
  }
  document.body.dataset.screen = screen;
}

function say(title, detail = "", kind = "error", code = "") {
  const box = document.getElementById("message");
  box.hidden = false;
  box.dataset.kind = kind;
  box.dataset.code = code;
  document.getElementById("message-title").textContent = title;
  document.getElementById("message-detail").textContent = detail;
}

function clearMessage() {
  document.getElementById("message").hidden = true;
}

function sayError(error) {
  if (error instanceof PersonError) {
    let detail = error.message;
    if (error.code === "wrongPIN" && Number.isInteger(error.triesLeft)) {
      detail = `残り${error.triesLeft}回 — ` + detail;
    }
    say(error.title, detail, "error", error.code);
  } else {
    say("予期しないエラー", String(error), "error", "unexpected");
  }
}

function setAgentStatus(reachable) {
  const status = document.getElementById("agent-status");
  status.dataset.state = reachable ? "ready" : "unreachable";
  status.textContent = reachable ? "カードエージェント: 接続済み" : "カードエージェント: 未接続";
}

/** Runs an action with its buttons disabled; its error is said on the page. */
async function act(action) {
  const buttons = [...document.querySelectorAll("button:not([data-keep])")];
  buttons.forEach((button) => (button.disabled = true));
  document.body.dataset.busy = "true";
  try {
    clearMessage();
    await action();
  } catch (error) {
    if (error instanceof PersonError && error.code === "noSession") {
      // The session expired or ended (an IC card renewal ends the old card's sessions): back to the login.
      error.message = "The session has ended (it expired, or the certificate it was made with was replaced); log in " +
        "again with your current card.";
      flowID = null;
      show("login");
    }
    sayError(error);
  } finally {
    buttons.forEach((button) => (button.disabled = false));
    // 失効申込をする(確定) stays off until 上記内容を確認しました is ticked.
    document.getElementById("revoke-submit").disabled = !document.getElementById("revoke-checked").checked;
    delete document.body.dataset.busy;
  }
}

// MARK: Login and the registration

const roleNames = { representative: "代表者", agent: "代理人" };
const statusNames = { active: "有効", deleted: "削除済み", suspended: "停止中", superseded: "更新済み" };

async function logIn() {
  say("ICカードを読み取っています", "Enter the PIN in the card agent's window (not in this page).", "info");
  const challenge = await portal("POST", "/login/challenge");
  const evidence = await agent("/v1/authenticate", challenge);
  await portal("POST", "/login", evidence);
  clearMessage();
  await showRegistration();
}

async function showRegistration() {
  const [session, registration] = await Promise.all([portal("GET", "/session"), portal("GET", "/registration")]);
  const business = document.getElementById("business");
  business.replaceChildren();
  for (const [label, value] of [
    ["商号又は名称", registration.business.name],
    ["所在地", registration.business.address],
    ["代表者氏名", registration.business.representativeName],
    ["ログイン中の権限", roleNames[session.role] || session.role],
  ]) {
    const term = document.createElement("dt");
    term.textContent = label;
    const description = document.createElement("dd");
    description.textContent = value;
    business.append(term, description);
  }
  const rows = document.querySelector("#users tbody");
  rows.replaceChildren();
  for (const user of registration.users) {
    const active = user.certificates.find((certificate) => certificate.status === "active");
    const row = document.createElement("tr");
    for (const text of [
      user.name, roleNames[user.role] || user.role, statusNames[user.status] || user.status,
      active ? active.notValidAfter.slice(0, 10) : "—",
    ]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    rows.append(row);
  }
  document.getElementById("rights").textContent = session.role === "representative"
    ? "代表者は、業者情報・利用者の追加と変更・代理人の登録ができます。"
    : "代理人は、自分の利用者情報とICカードの更新ができます。業者情報の変更は代表者が行います。";
  show("registration");
}

async function logOut() {
  await portal("POST", "/logout");
  show("login");
}

// MARK: The IC card renewal (ICカード更新)

let flowID = null;

async function startRenewal() {
  const state = await portal("POST", "/flows/ic-card-renewal");
  flowID = state.flowID;
  show("current-card");
}

/** The card's evidence for a flow's card step: the flow's challenge (`flow` is its path), signed through the agent. */
async function cardEvidence(flow) {
  const challenge = await portal("POST", `${flow}/challenge`);
  return agent("/v1/authenticate", challenge);
}

/** A renewal's card step: the card's evidence to the step. */
async function presentCard(step) {
  const flow = `/flows/ic-card-renewal/${flowID}`;
  return portal("POST", `${flow}/${step}`, await cardEvidence(flow));
}

async function presentCurrentCard() {
  say("現在使用しているICカードを読み取っています", "Enter its PIN in the card agent's window.", "info");
  const state = await presentCard("current-card");
  clearMessage();
  if (state.step === "new-card") await swapCards();
}

async function swapCards() {
  show("swap");
  try {
    await agent("/v1/swap", { timeoutSeconds: 120 });
  } catch (error) {
    show("new-card");
    throw error;
  }
  await presentNewCard();
}

/** The new card's step; after a failure (a wrong PIN, the card pulled) the person retries it from its screen. */
async function presentNewCard() {
  say("新規に使用するICカードを読み取っています", "Enter the new card's PIN in the card agent's window.", "info");
  let state;
  try {
    state = await presentCard("new-card");
  } catch (error) {
    show("new-card");
    throw error;
  }
  clearMessage();
  if (state.step === "confirm") await showConfirmation();
}

async function showConfirmation() {
  const confirmation = await portal("GET", `/flows/ic-card-renewal/${flowID}/confirmation`);
  document.getElementById("confirm-title").textContent = confirmation.title;
  const blocks = document.getElementById("confirm-blocks");
  blocks.replaceChildren();
  for (const block of confirmation.blocks) {
    const heading = document.createElement("h3");
    heading.textContent = block.heading;
    blocks.append(heading, rowsTable(block.rows));
  }
  const notes = document.getElementById("confirm-notes");
  notes.replaceChildren(...listItems(confirmation.notes));
  notes.className = "notes";
  show("confirm");
}

async function update() {
  const completion = await portal("POST", `/flows/ic-card-renewal/${flowID}/update`);
  document.getElementById("completed-message").textContent = completion.message;
  flowID = null;
  show("completed");
}

async function back() {
  await portal("POST", `/flows/ic-card-renewal/${flowID}/back`);
  show("current-card");
}

async function cancelSwap() {
  await agent("/v1/swap/cancel", {});
}

// MARK: The certificate update without login (電子証明書更新)

let updateFlowID = null;

function updateType() {
  return document.querySelector('input[name="update-type"]:checked').value;
}

async function startUpdate() {
  document.querySelector('input[name="update-type"][value="privateCertificate"]').checked = true;
  document.getElementById("jpki-consent").checked = false;
  document.getElementById("jpki-consent-row").hidden = true;
  show("update-type");
}

async function chooseUpdateType() {
  const type = updateType();
  if (type === "myNumberCard" && !document.getElementById("jpki-consent").checked) {
    throw new PersonError("同意が必要です",
      "Updating a My Number card's certificate asks J-LIS for the old certificate's successor: tick the consent " +
        "(同意) first.", "jpkiConsentRequired");
  }
  const state = await portal("POST", "/flows/certificate-update", { type });
  updateFlowID = state.flowID;
  document.getElementById("update-current-text").textContent = type === "myNumberCard"
    ? "マイナンバーカードをカードリーダに挿入し、「次へ」を押してください。カードエージェントが署名用電子証明書のパスワードを尋ねます。"
    : "登録済みの（現在の）ICカードをカードリーダに挿入し、「次へ」を押してください。カードエージェントがPINを尋ねます。";
  show("update-current");
}

/** An update's card step: the card's evidence to the step, with what else the step takes. */
async function presentUpdateCard(step, extra) {
  const flow = `/flows/certificate-update/${updateFlowID}`;
  return portal("POST", `${flow}/${step}`, { evidence: await cardEvidence(flow), ...extra });
}

async function presentUpdateCurrent() {
  say("登録済みの電子証明書を読み取っています", "Enter the PIN in the card agent's window.", "info");
  const consent = updateType() === "myNumberCard" ? { consent: true } : {};
  const state = await presentUpdateCard("current-certificate", consent);
  clearMessage();
  if (state.step === "confirm") return showUpdateConfirmation();
  show("update-swap");
  try {
    await agent("/v1/swap", { timeoutSeconds: 120 });
  } catch (error) {
    show("update-new");
    throw error;
  }
  await presentUpdateNew();
}

async function presentUpdateNew() {
  say("新しいICカードを読み取っています", "Enter the new card's PIN in the card agent's window.", "info");
  try {
    await presentUpdateCard("new-certificate", {});
  } catch (error) {
    show("update-new");
    throw error;
  }
  clearMessage();
  await showUpdateConfirmation();
}

function listItems(texts) {
  return texts.map((text) => {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  });
}

function rowsTable(rows) {
  const table = document.createElement("table");
  for (const row of rows) {
    const line = table.insertRow();
    const label = document.createElement("th");
    label.textContent = row.label;
    const value = document.createElement("td");
    value.textContent = row.value;
    line.append(label, value);
  }
  return table;
}

async function showUpdateConfirmation() {
  const confirmation = await portal("GET", `/flows/certificate-update/${updateFlowID}/confirmation`);
  document.getElementById("update-confirm-title").textContent = confirmation.title;
  const blocks = document.getElementById("update-confirm-blocks");
  blocks.replaceChildren();
  for (const [heading, rows] of [
    [confirmation.current.heading, confirmation.current.rows],
    [confirmation.new.heading, confirmation.new.rows],
    ["業者情報", confirmation.business],
  ]) {
    const title = document.createElement("h3");
    title.textContent = heading;
    blocks.append(title, rowsTable(rows));
  }
  document.getElementById("update-confirm-notes").replaceChildren(...listItems(confirmation.notes));
  show("update-confirm");
}

async function commitUpdate() {
  const completion = await portal("POST", `/flows/certificate-update/${updateFlowID}/update`);
  document.getElementById("update-completed-message").textContent = completion.message;
  updateFlowID = null;
  show("update-completed");
}

async function backFromUpdate() {
  await portal("POST", `/flows/certificate-update/${updateFlowID}/back`);
  show("update-current");
}

// MARK: The revocation request (インターネット失効申込)

let revokeFlowID = null;
let revokeToSign = null;

async function startRevocation() {
  const state = await portal("POST", "/flows/revocation-request");
  revokeFlowID = state.flowID;
  revokeToSign = null;
  lockRevocationForm(false);
  document.getElementById("revoke-document").hidden = true;
  show("revoke-agreement");
}

/** 手続きの流れを確認 or 利用規約を確認: the document is shown below, and the portal notes it was opened. */
async function openRevocationDocument(which) {
  const document_ = await portal("POST", `/flows/revocation-request/${revokeFlowID}/${which}`);
  document.getElementById("revoke-document-title").textContent = document_.title;
  const paragraphs = document_.paragraphs.map((text) => {
    const paragraph = document.createElement("p");
    paragraph.textContent = text;
    return paragraph;
  });
  document.getElementById("revoke-document-text").replaceChildren(...paragraphs);
  document.getElementById("revoke-document").hidden = false;
}

async function agreeToRevocation() {
  await portal("POST", `/flows/revocation-request/${revokeFlowID}/agree`);
  show("revoke-card");
}

/** The card in hand: the flow's challenge, the card's evidence through the agent; then its contents (⑩). */
async function presentRevocationCard() {
  say("失効するICカードを読み取っています", "Enter the card's PIN in the card agent's window.", "info");
  const flow = `/flows/revocation-request/${revokeFlowID}`;
  const state = await portal("POST", `${flow}/card`, { evidence: await cardEvidence(flow) });
  clearMessage();
  document.getElementById("revoke-card-rows").replaceChildren(rowsTable(state.card.rows));
  show("revoke-form");
}

/** The form's fields, locked once the portal wrote the request from them (戻る starts over to change them). */
function lockRevocationForm(locked) {
  for (const field of document.querySelectorAll("#revoke-form-fields input, #revoke-form-fields select")) {
    field.disabled = locked;
  }
}

/**
 * 失効申込内容確認へ: the form to the portal, and the request it wrote signed by the card (the agent shows its
 * digest). When the signature fails (declined, a wrong PIN), the same request is signed at the next press.
 */
async function fillRevocation() {
  const value = (id) => document.getElementById(id).value.trim();
  if (!revokeToSign) {
    const state = await portal("POST", `/flows/revocation-request/${revokeFlowID}/form`, {
      reason: value("revoke-reason"), requesterName: value("revoke-name"), phone: value("revoke-phone"),
      mail: value("revoke-mail"), department: value("revoke-department"), note: value("revoke-note"),
    });
    revokeToSign = state.toSign;
    lockRevocationForm(true);
  }
  say("失効申込データに署名しています",
    "Compare the digest in the card agent's window, agree, and enter the card's PIN there.", "info");
  const signed = await agent("/v1/sign", { document: revokeToSign.document, name: revokeToSign.name });
  await portal("POST", `/flows/revocation-request/${revokeFlowID}/signature`, { signature: signed.signature });
  revokeToSign = null;
  clearMessage();
  const confirmation = await portal("GET", `/flows/revocation-request/${revokeFlowID}/confirmation`);
  document.getElementById("revoke-confirm-title").textContent = confirmation.title;
  document.getElementById("revoke-confirm-rows").replaceChildren(rowsTable(confirmation.rows));
  document.getElementById("revoke-confirm-notes").replaceChildren(...listItems(confirmation.notes));
  document.getElementById("revoke-check-label").textContent = confirmation.checkLabel;
  document.getElementById("revoke-checked").checked = false;
  document.getElementById("revoke-submit").textContent = confirmation.submitLabel;
  show("revoke-confirm");
}

async function submitRevocation() {
  const record = await portal("POST", `/flows/revocation-request/${revokeFlowID}/submit`,
    { checked: document.getElementById("revoke-checked").checked });
  document.getElementById("revoke-receipt").textContent = record.receiptNumber;
  document.getElementById("revoke-record").textContent = record.text;
  revokeFlowID = null;
  show("revoke-completed");
}

async function backFromRevocation() {
  await portal("POST", `/flows/revocation-request/${revokeFlowID}/back`);
  revokeToSign = null;
  lockRevocationForm(false);
  document.getElementById("revoke-document").hidden = true;
  show("revoke-agreement");
}

// MARK: Start

function on(id, action) {
  document.getElementById(id).addEventListener("click", () => act(action));
}

on("login", logIn);
on("logout", logOut);
on("start-renewal", startRenewal);
on("present-current", presentCurrentCard);
on("present-new", presentNewCard);
on("cancel-new", showRegistration);
on("cancel-renewal", showRegistration);
on("update", update);
on("back", back);
on("to-login", async () => show("login"));
on("start-update", startUpdate);
on("update-next", chooseUpdateType);
on("update-cancel", async () => show("login"));
on("update-present-current", presentUpdateCurrent);
on("update-cancel-current", async () => show("login"));
on("update-present-new", presentUpdateNew);
on("update-cancel-new", async () => show("login"));
on("update-commit", commitUpdate);
on("update-back", backFromUpdate);
on("update-to-login", async () => show("login"));
on("start-revocation", startRevocation);
on("revoke-procedure", () => openRevocationDocument("procedure"));
on("revoke-terms", () => openRevocationDocument("terms"));
on("revoke-agree", agreeToRevocation);
on("revoke-cancel", async () => show("login"));
on("revoke-present", presentRevocationCard);
on("revoke-cancel-card", backFromRevocation);
on("revoke-fill", fillRevocation);
on("revoke-cancel-form", backFromRevocation);
on("revoke-submit", submitRevocation);
on("revoke-back", backFromRevocation);
on("revoke-print", async () => window.print());
on("revoke-to-login", async () => show("login"));
document.getElementById("revoke-checked").addEventListener("change", (event) => {
  document.getElementById("revoke-submit").disabled = !event.target.checked;
});
document.getElementById("update-cancel-swap").addEventListener("click", () => cancelSwap().catch(sayError));
for (const radio of document.querySelectorAll('input[name="update-type"]')) {
  radio.addEventListener("change", () => {
    document.getElementById("jpki-consent-row").hidden = updateType() !== "myNumberCard";
  });
}
// The swap's cancel must work while the wait holds the other buttons: it is not run through act().
document.getElementById("cancel-swap").addEventListener("click", () => cancelSwap().catch(sayError));

agent("/v1/status").catch(() => setAgentStatus(false));
portal("GET", "/session").then(showRegistration, () => show("login"));
