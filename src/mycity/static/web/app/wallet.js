// The wallet (亮证): the licences held; pick the fields to reveal (none until chosen) and show the signed
// presentation as a QR code drawn in the page; the licence uses (用证记录) below.
import { $, el, say } from "../lib/dom.js";
import { t, translate, when } from "../lib/i18n.js";
import { drawQr } from "../lib/qr.js";

const LICENCES = `query Wallet { myLicences(first: 50) { edges { node { id typeName issuer status validFrom validUntil fields { name value } } } }
  myLicenceUses(first: 20) { edges { node { licenceId at verifierName verifierRole purpose fields } } } }`;
const PRESENT = `mutation Present($licenceId: ID!, $fields: [String!]!) {
  presentLicence(input: {licenceId: $licenceId, fields: $fields}) { payload expiresAt userErrors { code message field } } }`;

export class WalletScreen {
  constructor(session) {
    this.session = session;
  }

  async open() {
    const data = await this.session.api.run(LICENCES);
    const licences = data.myLicences.edges.map((e) => e.node);
    $("#wallet-list").replaceChildren(...(licences.length ? licences.map((l) => this.card(l)) : [el("p", { "data-i18n": "none" })]));
    const uses = data.myLicenceUses.edges.map((e) => e.node);
    const names = new Map(licences.map((l) => [l.id, l.typeName]));
    $("#wallet-uses").replaceChildren(...uses.map((u) => el("li", {}, `${when(u.at)} · ${names.get(u.licenceId) ?? ""} · ${u.verifierName} · ${u.purpose} · ${u.fields.join(", ")}`)));
    translate($("#wallet"));
  }

  card(licence) {
    const boxes = (licence.fields ?? []).map((f) =>
      el("label", { class: "choice" }, el("input", { type: "checkbox", name: "field", value: f.name }), ` ${f.name}: ${f.value}`));
    const canvas = el("canvas", { class: "qr", role: "img", "aria-label": `${licence.typeName} QR`, hidden: true });
    const status = el("p", { class: "status", role: "status" });
    const form = el("form", { class: "present", onsubmit: (event) => this.present(event, licence, canvas, status) },
      el("fieldset", {}, el("legend", { "data-i18n": "fieldsToShow" }), ...boxes),
      el("button", { type: "submit", "data-i18n": "present" }));
    return el("article", { class: "card licence", dataset: { licence: licence.id } },
      el("h3", {}, licence.typeName),
      el("p", {}, `${licence.issuer} · ${t(licence.status)} · ${licence.validFrom} – ${licence.validUntil ?? "长期"}`),
      form, canvas, status);
  }

  async present(event, licence, canvas, status) {
    event.preventDefault();
    const fields = [...event.target.querySelectorAll("input[name=field]:checked")].map((i) => i.value);
    try {
      const { presentLicence } = await this.session.api.run(PRESENT, { licenceId: licence.id, fields });
      drawQr(canvas, presentLicence.payload, 360);
      canvas.dataset.payload = presentLicence.payload;
      canvas.hidden = false;
      say(status, `${t("until")} ${when(presentLicence.expiresAt)}`);
    } catch (error) {
      say(status, error.message, "error");
    }
  }
}
