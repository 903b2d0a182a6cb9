// Payments and credit: the bills to pay and the payment history; the credit score, its
// tier, the benefits it unlocks and its history with reasons.
import { $, el, say } from "../lib/dom.js";
import { idempotencyKey } from "../lib/api.js";
import { t, translate, when, yuan } from "../lib/i18n.js";

const MONEY = `query Money { myBills { kind amountFen status applicationId operator day paymentId }
  myPayments(first: 20) { edges { node { id kind status amountFen refundedFen payeeName description requestedAt } } }
  myCredit { score tier benefits history(first: 20) { edges { node { at applied score reason source } } } } }`;
const PAY = `mutation Pay($applicationId: ID!, $idempotencyKey: String!) {
  payApplicationFee(input: {applicationId: $applicationId, idempotencyKey: $idempotencyKey}) {
    payment { id status } userErrors { code message field } } }`;

export class MoneyScreen {
  constructor(session) {
    this.session = session;
  }

  async open() {
    const data = await this.session.api.run(MONEY);
    const bills = data.myBills.filter((b) => !b.paymentId || b.status !== "PAID");
    $("#money-bills").replaceChildren(...(bills.length ? bills.map((b) => this.bill(b)) : [el("li", { "data-i18n": "none" })]));
    $("#money-payments").replaceChildren(...data.myPayments.edges.map(({ node: p }) =>
      el("li", { dataset: { payment: p.id, status: p.status } }, `${when(p.requestedAt)} · ${p.payeeName} · ${yuan(p.amountFen)} · ${t(p.status)}${p.description ? ` · ${p.description}` : ""}`)));
    const credit = data.myCredit;
    $("#credit-score").textContent = credit.score;
    $("#credit-tier").dataset.i18n = credit.tier;
    $("#credit-benefits").replaceChildren(...credit.benefits.map((b) => el("li", { "data-i18n": b })));
    $("#credit-history").replaceChildren(...credit.history.edges.map(({ node: c }) =>
      el("li", {}, `${when(c.at)} · ${c.applied > 0 ? "+" : ""}${c.applied} → ${c.score} · ${c.reason} · ${c.source}`)));
    translate($("#money"));
  }

  bill(bill) {
    const pay = bill.kind === "FEE" && bill.applicationId
      ? el("button", { type: "button", "data-i18n": "pay", onclick: (event) => this.pay(event.target, bill) }) : null;
    return el("li", { dataset: { bill: bill.applicationId ?? bill.day ?? "" } },
      `${t(bill.kind)} · ${yuan(bill.amountFen)} · ${t(bill.status)}${bill.operator ? ` · ${bill.operator} ${bill.day}` : ""} `, pay);
  }

  async pay(button, bill) {
    button.disabled = true;
    button.dataset.key ??= idempotencyKey(); // a retry of this tap charges once
    try {
      const { payApplicationFee } = await this.session.api.run(PAY, { applicationId: bill.applicationId, idempotencyKey: button.dataset.key });
      say($("#money-status"), t("paid"));
      // The history is a read model: ask again until it lists the payment (a few seconds at most).
      for (let tries = 0; tries < 20; tries++) {
        await this.open();
        if ($(`#money-payments li[data-payment="${payApplicationFee.payment.id}"]`)) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } catch (error) {
      say($("#money-status"), error.message, "error");
      button.disabled = false;
    }
  }
}
