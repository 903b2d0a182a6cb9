// "Who read my data": the person's access records with their purposes; and closing the
// account (with a fresh phone code), whose receipt lists what was erased and what is kept.
import { $, el, say } from "../lib/dom.js";
import { t, translate, when } from "../lib/i18n.js";

const ACCESSES = `query Accesses { me { citizen { phone dataAccesses(first: 50) { edges { node {
  at readerRole readerName readerDepartment read fields purpose } } } } } }`;
const ERASE = `mutation Erase($code: String!) { eraseMyData(input: {code: $code}) { userErrors { code message field }
  receipt { erasedNow kept { kind item years erasedOn basis } statutoryRecordsErasedOn } } }`;

export class PrivacyScreen {
  constructor(session, signedOut) {
    this.session = session;
    this.signedOut = signedOut;
    this.phone = null;
  }

  async open() {
    const { citizen } = (await this.session.api.run(ACCESSES)).me;
    this.phone = citizen.phone;
    $("#me-accesses").replaceChildren(...citizen.dataAccesses.edges.map(({ node: a }) =>
      el("li", {}, `${when(a.at)} · ${a.readerName}${a.readerDepartment ? ` (${a.readerDepartment})` : ""} · ${a.read} · ${a.fields.join(", ")} · ${t("purpose")}: ${a.purpose}`)));
    $("#me-close-code").onclick = () => this.session.requestCode(this.phone).then(() => say($("#me-status"), t("codeSent")), (e) => say($("#me-status"), e.message, "error"));
    $("#me-close").onsubmit = (event) => this.close(event);
    translate($("#me"));
  }

  async close(event) {
    event.preventDefault();
    try {
      const { eraseMyData } = await this.session.api.run(ERASE, { code: new FormData(event.target).get("code") });
      const receipt = eraseMyData.receipt;
      $("#me-receipt").replaceChildren(el("h3", { "data-i18n": "receipt" }),
        el("p", {}, receipt.erasedNow.join(", ")), el("h4", { "data-i18n": "kept" }),
        el("ul", {}, ...receipt.kept.map((k) => el("li", {}, `${k.kind} · ${k.item ?? ""} · ${k.years} · ${k.erasedOn ?? "—"} · ${k.basis}`))));
      translate($("#me-receipt"));
      this.session.forget();
      this.phone = null;
      this.signedOut(false);
    } catch (error) {
      say($("#me-status"), error.message, "error");
    }
  }
}
