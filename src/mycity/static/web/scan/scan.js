// The partner's scanner: log in with the client's credentials (the tokens live in this tab
// only), read a code, verify it offline, then online, and charge where the partner is a till.
import { Api, idempotencyKey } from "../lib/api.js";
import { $, el, say } from "../lib/dom.js";
import { switchLanguage, t, translate } from "../lib/i18n.js";
import { charge, enqueue, keys, offline, online, PURPOSES, queued, uploadQueue } from "./checks.js";
import { decodeFile, watchCamera } from "./reader.js";

let token = null;
let partner = null;
let last = null;
const api = new Api(async () => token);

const LOG_IN = `mutation LogIn($clientId: String!, $clientSecret: String!) {
  logInWithClientCredentials(input: {clientId: $clientId, clientSecret: $clientSecret}) {
    tokens { accessToken } userErrors { code message field } } }`;
const ME = "query Me { me { subject role name department } }";

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const data = await api.run(LOG_IN, { clientId: form.get("clientId"), clientSecret: form.get("clientSecret") });
    token = data.logInWithClientCredentials.tokens.accessToken;
    event.target.reset(); // the secret is not kept, not even in the form
    partner = (await api.run(ME)).me;
    await Promise.all([keys("code"), keys("licence")]); // kept on the device for offline checks
    started();
  } catch (error) {
    say($("#login-status"), error.message, "error");
  }
});

function started() {
  $("#login").hidden = true;
  $("#scan").hidden = false;
  $("#log-out").hidden = false;
  $("#scan-title").textContent = `${partner.name} · ${partner.role}`;
  const purposes = PURPOSES[partner.role] ?? [];
  $("#scan-setup select").replaceChildren(...purposes.map((p) => el("option", { value: p }, p)));
  $("#charge").hidden = partner.role !== "MERCHANT";
  showQueue();
  document.body.dataset.ready = "scan";
}

function show(target, verdict, rows) {
  const box = $(target);
  box.hidden = false;
  box.dataset.ok = String(Boolean(verdict));
  box.querySelector("dl").replaceChildren(...rows.filter(([, v]) => v !== undefined && v !== null && v !== "")
    .flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))]));
}

async function check(text) {
  last = text.trim();
  $("#online-result").hidden = true;
  say($("#scan-status"), "");
  try {
    const v = await offline(last);
    const fields = Object.entries(v.disclosed ?? {}).map(([k, value]) => [k, value]);
    show("#offline-result", v.ok, [["reason", v.reason], ["colour", v.colour], ["purposes", v.purposes?.join(", ")],
      ["cards", v.cards?.join(", ")], ["licence", v.typeName], ["issuer", v.issuer], ...fields]);
    $("#offline-result").dataset.reason = v.reason;
  } catch (error) {
    say($("#scan-status"), error.message, "error");
  }
  const setup = new FormData($("#scan-setup"));
  const asked = { purpose: setup.get("purpose"), place: setup.get("place"), why: setup.get("why") };
  if (asked.purpose === "PAYMENT" && last.startsWith("MC1:")) return toCharge(last); // a payment code pays once: charged, not scanned
  try {
    const answer = await online(api, last, asked);
    const valid = answer.valid;
    show("#online-result", valid, [["reason", answer.outcome ?? answer.reason], ["allowed", answer.allowed],
      ["colour", answer.colour], ["card", answer.cardNumber ? `${answer.card} ${answer.cardNumber}` : null],
      ["depositFree", answer.depositFree], ["licence", (answer.licenceType ?? answer.licence)?.typeName],
      ...(answer.fields ?? []).map((f) => [f.name, f.value])]);
    $("#online-result").dataset.reason = answer.outcome ?? answer.reason;
  } catch (error) {
    // Queued only when the device knows it is offline: a request that may have reached the
    // city (an answer lost) is not sent again as an offline scan, which would count twice.
    if (error.code === "OFFLINE" && !navigator.onLine && last.startsWith("MC1:")) {
      try {
        enqueue(partner.subject, last, asked.purpose, asked.place);
      } catch {
        say($("#scan-status"), t("deviceFull"), "error");
        return;
      }
      showQueue();
    }
    say($("#scan-status"), error.message, "error");
  }
}

function showQueue() {
  $("#queue-size").textContent = String(partner ? queued(partner.subject).length : 0);
}

/** The code the till will charge, with the one idempotency key its charge keeps until it is
 * answered: a retry after a lost answer is the same charge, never a second one. */
function toCharge(payload) {
  const form = $("#charge");
  form.dataset.payload = payload;
  form.dataset.key = idempotencyKey();
  form.querySelector("button").disabled = false;
}

$("#scan-image").addEventListener("change", async (event) => {
  const [file] = event.target.files;
  if (!file) return;
  const text = await decodeFile(file).catch(() => null);
  if (text) await check(text);
  else say($("#scan-status"), t("noCode"), "error");
  event.target.value = "";
});

$("#scan-camera").addEventListener("click", async (event) => {
  const button = event.target;
  const video = $("#scan-video");
  button.disabled = true; // one camera at a time
  video.hidden = false;
  try {
    const text = await watchCamera(video);
    if (text) await check(text);
  } catch (error) {
    say($("#scan-status"), error.message, "error");
  } finally {
    video.hidden = true;
    button.disabled = false;
  }
});

$("#scan-text").addEventListener("submit", (event) => {
  event.preventDefault();
  check(new FormData(event.target).get("text"));
});

$("#charge").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const { payload, key } = form.dataset;
  if (!payload) return;
  const amount = Number(new FormData(form).get("amountFen"));
  const place = new FormData($("#scan-setup")).get("place");
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const { payment } = await charge(api, payload, amount, partner.name, place, key);
    say($("#scan-status"), `${payment.status} · ${payment.id}`);
    delete form.dataset.payload; // charged: the next customer's code is scanned anew
    delete form.dataset.key;
  } catch (error) {
    say($("#scan-status"), error.message, "error");
    button.disabled = false; // the same code and key: a retry is the same charge
  }
});

async function drainQueue() {
  if (!token || !queued(partner.subject).length) return;
  try {
    const { recorded, refused } = await uploadQueue(api, partner.subject);
    say($("#scan-status"), `${t("upload")}: ${recorded}${refused ? ` · ${t("refused")}: ${refused}` : ""}`);
  } catch (error) {
    say($("#scan-status"), error.message, "error");
  }
  showQueue();
}
$("#queue-upload").addEventListener("click", drainQueue);
addEventListener("online", drainQueue);

$("#log-out").addEventListener("click", () => {
  token = null;
  partner = null;
  location.reload();
});
$("#language").addEventListener("click", switchLanguage);
translate();
for (const button of document.querySelectorAll("button[data-wait]")) button.disabled = false;
document.body.dataset.ready = "login";
