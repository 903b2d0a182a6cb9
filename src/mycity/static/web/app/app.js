// The citizen's app (My City): logging in, then one screen at a time, chosen in the tabs.
import { $, say } from "../lib/dom.js";
import { switchLanguage, t, translate } from "../lib/i18n.js";
import { ApplyScreen } from "./apply.js";
import { CodeScreen } from "./code.js";
import { MoneyScreen } from "./money.js";
import { PrivacyScreen } from "./privacy.js";
import { Session } from "./session.js";
import { WalletScreen } from "./wallet.js";

const session = new Session();
const screens = {
  code: new CodeScreen(session, () => signedInAs(false)),
  wallet: new WalletScreen(session),
  apply: new ApplyScreen(session),
  money: new MoneyScreen(session),
  me: new PrivacyScreen(session, (signedIn) => signedInAs(signedIn)),
};
let shown = null;

async function showScreen(name) {
  if (shown && shown !== name) screens[shown].close?.();
  shown = name;
  for (const section of document.querySelectorAll("section.screen")) section.hidden = section.id !== name;
  for (const tab of document.querySelectorAll("#tabs button")) tab.setAttribute("aria-current", tab.dataset.screen === name ? "page" : "false");
  try {
    await screens[name].open();
  } catch (error) {
    if (error.code === "UNAUTHENTICATED" || error.code === "TOKEN_EXPIRED") signedInAs(false);
  }
  ready(name);
}

/** The screen is usable: said to tests (`data-ready`) and timed (benchmarks/app.py). */
function ready(name) {
  document.body.dataset.ready = name;
  performance.mark(`mycity:ready:${name}`);
}

function signedInAs(signedIn) {
  $("#login").hidden = signedIn;
  $("#tabs").hidden = !signedIn;
  $("#log-out").hidden = !signedIn;
  if (signedIn) {
    $("#me-receipt").replaceChildren();
    return showScreen(shown ?? "code");
  }
  screens.code.forget();
  screens.apply.forget();
  session.api.close();
  for (const section of document.querySelectorAll("section.screen")) section.hidden = true;
  for (const list of document.querySelectorAll("[data-personal]")) list.replaceChildren(); // nobody's data left behind
  shown = null;
  ready("login");
}

$("#login-phone").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await session.requestCode(new FormData(event.target).get("phone"));
    say($("#login-status"), t("codeSent"));
    $("#login-code input").focus();
  } catch (error) {
    say($("#login-status"), error.message, "error");
  }
});

$("#login-code").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await session.logIn(new FormData($("#login-phone")).get("phone"), new FormData(event.target).get("code"));
    event.target.reset();
    await signedInAs(true);
  } catch (error) {
    say($("#login-status"), error.message, "error");
  }
});

$("#log-out").addEventListener("click", async () => {
  await session.logOut();
  signedInAs(false);
});
$("#language").addEventListener("click", () => {
  switchLanguage();
  if (shown) showScreen(shown);
});
for (const tab of document.querySelectorAll("#tabs button")) tab.addEventListener("click", () => showScreen(tab.dataset.screen));

if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => {});
translate();
for (const button of document.querySelectorAll("button[data-wait]")) button.disabled = false;
signedInAs(session.signedIn);
