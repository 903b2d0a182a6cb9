// The city code (一码通城), full screen: drawn in the page from each code the
// `cityCodeRefreshes` subscription pushes (a fresh one before the current expires), framed
// in its health colour, with its cards and a countdown. Offline, the code on screen stays
// usable for its lifetime, and the screen says so; past it, that it cannot refresh.
import { $, el, say } from "../lib/dom.js";
import { t, translate } from "../lib/i18n.js";
import { drawQr } from "../lib/qr.js";
import { readCode } from "../lib/verify.js";

const REFRESHES = "subscription CityCode { cityCodeRefreshes { payload expiresAt refreshSeconds } }";

const SIGNED_OUT = new Set(["UNAUTHENTICATED", "INVALID_TOKEN"]);

export class CodeScreen {
  constructor(session, signedOut) {
    this.session = session;
    this.signedOut = signedOut;
    this.section = $("#code");
    this.canvas = $("#code-qr");
    this.timer = null;
    this.stop = null;
    this.current = null;
    this.retries = 0;
  }

  open() {
    this.timer ??= setInterval(() => this.tick(), 1000);
    this.stop ??= this.session.api.subscribe(REFRESHES, (data) => this.show(data.cityCodeRefreshes), (error) => this.ended(error));
  }

  close() {
    this.stop?.();
    this.stop = null;
    clearInterval(this.timer);
    this.timer = null;
  }

  /** The subscription ended (the connection's token expired, the network went): a new
   * connection, with a fresh token, after a pause that grows to half a minute. */
  ended(error) {
    this.stop = null;
    if (SIGNED_OUT.has(error?.code)) return this.signedOut();
    this.session.api.close();
    if (error) this.lost();
    const pause = Math.min(30_000, 500 * 2 ** this.retries++);
    setTimeout(() => this.timer && this.open(), pause);
  }

  /** Nobody's code on screen: after a logout, before the next citizen's first code. */
  forget() {
    this.close();
    this.current = null;
    this.canvas.getContext("2d").clearRect(0, 0, this.canvas.width, this.canvas.height);
    delete this.canvas.dataset.payload;
    $("#code-cards").replaceChildren();
    $("#code-countdown").textContent = "–";
    say($("#code-status"), "");
  }

  show(code) {
    const received = performance.now();
    this.retries = 0;
    const read = readCode(code.payload);
    drawQr(this.canvas, code.payload);
    this.section.dataset.colour = read?.colour ?? "green";
    $("#code-colour").dataset.i18n = read?.colour ?? "green";
    const cards = $("#code-cards");
    cards.replaceChildren(...(read?.cards ?? []).map((card) => el("li", { "data-i18n": card })));
    translate(this.section);
    this.current = { ...code, expires: Date.parse(code.expiresAt), due: Date.now() + (code.refreshSeconds + 3) * 1000 };
    this.canvas.dataset.payload = code.payload;
    this.canvas.dataset.redrawMs = (performance.now() - received).toFixed(1);
    say($("#code-status"), "");
    this.tick();
  }

  tick() {
    if (!this.current) return;
    const left = Math.max(0, Math.round((this.current.expires - Date.now()) / 1000));
    $("#code-countdown").textContent = `${left}`;
    if (left === 0) say($("#code-status"), t("cannotRefresh"), "error");
    else if (!navigator.onLine || Date.now() > this.current.due) this.lost(); // no fresh code came
  }

  lost() {
    const usable = this.current && Date.now() < this.current.expires;
    say($("#code-status"), usable ? t("offline") : t("cannotRefresh"), usable ? "warning" : "error");
  }
}
