// The city code (一码通城), full screen: drawn in the page from each code the
// `cityCodeRefreshes` subscription pushes (a fresh one before the current expires), framed
// in its health colour, with its cards and a countdown. Offline, the code on screen stays
// usable for its lifetime, and the screen says so; past it, that it cannot refresh.
import { $, el, say } from "../lib/dom.js";
import { t, translate } from "../lib/i18n.js";
import { drawQr } from "../lib/qr.js";
import { readCode } from "../lib/verify.js";

const REFRESHES = "subscription CityCode { cityCodeRefreshes { payload expiresAt refreshSeconds } }";

export class CodeScreen {
  constructor(session) {
    this.session = session;
    this.section = $("#code");
    this.canvas = $("#code-qr");
    this.timer = null;
    this.stop = null;
    this.current = null;
  }

  open() {
    this.stop ??= this.session.api.subscribe(REFRESHES, (data) => this.show(data.cityCodeRefreshes), () => this.lost());
    this.timer ??= setInterval(() => this.tick(), 1000);
  }

  close() {
    this.stop?.();
    this.stop = null;
    clearInterval(this.timer);
    this.timer = null;
  }

  show(code) {
    const received = performance.now();
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
