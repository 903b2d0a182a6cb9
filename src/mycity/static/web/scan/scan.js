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
const ME = "query Me { me { role name department } }";

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
  if (asked.purpose === "PAYMENT" && last.startsWith("MC1:")) return; // a payment code pays once: charged below, not scanned
  try {
    const answer = await online(api, last, asked);
    const valid = answer.valid;
    show("#online-result", valid, [["reason", answer.outcome ?? answer.reason], ["allowed", answer.allowed],
      ["colour", answer.colour], ["card", answer.cardNumber ? `${answer.card} ${answer.cardNumber}` : null],
      ["depositFree", answer.depositFree], ["licence", (answer.licenceType ?? answer.licence)?.typeName],
      ...(answer.fields ?? []).map((f) => [f.name, f.value])]);
    $("#online-result").dataset.reason = answer.outcome ?? answer.reason;
  } catch (error) {
    if (error.code === "OFFLINE" && last.startsWith("MC1:")) {
      enqueue(last, asked.purpose, asked.place);
      showQueue();
    }
    say($("#scan-status"), error.message, "error");
  }
}

function showQueue() {
  $("#queue-size").textContent = String(queued().length);
}

$("#scan-image").addEventListener("change", async (event) => {
  const [file] = event.target.files;
  if (!file) return;
  const text = await decodeFile(file).catch(() => null);
  if (text) await check(text);
  else say($("#scan-status"), t("noCode"), "error");
  event.target.value = "";
});

let camera = null;
$("#scan-camera").addEventListener("click", async () => {
  camera?.stop();
  const video = $("#scan-video");
  video.hidden = false;
  camera = watchCamera(video);
  try {
    const text = await camera.found;
    if (text) await check(text);
  } catch (error) {
    say($("#scan-status"), error.message, "error");
  } finally {
    video.hidden = true;
  }
});

$("#scan-text").addEventListener("submit", (event) => {
  event.preventDefault();
  check(new FormData(event.target).get("text"));
});

$("#charge").addEventListener("submit", async (event) => {
  event.preventDefault();
  const amount = Number(new FormData(event.target).get("amountFen"));
  const place = new FormData($("#scan-setup")).get("place");
  try {
    const { payment } = await charge(api, last, amount, partner.name, place, idempotencyKey());
    say($("#scan-status"), `${payment.status} · ${payment.id}`);
  } catch (error) {
    say($("#scan-status"), error.message, "error");
  }
});

async function drainQueue() {
  if (!token || !queued().length) return;
  try {
    const recorded = await uploadQueue(api);
    say($("#scan-status"), `${t("upload")}: ${recorded}`);
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
document.body.dataset.ready = "login";
