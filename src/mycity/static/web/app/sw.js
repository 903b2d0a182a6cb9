// The app's shell cached for use offline; the API (/graphql, /uploads) never is.
const SHELL = "mycity-shell-v1";
const FILES = [
  "/app/", "/app/app.css", "/app/app.js", "/app/session.js", "/app/code.js", "/app/wallet.js", "/app/apply.js",
  "/app/money.js", "/app/privacy.js", "/app/manifest.webmanifest", "/app/icon.svg", "/lib/api.js", "/lib/codec.js",
  "/lib/dom.js", "/lib/i18n.js", "/lib/json.js", "/lib/licence_full.js", "/lib/qr.js", "/lib/trust.js", "/lib/verify.js",
  "/vendor/graphql-ws/graphql-ws.min.js",
  "/vendor/qrcode-generator/qrcode.mjs",
];

self.addEventListener("install", (event) => event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES))));
self.addEventListener("activate", (event) =>
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== SHELL).map((k) => caches.delete(k))))));
// Network first, so a new release shows at once; the cached shell when offline.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  // Only the shell's own files, never a URL with a query (whatever it carries stays out of the cache).
  if (event.request.method !== "GET" || url.origin !== location.origin || url.search || !FILES.includes(url.pathname)) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        const copy = response.clone();
        if (response.ok) caches.open(SHELL).then((cache) => cache.put(event.request, copy));
        return response;
      })
      .catch(() => caches.match(event.request)));
});
