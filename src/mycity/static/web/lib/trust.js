// What both licence formats share (docs/licences.md §2, §3, §7), as mycity.verifier's
// licence_codec.py and licence_trust.py have it: the forms of names, the trust list's key
// for a kid, an Ed25519 signature through WebCrypto, and a presentation's window.
export const KID = /^[A-Za-z0-9._:-]{1,64}$/;
export const ISSUER = /^[A-Z][A-Z0-9-]{0,31}$/;
export const FIELD_NAME = /^[a-z][a-z0-9_]{0,31}$/;
export const MAX_QR_TEXT = 4296; // alphanumeric characters of the largest QR code (40-L)
const MAX_LIFETIME = 300; // seconds a presentation may live, in either format

export const verifies = (key, signature, message) => crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);

/** The trusted key `kid` names if it is of this use (and issuer), else the reason. */
export function keyFor(keys, kid, use, issuer = null) {
  const key = keys.get(kid);
  if (!key) return "unknown_key";
  return key.use !== use || key.issuer !== issuer ? "wrong_key" : key;
}

/** Why a presentation is out of its window at `now` (comparisons a NaN clock fails), or null. */
export function timeFailure(issuedAt, expiresAt, now, skew) {
  if (expiresAt - issuedAt > MAX_LIFETIME) return "too_long_lived";
  if (!(now >= issuedAt - skew)) return "not_yet_valid";
  if (!(now <= expiresAt + skew)) return "expired";
  return null;
}
