// The encodings the city's codes use, read strictly, as mycity.verifier reads them:
// Base45 (RFC 9285), deterministic CBOR (RFC 8949 §4.2.1) and unpadded base64url.
// Each reader throws on anything its Python twin refuses (docs/city-code.md, docs/licences.md).

const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const B45_VALUE = new Map([...B45].map((c, i) => [c, i]));

export function base45Decode(text) {
  if (text.length % 3 === 1) throw new Error("a dangling Base45 character");
  const out = new Uint8Array(Math.floor(text.length / 3) * 2 + (text.length % 3 ? 1 : 0));
  let at = 0;
  for (let i = 0; i < text.length; i += 3) {
    const digits = [...text.slice(i, i + 3)].map((c) => B45_VALUE.get(c));
    if (digits.some((d) => d === undefined)) throw new Error("a character outside Base45");
    const [c0, c1, c2 = 0] = digits;
    const value = c0 + c1 * 45 + c2 * 2025;
    if (digits.length === 3) {
      if (value > 0xffff) throw new Error("a Base45 group too large for its bytes");
      out[at++] = value >> 8;
      out[at++] = value & 0xff;
    } else {
      if (value > 0xff) throw new Error("a Base45 group too large for its byte");
      out[at++] = value;
    }
  }
  return out;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

export function b64urlDecode(text, size) {
  if (typeof text !== "string" || !B64URL.test(text) || text.length % 4 === 1) {
    throw new Error("not unpadded base64url");
  }
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/") + "==".slice(0, (4 - (text.length % 4)) % 4));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  if (b64urlEncode(bytes) !== text) throw new Error("not canonical base64url");
  if (size !== undefined && bytes.length !== size) throw new Error(`expected ${size} bytes`);
  return bytes;
}

export function b64urlEncode(bytes) {
  let binary = "";
  for (let at = 0; at < bytes.length; at += 8192) binary += String.fromCharCode(...bytes.subarray(at, at + 8192));
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

// CBOR: unsigned integers (as BigInt), byte strings, UTF-8 texts, arrays and maps; the
// shortest forms, definite lengths, map keys sorted by their bytes and each once.
const UINT = 0, BYTES = 2, TEXT = 3, ARRAY = 4, MAP = 5;
const MAX_DEPTH = 4;
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function cborDecode(data) {
  const reader = { data, at: 0, starts: [] };
  const value = item(reader, 0);
  if (reader.at !== data.length) throw new Error("bytes after the CBOR item");
  return { value, starts: reader.starts };
}

function item(r, depth) {
  if (depth > MAX_DEPTH) throw new Error("CBOR nested too deep");
  if (depth === 1) r.starts.push(r.at); // where each element of the top array begins
  const [major, argument] = head(r);
  if (major === UINT) return argument;
  if (major === BYTES || major === TEXT) {
    const end = r.at + Number(argument);
    if (argument > BigInt(r.data.length) || end > r.data.length) throw new Error("a string runs past the end");
    const chunk = r.data.slice(r.at, end);
    r.at = end;
    return major === BYTES ? chunk : UTF8.decode(chunk);
  }
  if (major === ARRAY) {
    const items = [];
    for (let i = 0n; i < argument; i++) items.push(item(r, depth + 1));
    return items;
  }
  if (major === MAP) {
    const found = new Map();
    let previous = null;
    for (let i = 0n; i < argument; i++) {
      const start = r.at;
      const key = item(r, depth + 1);
      const encoded = r.data.slice(start, r.at);
      if (!(typeof key === "string" || typeof key === "bigint") || (previous && compare(encoded, previous) <= 0)) {
        throw new Error("CBOR map keys must be texts or integers, sorted, each once");
      }
      previous = encoded;
      found.set(key, item(r, depth + 1));
    }
    return found;
  }
  throw new Error(`CBOR major type ${major} is not read here`);
}

function head(r) {
  if (r.at >= r.data.length) throw new Error("the CBOR item ends early");
  const byte = r.data[r.at++];
  const major = byte >> 5, info = byte & 0x1f;
  if (info < 24) return [major, BigInt(info)];
  if (info > 27) throw new Error("indefinite lengths and reserved forms are not read");
  const size = 1 << (info - 24);
  if (r.at + size > r.data.length) throw new Error("the CBOR item ends early");
  let argument = 0n;
  for (let i = 0; i < size; i++) argument = (argument << 8n) | BigInt(r.data[r.at + i]);
  r.at += size;
  if (argument < (size === 1 ? 24n : 1n << BigInt(4 * size))) throw new Error("not the shortest CBOR form");
  return [major, argument];
}

function compare(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
