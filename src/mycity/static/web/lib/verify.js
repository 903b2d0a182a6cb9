// Offline verification in the page: the city code (docs/city-code.md §5) and licence
// presentations of both formats (docs/licences.md §7, §9; the first, with its status list,
// in licence_full.js), with the reasons mycity.verifier gives, checked in its order.
// Signatures through WebCrypto's Ed25519. A test runs these and mycity.verifier on the same
// texts and demands the same verdicts.
import { base45Decode, b64urlDecode, cborDecode, hex } from "./codec.js";
import { parseJson } from "./json.js";
import { verifyFull } from "./licence_full.js";
import { FIELD_NAME, ISSUER, KID, MAX_QR_TEXT, keyFor, timeFailure, verifies } from "./trust.js";

export { readStatusList } from "./licence_full.js";

const TYPE_CODE = /^[0-9A-Z]{18}[0-9]{3}$/;
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const MAX_INT = 2n ** 53n - 1n;
export const SKEW = 30;

const PURPOSES = ["identity", "transit", "health", "payment"];
const CARDS = ["social_security", "e_health", "library", "transit"];
const COLOURS = ["green", "yellow", "red"];
const CODE_TEXT_LENGTH = 150;

const importKey = (x) => crypto.subtle.importKey("raw", x, { name: "Ed25519" }, false, ["verify"]);

// The key lists are read as the Python loaders read them: strict JSON (no key twice, no
// fraction), objects as Maps, a member's absence told from its null.
const isObject = (value) => value instanceof Map;
const jwksOf = (jwks) => (typeof jwks === "string" ? parseJson(jwks) : parseJson(JSON.stringify(jwks)));
const byte = (value) => typeof value === "bigint" && value >= 0n && value <= 255n;

function entryKidAndIndex(entry) {
  if (!isObject(entry)) throw new Error("a key or withdrawn entry is an object");
  const kid = entry.get("kid"), index = entry.get("code_key");
  if (typeof kid !== "string" || !KID.test(kid)) throw new Error(`the kid ${kid} is not 1-64 of A-Z a-z 0-9 . _ : -`);
  if (!byte(index)) throw new Error(`the key ${kid} has no code_key from 0 to 255`);
  return [kid, Number(index)];
}

/** The city-code keys of `GET /city-code/keys` (§4), its text or its JSON; throws where
 * load_code_keys raises. */
export async function loadCodeKeys(jwks) {
  const document = jwksOf(jwks);
  if (!isObject(document)) throw new Error("a JWKS is an object");
  const entries = document.get("keys"), withdrawnEntries = document.has("withdrawn") ? document.get("withdrawn") : [];
  if (!Array.isArray(entries) || !Array.isArray(withdrawnEntries)) throw new Error('a JWKS\'s "keys" and "withdrawn" are lists');
  const withdrawn = new Map();
  for (const entry of withdrawnEntries) {
    const [kid, index] = entryKidAndIndex(entry);
    if ((withdrawn.get(index) ?? kid) !== kid) throw new Error(`two withdrawn kids share the index ${index}`);
    withdrawn.set(index, kid);
  }
  const active = new Map(), kids = new Set();
  for (const entry of entries) {
    if (!isObject(entry)) throw new Error("a JWKS key is an object");
    if (entry.get("use") !== "city-code") continue;
    const [kid, index] = entryKidAndIndex(entry);
    if (entry.get("kty") !== "OKP" || entry.get("crv") !== "Ed25519") throw new Error(`the city-code key ${kid} is not an Ed25519 key (OKP)`);
    if ((entry.has("alg") ? entry.get("alg") : "EdDSA") !== "EdDSA") throw new Error(`the city-code key ${kid} is not for EdDSA`);
    const publicKey = await importKey(b64urlDecode(entry.get("x"), 32));
    if (kids.has(kid) || active.has(index)) throw new Error(`the kid ${kid} or its index ${index} names two keys`);
    kids.add(kid);
    if ((withdrawn.get(index) ?? kid) !== kid) throw new Error(`the index ${index} is listed and withdrawn under two kids`);
    if (!withdrawn.has(index)) active.set(index, { kid, publicKey });
  }
  return { active, withdrawn };
}

/** The licence trust list of `GET /licences/keys` (§3), its text or its JSON; throws where
 * load_keys raises. */
export async function loadLicenceKeys(jwks) {
  const document = jwksOf(jwks);
  const entries = isObject(document) ? document.get("keys") : undefined;
  if (!Array.isArray(entries)) throw new Error('a JWKS is an object whose "keys" is a list');
  const keys = new Map();
  for (const entry of entries) {
    if (!isObject(entry)) throw new Error("a JWKS key is an object");
    const use = entry.get("use"), kid = entry.get("kid"), issuer = entry.has("issuer") ? entry.get("issuer") : null;
    if (use !== "licence" && use !== "presentation") continue;
    if (entry.get("kty") !== "OKP" || entry.get("crv") !== "Ed25519") throw new Error(`the ${use} key ${kid} is not an Ed25519 key (OKP)`);
    if (typeof kid !== "string" || !KID.test(kid)) throw new Error(`the kid ${kid} is not 1-64 of A-Z a-z 0-9 . _ : -`);
    if (use === "licence" && !(typeof issuer === "string" && ISSUER.test(issuer))) throw new Error(`the licence key ${kid} names no department`);
    if (use === "presentation" && issuer !== null) throw new Error(`the presentation key ${kid} names an issuer`);
    const publicKey = await importKey(b64urlDecode(entry.get("x"), 32));
    if (keys.has(kid)) throw new Error(`the kid ${kid} names two keys`);
    keys.set(kid, { kid, use, issuer: use === "licence" ? issuer : null, publicKey });
  }
  return keys;
}

/** verify_code: the verdict on a city code's QR text at `now` (unix seconds). */
export async function verifyCode(text, keys, now, skew = SKEW) {
  const code = readCode(text);
  if (!code) return { ok: false, reason: "malformed" };
  const key = keys.active.get(code.codeKey);
  if (!key) return { ok: false, reason: keys.withdrawn.has(code.codeKey) ? "withdrawn_key" : "unknown_key" };
  if (!(await verifies(key.publicKey, code.signature, code.body))) return { ok: false, reason: "bad_signature" };
  let reason = "valid";
  if (!(now >= code.issuedAt - skew)) reason = "not_yet_valid";
  else if (!(now <= code.issuedAt + code.lifetime + skew)) reason = "expired";
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", code.body));
  return {
    ok: reason === "valid", reason, kid: key.kid, purposes: code.purposes, colour: code.colour,
    cards: code.cards, issuedAt: code.issuedAt, expiresAt: code.issuedAt + code.lifetime,
    codeId: hex(digest.slice(0, 16)),
  };
}

/** What a city code's text holds, checking no signature or time (read_code); null if malformed. */
export function readCode(text) {
  if (typeof text !== "string" || text.length !== CODE_TEXT_LENGTH || !text.startsWith("MC1:")) return null;
  let data;
  try {
    data = base45Decode(text.slice(4));
  } catch {
    return null;
  }
  const view = new DataView(data.buffer);
  const head = data[0], sets = data[8], lifetime = view.getUint16(6);
  if (head >> 4 !== 1 || (head & 0x0f) > 2 || !lifetime || !(sets & 0x0f)) return null;
  const bits = (names, nibble) => names.filter((_, i) => (nibble >> i) & 1).sort();
  return {
    colour: COLOURS[head & 0x03], codeKey: data[1], issuedAt: view.getUint32(2), lifetime,
    purposes: bits(PURPOSES, sets & 0x0f), cards: bits(CARDS, sets >> 4),
    body: data.slice(0, 33), signature: data.slice(33),
  };
}

const codePoints = (s) => [...s].length;
const line = (s, max) => typeof s === "string" && s !== "" && codePoints(s) <= max && !CONTROL.test(s);
const matches = (s, pattern) => typeof s === "string" && pattern.test(s);
const integer = (n) => typeof n === "bigint" && n <= MAX_INT;
const bytesOf = (b, size) => b instanceof Uint8Array && b.length === size;

/** verify_presentation: `seen(nonceHex)` as the Python one's `seen`; `statusLists` (for
 * the first format, `LC1:`) null or readStatusList's answers by issuer. */
export async function verifyPresentation(text, keys, now, { seen = null, skew = SKEW, statusLists = null } = {}) {
  if (!(typeof text === "string" && text.startsWith("LC2:"))) return verifyFull(text, keys, now, { statusLists, seen, skew });
  const statement = readCompact(text);
  if (!statement) return { ok: false, reason: "malformed" };
  const key = keyFor(keys, statement.kid, "licence", statement.issuer);
  if (typeof key === "string") return { ok: false, reason: key };
  if (!(await verifies(key.publicKey, statement.signature, statement.signed))) return { ok: false, reason: "bad_signature" };
  let reason = timeFailure(statement.issuedAt, statement.expiresAt, now, skew) ?? "valid";
  if (reason === "valid" && seen && seen(hex(statement.nonce))) reason = "replayed";
  return {
    ok: reason === "valid", reason, typeCode: statement.typeCode, typeName: statement.typeName,
    issuer: statement.issuer, disclosed: statement.fields, issuedAt: statement.issuedAt,
    expiresAt: statement.expiresAt, nonce: hex(statement.nonce), statusChecked: true,
  };
}

function readCompact(text) {
  if (typeof text !== "string" || text.length > MAX_QR_TEXT || !text.startsWith("LC2:")) return null;
  let data, decoded;
  try {
    data = base45Decode(text.slice(4));
    decoded = cborDecode(data);
  } catch {
    return null;
  }
  const d = decoded.value;
  if (!Array.isArray(d) || d.length !== 10 || d[0] !== "mycity-licence/2" || !(d[4] instanceof Map)) return null;
  const [, typeCode, typeName, issuer, fieldMap, issuedAt, expiresAt, nonce, kid, signature] = d;
  if (!matches(typeCode, TYPE_CODE) || codePoints(typeCode) > 256 || !line(typeName, 64) || !matches(issuer, ISSUER)) return null;
  if (fieldMap.size > 64) return null;
  const fields = {};
  for (const [name, value] of fieldMap) {
    if (!matches(name, FIELD_NAME) || typeof value !== "string" || codePoints(value) > 1024) return null;
    fields[name] = value;
  }
  if (!integer(issuedAt) || !integer(expiresAt) || issuedAt > expiresAt) return null;
  if (!bytesOf(nonce, 32) || !matches(kid, KID) || !bytesOf(signature, 64)) return null;
  // What the department signed: the nine elements' own bytes under a nine-element header
  // (the reading was strict, so they are the deterministic encoding).
  const signed = new Uint8Array(decoded.starts[9]);
  signed.set(data.subarray(0, decoded.starts[9]));
  signed[0] = 0x89;
  return {
    typeCode, typeName, issuer, fields, issuedAt: Number(issuedAt), expiresAt: Number(expiresAt),
    nonce, kid, signature, signed,
  };
}
