// Reading a QR code into its text: from the camera (the browser's BarcodeDetector where it
// has one, else the vendored jsQR on each frame) or from an image file (a screenshot).

const detector = "BarcodeDetector" in globalThis ? new globalThis.BarcodeDetector({ formats: ["qr_code"] }) : null;

/** The text of the first QR code in an image (a canvas, bitmap or video frame), or null. */
export async function decode(source, width, height) {
  if (detector) {
    const [found] = await detector.detect(source).catch(() => []);
    if (found) return found.rawValue;
  }
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, width, height);
  const image = ctx.getImageData(0, 0, width, height);
  return globalThis.jsQR(image.data, width, height, { inversionAttempts: "attemptBoth" })?.data ?? null;
}

export async function decodeFile(file) {
  const bitmap = await createImageBitmap(file);
  return decode(bitmap, bitmap.width, bitmap.height);
}

/** Watch the camera until a code is read; answers its text, and lets the camera go. */
export async function watchCamera(video) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  video.srcObject = stream;
  try {
    await video.play();
    for (;;) {
      if (video.videoWidth) {
        const text = await decode(video, video.videoWidth, video.videoHeight);
        if (text) return text;
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  } finally {
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  }
}
