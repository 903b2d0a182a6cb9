// The first licence format in the page: the presentation (`LC1:`, docs/licences.md §5 and
// §7) and its issuer's status list (§6), read and checked as mycity.verifier does, with
// zlib and gzip through the browser's DecompressionStream, never inflated past their bounds.
import { base45Decode, b64urlDecode, hex } from "./codec.js";
import { canonical, integer, members, parseJson, string } from "./json.js";
import { FIELD_NAME, ISSUER, KID, MAX_QR_TEXT, keyFor, timeFailure, verifies } from "./trust.js";

const HOLDER = /^[A-Za-z0-9._:-]{1,128}$/;
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const ANY = /^[\s\S]*$/;
const IDENTIFIER = /^1\.2\.156\.3005\.2\.([0-9A-Z]{18}[0-9]{3})\.([0-9A-Z]{18})\.([0-9]{10})\.([0-9]{3})\.([0-9A-Z])$/;
const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const MAX_INFLATED = 65536, MAX_STATUS_TEXT = 6_000_000;
const MIN_SIZE = 131072, MAX_SIZE = 2 ** 24, BEIJING = 8 * 3600;
const PRESENTATION = ["typ", "credential", "disclosures", "issued_at", "expires_at", "nonce", "kid", "sig"];
const CREDENTIAL = ["typ", "licence_id", "type_name", "issuer", "holder", "valid_from", "valid_until", "status_index", "digests", "kid", "sig"];
const STATUS = ["typ", "issuer", "issued_at", "valid_until", "size", "revocation", "suspension", "kid", "sig"];
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encode = (text) => new TextEncoder().encode(text);

const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));

/** The bytes a zlib ("deflate") or gzip stream inflates to: one stream, nothing after it,
 * at most `limit` bytes read out of it; throws otherwise. */
async function inflate(data, format, limit) {
  const reader = new Blob([data]).stream().pipeThrough(new DecompressionStream(format)).getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new Error("inflates past its bound");
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) out.set(chunk, at), (at += chunk.length);
  return out;
}

function checkCharacter(body) {
  let product = 36;
  for (const c of body) product = (((product + ALPHANUMERIC.indexOf(c)) % 36 || 36) * 2) % 37;
  return ALPHANUMERIC[(37 - product) % 36];
}

function identifier(text) {
  const m = IDENTIFIER.exec(string(text));
  if (!m || m[4] === "000" || checkCharacter(m[1] + m[2] + m[3] + m[4]) !== m[5]) throw new Error("not a licence identifier");
  return m[1];
}

/** A real day written YYYY-MM-DD, as the days since 1970-01-01. */
function day(text) {
  const m = DATE.exec(string(text, DATE));
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const days = new Date(Date.UTC(2000, mo - 1, d)).setUTCFullYear(y) / 86_400_000;
  const back = new Date(days * 86_400_000);
  if (y < 1 || back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) throw new Error("not a real date");
  return days;
}

function readCredential(value) {
  const c = members(value, CREDENTIAL);
  const digests = c.get("digests");
  if (c.get("typ") !== "mycity-licence/1" || !(digests instanceof Map) || digests.size > 64) throw new Error("not a credential");
  const validFrom = day(c.get("valid_from"));
  const validUntil = c.get("valid_until") === null ? null : day(c.get("valid_until"));
  const statusIndex = integer(c.get("status_index"));
  if ((validUntil !== null && validUntil < validFrom) || statusIndex >= MAX_SIZE) throw new Error("out of range");
  for (const [name, digest] of digests) string(name, FIELD_NAME), b64urlDecode(digest, 32);
  return {
    typeCode: identifier(c.get("licence_id")), licenceId: c.get("licence_id"), typeName: string(c.get("type_name"), null, 64),
    issuer: string(c.get("issuer"), ISSUER), holder: string(c.get("holder"), HOLDER), validFrom, validUntil, statusIndex,
    digests, kid: string(c.get("kid"), KID), signature: b64urlDecode(c.get("sig"), 64), document: c,
  };
}

async function readPresentation(text) {
  if (typeof text !== "string" || text.length > MAX_QR_TEXT || !text.startsWith("LC1:")) return null;
  try {
    const json = UTF8.decode(await inflate(base45Decode(text.slice(4)), "deflate", MAX_INFLATED));
    const p = members(parseJson(json), PRESENTATION);
    const disclosures = p.get("disclosures");
    if (p.get("typ") !== "mycity-licence-presentation/1" || !(disclosures instanceof Map)) return null;
    const credential = readCredential(p.get("credential"));
    const shown = [...disclosures.keys()].sort().map((name) => {
      const d = members(disclosures.get(name), ["salt", "value"]);
      return { name: string(name, FIELD_NAME), value: string(d.get("value"), ANY, 1024), salt: b64urlDecode(d.get("salt"), 16) };
    });
    const issuedAt = integer(p.get("issued_at")), expiresAt = integer(p.get("expires_at"));
    if (issuedAt > expiresAt) return null;
    return {
      credential, shown, issuedAt, expiresAt, nonce: b64urlDecode(p.get("nonce"), 16),
      kid: string(p.get("kid"), KID), signature: b64urlDecode(p.get("sig"), 64), document: p,
    };
  } catch {
    return null;
  }
}

const unsigned = (document) => encode(canonical(new Map([...document].filter(([k]) => k !== "sig"))));

/** verify_presentation for an `LC1:` text. `statusLists`: null (status not checked), or
 * what readStatusList answered by issuer (a list, or the reason it refused one). */
export async function verifyFull(text, keys, now, { statusLists = null, seen = null, skew = 30 } = {}) {
  const p = await readPresentation(text);
  if (!p) return { ok: false, reason: "malformed" };
  const c = p.credential;
  const wallet = keyFor(keys, p.kid, "presentation");
  if (typeof wallet === "string") return { ok: false, reason: wallet };
  if (!(await verifies(wallet.publicKey, p.signature, unsigned(p.document)))) return { ok: false, reason: "bad_signature" };
  const department = keyFor(keys, c.kid, "licence", c.issuer);
  if (typeof department === "string") return { ok: false, reason: department };
  if (!(await verifies(department.publicKey, c.signature, unsigned(c.document)))) return { ok: false, reason: "bad_signature" };
  for (const { name, value, salt } of p.shown) {
    const digest = await sha256(new Uint8Array([...salt, ...encode(canonical([name, value]))]));
    if (!c.digests.has(name) || hex(b64urlDecode(c.digests.get(name))) !== hex(digest)) return { ok: false, reason: "field_mismatch" };
  }
  let reason = timeFailure(p.issuedAt, p.expiresAt, now, skew) ?? licenceDateFailure(c, now), statusChecked = false;
  if (reason === null && statusLists !== null) {
    reason = statusOf(c, statusLists[c.issuer], now);
    statusChecked = [null, "revoked", "suspended"].includes(reason);
  }
  if (reason === null && seen && seen(hex(p.nonce))) reason = "replayed";
  const date = (days) => (days === null ? null : new Date(days * 86_400_000).toISOString().slice(0, 10));
  return {
    ok: reason === null, reason: reason ?? "valid", licenceId: c.licenceId, typeCode: c.typeCode, typeName: c.typeName,
    issuer: c.issuer, holder: c.holder, validFrom: date(c.validFrom), validUntil: date(c.validUntil),
    statusIndex: c.statusIndex, disclosed: Object.fromEntries(p.shown.map((d) => [d.name, d.value])),
    issuedAt: p.issuedAt, expiresAt: p.expiresAt, nonce: hex(p.nonce), statusChecked,
  };
}

/** Valid from 00:00 Beijing time on its first day to the end of its last, or why not. */
function licenceDateFailure(credential, now) {
  if (!(now >= credential.validFrom * 86400 - BEIJING)) return "licence_not_yet_valid";
  if (credential.validUntil !== null && !(now < (credential.validUntil + 1) * 86400 - BEIJING)) return "licence_expired";
  return null;
}

function statusOf(credential, list, now) {
  if (list === "status_stale") return "status_stale";
  if (!list || typeof list !== "object" || list.issuer !== credential.issuer) return "status_unknown";
  if (!(now <= list.validUntil)) return "status_stale";
  if (!(credential.statusIndex < list.size)) return "status_unknown";
  const bit = (bits) => (bits[credential.statusIndex >> 3] & (0x80 >> (credential.statusIndex % 8))) !== 0;
  if (bit(list.revoked)) return "revoked";
  return bit(list.suspended) ? "suspended" : null;
}

/** read_status_list: the list if its issuer signed it and it is fresh, else the reason. */
export async function readStatusList(text, keys, now, skew = 30) {
  let document, signature, issuer, kid, issuedAt, validUntil, size, encoded;
  try {
    if (text.length > MAX_STATUS_TEXT && [...text].length > MAX_STATUS_TEXT) throw new Error("too long");
    document = members(parseJson(text), STATUS);
    signature = b64urlDecode(document.get("sig"), 64);
    if (document.get("typ") !== "mycity-licence-status/1") throw new Error("not a status list");
    [issuer, kid] = [string(document.get("issuer"), ISSUER), string(document.get("kid"), KID)];
    [issuedAt, validUntil, size] = ["issued_at", "valid_until", "size"].map((k) => integer(document.get(k)));
    if (!(size >= MIN_SIZE && size <= MAX_SIZE && size % 8 === 0 && issuedAt < validUntil)) throw new Error("out of range");
    encoded = ["revocation", "suspension"].map((k) => string(document.get(k), null, MAX_STATUS_TEXT));
  } catch {
    return "malformed";
  }
  const key = keyFor(keys, kid, "licence", issuer);
  if (typeof key === "string") return key;
  if (!(await verifies(key.publicKey, signature, unsigned(document)))) return "bad_signature";
  let revoked, suspended;
  try {
    [revoked, suspended] = await Promise.all(encoded.map(async (value) => {
      if (!value.startsWith("u")) throw new Error("not multibase base64url");
      const bits = await inflate(b64urlDecode(value.slice(1)), "gzip", size / 8);
      if (bits.length !== size / 8) throw new Error("a bitstring of another size");
      return bits;
    }));
  } catch {
    return "malformed";
  }
  if (!(now >= issuedAt - skew)) return "not_yet_valid";
  if (!(now <= validUntil)) return "status_stale";
  return { issuer, issuedAt, validUntil, size, revoked, suspended, kid };
}
