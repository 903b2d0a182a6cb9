// JSON read as mycity.verifier reads it (docs/licences.md §2): objects as Maps with no key
// twice, integers as BigInt, no fractions, exponents, NaN or Infinity, no raw control
// characters in strings; and RFC 8785 canonical JSON, what the signatures cover.

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const ESCAPES = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

/** The value a JSON text holds; throws on anything the Python reader refuses. */
export function parseJson(text) {
  const reader = { text, at: 0 };
  const value = parseValue(reader);
  skip(reader);
  if (reader.at !== text.length) throw new Error("extra data after the JSON value");
  return value;
}

function skip(r) {
  while (r.at < r.text.length && WHITESPACE.has(r.text[r.at])) r.at++;
}

function parseValue(r) {
  skip(r);
  const c = r.text[r.at];
  if (c === "{") return parseObject(r);
  if (c === "[") return parseArray(r);
  if (c === '"') return parseString(r);
  for (const [word, value] of [["true", true], ["false", false], ["null", null]]) {
    if (r.text.startsWith(word, r.at)) {
      r.at += word.length;
      return value;
    }
  }
  NUMBER.lastIndex = r.at;
  const number = NUMBER.exec(r.text);
  if (!number) throw new Error(`no JSON value at ${r.at}`);
  if (number[1] !== undefined || number[2] !== undefined) throw new Error("numbers are integers");
  r.at = NUMBER.lastIndex;
  return BigInt(number[0]);
}

function parseObject(r) {
  const found = new Map();
  r.at++;
  skip(r);
  if (r.text[r.at] === "}") return r.at++, found;
  for (;;) {
    skip(r);
    if (r.text[r.at] !== '"') throw new Error("an object's key is a string");
    const key = parseString(r);
    skip(r);
    if (r.text[r.at++] !== ":") throw new Error("expected ':'");
    if (found.has(key)) throw new Error("an object repeats a key");
    found.set(key, parseValue(r));
    skip(r);
    const next = r.text[r.at++];
    if (next === "}") return found;
    if (next !== ",") throw new Error("expected ',' or '}'");
  }
}

function parseArray(r) {
  const items = [];
  r.at++;
  skip(r);
  if (r.text[r.at] === "]") return r.at++, items;
  for (;;) {
    items.push(parseValue(r));
    skip(r);
    const next = r.text[r.at++];
    if (next === "]") return items;
    if (next !== ",") throw new Error("expected ',' or ']'");
  }
}

function parseString(r) {
  let out = "";
  r.at++;
  for (;;) {
    if (r.at >= r.text.length) throw new Error("a string never ends");
    const c = r.text[r.at++];
    if (c === '"') return out;
    if (c < " ") throw new Error("a control character in a string");
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = r.text[r.at++];
    if (e in ESCAPES) out += ESCAPES[e];
    else if (e === "u" && /^[0-9A-Fa-f]{4}$/.test(r.text.slice(r.at, r.at + 4))) {
      out += String.fromCharCode(parseInt(r.text.slice(r.at, r.at + 4), 16));
      r.at += 4;
    } else throw new Error("a bad escape in a string");
  }
}

/** RFC 8785 canonical JSON of what parseJson reads (keys sorted; ASCII keys only here). */
export function canonical(value) {
  if (value === null || typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const keys = [...value.keys()].sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value.get(k))}`).join(",")}}`;
}

/** `value` as an object with exactly the members `names` (a Map), else throws. */
export function members(value, names) {
  if (!(value instanceof Map) || value.size !== names.length || !names.every((n) => value.has(n))) {
    throw new Error(`expected an object with the members ${names.join(", ")}`);
  }
  return value;
}

/** A string of `max` code points at most that UTF-8 can encode; a non-empty line of text
 * with no control character unless `pattern` (which it must match whole) is given. */
export function string(value, pattern = null, max = 256) {
  if (typeof value !== "string" || !value.isWellFormed() || [...value].length > max) throw new Error("expected a UTF-8 string");
  if (pattern === null && (value === "" || /[\x00-\x1f\x7f-\x9f]/.test(value))) throw new Error("expected a line of text");
  if (pattern !== null && !pattern.test(value)) throw new Error(`${value} is not of its form`);
  return value;
}

/** An integer from 0 to 2^53 - 1, as a Number. */
export function integer(value) {
  if (typeof value !== "bigint" || value < 0n || value > 2n ** 53n - 1n) throw new Error("expected an integer from 0 to 2^53 - 1");
  return Number(value);
}
