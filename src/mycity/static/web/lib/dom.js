// Building elements without HTML strings: text is always text (no string is parsed as HTML),
// so nothing a server or a QR code says can become markup.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** Show a message in a status element, as an alert for assistive technology. */
export function say(target, message, kind = "info") {
  target.textContent = message;
  target.dataset.kind = kind;
}
