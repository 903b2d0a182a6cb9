// What the scanner does with a text: verify it offline in the page with the city's
// published keys (kept on the device, refreshed every five minutes when online), then, when
// online, ask the city, which tells exactly what the partner's role may see. A city code
// scanned offline waits in a queue, uploaded with `uploadOfflineScans` once back online.
import { loadCodeKeys, loadLicenceKeys, readStatusList, verifyCode, verifyPresentation } from "../lib/verify.js";

const KEY_SOURCES = { code: "/city-code/keys", licence: "/licences/keys" };
const REFRESH_MS = 5 * 60 * 1000;
const QUEUE = "mycity.scan.queue";
const seenNonces = new Map(); // nonce -> expiry (ms): a presentation shown twice here is replayed

export const PURPOSES = {
  TRANSIT_GATE: ["TRANSIT"],
  HOSPITAL: ["HEALTH", "IDENTITY"],
  LIBRARY: ["IDENTITY"],
  MERCHANT: ["PAYMENT", "HEALTH"],
  VENUE: ["HEALTH", "IDENTITY"],
};

const SCAN = `mutation Scan($input: ScanCityCodeInput!) { scanCityCode(input: $input) {
  valid outcome scanId allowed colour card cardNumber depositFree userErrors { code message field } } }`;
const VERIFY = `mutation Verify($payload: String!, $purpose: String!) { verifyPresentation(input: {payload: $payload, purpose: $purpose}) {
  valid reason licenceType { typeName issuer } licence { typeName issuer } fields { name value } userErrors { code message field } } }`;
const CHARGE = `mutation Charge($input: ChargeByCodeInput!) { chargeByCode(input: $input) {
  payment { id status amountFen } userErrors { code message field } } }`;
const UPLOAD = `mutation Upload($scans: [OfflineScanInput!]!) { uploadOfflineScans(input: {scans: $scans}) {
  recorded results { index duplicate scan { valid outcome } } userErrors { code message field } } }`;

/** The city's keys, from the network when it answers, else as last kept on the device:
 * kept as the text served, read strictly each time. */
export async function keys(kind) {
  const name = `mycity.keys.${kind}`;
  const stored = JSON.parse(localStorage.getItem(name) ?? "null");
  let jwks = stored?.text;
  if (!stored || Date.now() - stored.at > REFRESH_MS) {
    try {
      const response = await fetch(KEY_SOURCES[kind], { credentials: "omit" });
      if (response.ok) {
        jwks = await response.text();
        keep(name, { at: Date.now(), text: jwks });
      }
    } catch {
      // offline: the kept keys serve
    }
  }
  if (!jwks) throw new Error("no keys yet: connect once to fetch the city's keys");
  return kind === "code" ? loadCodeKeys(jwks) : loadLicenceKeys(jwks);
}

/** Keep something on the device if there is room; what was fetched is used either way. */
function keep(name, value) {
  try {
    localStorage.setItem(name, JSON.stringify(value));
  } catch {
    // over the quota: used now, fetched again next time
  }
}

function seen(nonce) {
  const now = Date.now();
  for (const [kept, until] of seenNonces) if (until < now) seenNonces.delete(kept);
  if (seenNonces.has(nonce)) return true;
  seenNonces.set(nonce, now + 6 * 60 * 1000);
  return false;
}

/** The issuer's status list as last fetched (kept on the device, fetched again when five
 * minutes old), or null when there is none yet: its text, read afresh at each check. */
async function statusText(issuer) {
  const name = `mycity.status.${issuer}`;
  const kept = JSON.parse(localStorage.getItem(name) ?? "null");
  if (kept && Date.now() - kept.at <= REFRESH_MS) return kept.text;
  try {
    const response = await fetch(`/licences/status/${encodeURIComponent(issuer)}`, { credentials: "omit" });
    if (response.ok) {
      const text = await response.text();
      keep(name, { at: Date.now(), text });
      return text;
    }
  } catch {
    // offline: the kept list serves while it is fresh
  }
  return kept?.text ?? null;
}

/** The offline verdict on a text, with its kind: "code" or "licence". A presentation of the
 * first format is checked against its issuer's status list too. */
export async function offline(text) {
  const now = Date.now() / 1000;
  if (text.startsWith("MC1:")) return { kind: "code", ...(await verifyCode(text, await keys("code"), now)) };
  const trusted = await keys("licence");
  let statusLists = null;
  if (text.startsWith("LC1:")) {
    const { issuer } = await verifyPresentation(text, trusted, now); // whose list to read
    const list = issuer ? await statusText(issuer) : null;
    statusLists = list === null ? {} : { [issuer]: await readStatusList(list, trusted, now) };
  }
  return { kind: "licence", ...(await verifyPresentation(text, trusted, now, { seen, statusLists })) };
}

export async function online(api, text, { purpose, place, why }) {
  if (text.startsWith("MC1:")) return (await api.run(SCAN, { input: { payload: text, purpose, place } })).scanCityCode;
  return (await api.run(VERIFY, { payload: text, purpose: why })).verifyPresentation;
}

export async function charge(api, text, amountFen, description, place, idempotencyKey) {
  const input = { payload: text, amountFen, description, place, idempotencyKey };
  return (await api.run(CHARGE, { input })).chargeByCode;
}

// The queue is the partner's own: each entry names who scanned it, and only that partner's
// entries are uploaded, one upload at a time, each removed once the city has answered it.
const everything = () => JSON.parse(localStorage.getItem(QUEUE) ?? "[]");
export const queued = (partner) => everything().filter((entry) => entry.partner === partner);
let uploading = null;

export function enqueue(partner, text, purpose, place) {
  const entry = { id: crypto.randomUUID(), partner, scan: { payload: text, purpose, place, scannedAt: new Date().toISOString() } };
  localStorage.setItem(QUEUE, JSON.stringify([...everything(), entry])); // throws when the device is full
}

/** Upload the partner's queue, 500 at most at once (as the city takes them); answers how many
 * were recorded and how many the city refused. Sent twice, a scan is recorded once. */
export function uploadQueue(api, partner) {
  uploading ??= (async () => {
    const batch = queued(partner).slice(0, 500);
    if (!batch.length) return { recorded: 0, refused: 0 };
    const { uploadOfflineScans } = await api.run(UPLOAD, { scans: batch.map((entry) => entry.scan) });
    const sent = new Set(batch.map((entry) => entry.id));
    localStorage.setItem(QUEUE, JSON.stringify(everything().filter((entry) => !sent.has(entry.id))));
    const refused = uploadOfflineScans.results.filter((r) => !r.duplicate && !r.scan.valid).length;
    return { recorded: uploadOfflineScans.recorded, refused };
  })().finally(() => (uploading = null));
  return uploading;
}
