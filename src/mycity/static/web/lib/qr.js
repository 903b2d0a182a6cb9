// A QR text drawn in the page (no server PNG): alphanumeric mode at level M, as the city's
// codes are specified (docs/city-code.md §2), with the standard four-module quiet zone.
import qrcode from "../vendor/qrcode-generator/qrcode.mjs";

export function drawQr(canvas, text, pixels = 320) {
  const qr = qrcode(0, "M");
  qr.addData(text, /^[0-9A-Z $%*+\-./:]*$/.test(text) ? "Alphanumeric" : "Byte");
  qr.make();
  const modules = qr.getModuleCount();
  const scale = Math.max(2, Math.floor(pixels / (modules + 8)));
  const size = (modules + 8) * scale;
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, size, size);
  ctx.fillStyle = "#000";
  for (let r = 0; r < modules; r++) {
    for (let c = 0; c < modules; c++) {
      if (qr.isDark(r, c)) ctx.fillRect((c + 4) * scale, (r + 4) * scale, scale, scale);
    }
  }
}
