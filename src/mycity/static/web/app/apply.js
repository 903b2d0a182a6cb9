// Applications (一网通办): the catalogue by department, a form made from the item's fields,
// materials uploaded or taken from the wallet, each application's state and what it waits
// for, and a rating once it is completed.
import { $, el, say } from "../lib/dom.js";
import { t, translate, when, yuan } from "../lib/i18n.js";

const CATALOGUE = `query Catalogue { serviceItems { code department departmentName name applicants feeFen timeLimitDays form
    materials { code name key satisfiedByLicence } }
  myLicences(first: 50) { edges { node { identifier typeCode typeName status } } } }`;
const MINE = `query MyApplications { myApplications(first: 20) { edges { node {
    id item status submittedAt due missing feeFen grade serviceItem { name } } } } }`;
// The payload reads the application, so its answer waits for the read models that list it.
const SUBMIT = `mutation Submit($input: SubmitApplicationInput!) { submitApplication(input: $input) {
    applicationId application { id status } userErrors { code message field } } }`;
const RATE = `mutation Rate($applicationId: ID!, $grade: Grade!) { rateApplication(input: {applicationId: $applicationId, grade: $grade}) {
    applicationId application { id status } userErrors { code message field } } }`;

const GRADES = ["VERY_SATISFIED", "SATISFIED", "BASICALLY_SATISFIED", "DISSATISFIED", "VERY_DISSATISFIED"];

export class ApplyScreen {
  constructor(session) {
    this.session = session;
    this.items = [];
    this.licences = [];
    this.chosen = new Map(); // a grade picked and not sent yet, by application: a refresh keeps it
  }

  async open() {
    const data = await this.session.api.run(CATALOGUE);
    this.items = data.serviceItems.filter((i) => i.applicants === "CITIZEN");
    this.licences = data.myLicences.edges.map((e) => e.node).filter((l) => l.status === "VALID");
    const select = $("#apply-item");
    select.replaceChildren(...this.items.map((i) => el("option", { value: i.code }, `${i.departmentName} · ${i.name} (${i.code})`)));
    select.onchange = () => this.form();
    $("#apply-form").onsubmit = (event) => this.submit(event);
    this.form();
    await this.mine();
  }

  form() {
    const item = this.items.find((i) => i.code === $("#apply-item").value);
    if (!item) return;
    $("#apply-about").textContent = `${t("fee")} ${yuan(item.feeFen)} · ${item.timeLimitDays}d`;
    const fields = item.form.map((name) => el("label", {}, name, el("input", { name: `form.${name}`, required: true })));
    const materials = item.materials.map((m) => {
      const held = this.licences.filter((l) => l.typeCode === m.satisfiedByLicence);
      const input = held.length
        ? el("select", { name: `licence.${m.code}` }, ...held.map((l) => el("option", { value: l.identifier }, l.typeName)))
        : el("input", { type: "file", name: `document.${m.code}`, required: m.key, accept: "application/pdf,image/*" });
      return el("label", {}, `${m.name}${m.key ? " *" : ""}`, input);
    });
    $("#apply-fields").replaceChildren(...fields, el("h3", { "data-i18n": "materials" }), ...materials);
    translate($("#apply"));
  }

  async submit(event) {
    event.preventDefault();
    const status = $("#apply-status");
    const button = event.submitter;
    if (button) button.disabled = true; // one tap, one application
    try {
      await this.send(event, status);
    } finally {
      if (button) button.disabled = false;
    }
  }

  async send(event, status) {
    const data = new FormData(event.target);
    const input = { itemCode: data.get("item"), form: [], materials: [] };
    try {
      for (const [key, value] of data) {
        const [kind, name] = key.split(".");
        if (kind === "form") input.form.push({ name, value });
        if (kind === "licence") input.materials.push({ code: name, licence: value });
        if (kind === "document" && value.size) input.materials.push({ code: name, document: await this.session.api.upload(value) });
      }
      const { submitApplication } = await this.session.api.run(SUBMIT, { input });
      say(status, `${t("submitted")}: ${submitApplication.applicationId}`);
      event.target.reset();
      await this.mine();
    } catch (error) {
      say(status, error.message, "error");
    }
  }

  async mine() {
    const data = await this.session.api.run(MINE);
    const rows = data.myApplications.edges.map(({ node: a }) =>
      el("li", { dataset: { application: a.id, status: a.status } },
        `${a.serviceItem.name} · ${t(a.status)} · ${when(a.submittedAt)}`,
        a.missing ? ` · ${t("waitingFor")}: ${a.missing}` : "",
        a.grade ? ` · ${t(a.grade)}` : null,
        a.status === "COMPLETED" && !a.grade ? this.rating(a.id) : null));
    $("#apply-mine").replaceChildren(...rows);
    translate($("#apply-mine"));
  }

  /** The five grades of 好差评, best first, and a button to send the one chosen. */
  rating(applicationId) {
    const grades = el("select", { name: "grade", "aria-label": t("rate"), onchange: () => this.chosen.set(applicationId, grades.value) },
      ...GRADES.map((g) => el("option", { value: g }, t(g))));
    grades.value = this.chosen.get(applicationId) ?? GRADES[0];
    return el("form", { class: "rating", onsubmit: (event) => this.rate(event, applicationId, grades.value) },
      grades, el("button", { type: "submit", "data-i18n": "rate" }));
  }

  async rate(event, applicationId, grade) {
    event.preventDefault();
    this.chosen.delete(applicationId);
    await this.session.api.run(RATE, { applicationId, grade }).catch((e) => say($("#apply-status"), e.message, "error"));
    await this.mine();
  }

  /** Nothing of the person's kept once they log out. */
  forget() {
    this.chosen.clear();
  }
}
