// Scan instead of typing: a Scan button next to every field the server marks `data-scan`
// (the scan_tools macro in templates/macros/forms.html renders the button, the message and
// the camera panel, with every text translated, in an inert <template>).
//
// Progressive enhancement: app.js loads this module only on a page with such a field and
// only where the browser has a camera API. A read goes into the field as if typed; the
// server's rules apply as for typing, so nothing is normalised here beyond trimming.
// Reading uses the browser's own BarcodeDetector when it reads all our formats, else the
// vendored barcode-detector polyfill (ZXing in WebAssembly, static/vendor/barcode-detector),
// fetched only when someone presses Scan.

const FORMATS = ["code_39", "code_128", "data_matrix", "qr_code", "ean_13", "ean_8"];
// The rear camera, sharp enough for a VIN's thin bars.
const CAMERA = {
  audio: false,
  video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
};
// A pause between two reads: quick enough for a hand held still, easy on a tablet's battery.
const READ_INTERVAL_MS = 100;

/** A value counts once two reads in a row agree; frames that show no code do not break the row. */
export function confirmer() {
  let last = null;
  return (value) => {
    const agreed = value === last;
    last = value;
    return agreed;
  };
}

export function cameraAvailable() {
  return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

let detectorPromise = null;

function detector(template) {
  if (!detectorPromise) {
    detectorPromise = createDetector(template.dataset.scanPolyfill, template.dataset.scanWasm);
    detectorPromise.catch(() => { detectorPromise = null; });  // the next press tries again
  }
  return detectorPromise;
}

async function createDetector(polyfillUrl, wasmUrl) {
  if ("BarcodeDetector" in window) {
    try {
      const supported = await window.BarcodeDetector.getSupportedFormats();
      if (FORMATS.every((format) => supported.includes(format))) {
        return new window.BarcodeDetector({ formats: FORMATS });
      }
    } catch (_) {
      // The browser's detector is there but unusable: read with the polyfill instead.
    }
  }
  const polyfill = await import(new URL(polyfillUrl, document.baseURI).href);
  const wasm = new URL(wasmUrl, document.baseURI).href;
  // Never the polyfill's default CDN: ZXing's .wasm comes from our own static files.
  await polyfill.prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasm : prefix + path) },
    fireImmediately: true,
  });
  return new polyfill.BarcodeDetector({ formats: FORMATS });
}

function problem(error) {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Denied";
    case "NotFoundError":
    case "OverconstrainedError":
      return "NoCamera";
    case "NotReadableError":
    case "AbortError":
      return "Busy";
    default:
      return "Failed";
  }
}

const wait = (ms) => new Promise((resolve) => { window.setTimeout(resolve, ms); });

// The one scan under way (a modal panel allows only one); stopped if its page goes away.
let current = null;

function setUp(template, input) {
  const parts = template.content.cloneNode(true);
  const button = parts.querySelector("[data-scan-open]");
  const message = parts.querySelector("[data-scan-message]");
  const panel = parts.querySelector("[data-scan-panel]");
  const video = panel.querySelector("[data-scan-video]");
  const viewer = panel.querySelector("[data-scan-viewer]");
  const status = panel.querySelector("[data-scan-status]");
  const help = panel.querySelector("[data-scan-help]");
  const retry = panel.querySelector("[data-scan-retry]");
  const cancel = panel.querySelector("[data-scan-cancel]");
  // Texts come translated from the server: data-text-<name> on the panel.
  const text = (name) => panel.dataset["text" + name];
  const starting = status.textContent;
  const cancelText = cancel.textContent;

  const row = input.closest(".scan-row") || input;
  if (row === input) input.after(button); else row.append(button);
  row.after(message, panel);

  let session = null;

  function stop() {
    if (!session) return;
    session.active = false;
    if (session.stream) session.stream.getTracks().forEach((track) => track.stop());
    video.srcObject = null;
    if (current === session) current = null;
    session = null;
  }

  function fail(kind) {
    stop();
    viewer.hidden = true;
    help.hidden = true;
    status.textContent = text(kind) || text("Failed");
    panel.classList.add("scan-panel--problem");
    retry.hidden = kind === "Unsupported";
    cancel.textContent = text("Close");
  }

  function accept(value) {
    panel.close();
    input.value = value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    // A function, so that "$&" and the like in a scanned value are not replacement patterns.
    message.textContent = text("Read").replace("{value}", () => value);
  }

  async function read(mine, reader) {
    const agree = confirmer();
    while (mine.active) {
      await wait(READ_INTERVAL_MS);
      if (!mine.active) return;
      if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) continue;
      let codes;
      try {
        codes = await reader.detect(video);
      } catch (error) {
        if (error && error.name === "NotSupportedError") return fail("Unsupported");
        continue;  // a frame that could not be read
      }
      if (!mine.active) return;
      const value = codes.map((code) => (code.rawValue || "").trim()).find(Boolean);
      if (value && agree(value)) return accept(value);
    }
  }

  async function start() {
    stop();
    const mine = { active: true, stream: null, stop };
    session = mine;
    current = mine;
    viewer.hidden = false;
    help.hidden = false;
    retry.hidden = true;
    status.textContent = starting;
    panel.classList.remove("scan-panel--problem");
    cancel.textContent = cancelText;

    const reader = detector(template);
    reader.catch(() => {});  // handled below, once the camera has answered
    try {
      mine.stream = await navigator.mediaDevices.getUserMedia(CAMERA);
    } catch (error) {
      if (mine.active) fail(problem(error));
      return;
    }
    if (!mine.active) {
      mine.stream.getTracks().forEach((track) => track.stop());
      return;
    }
    video.srcObject = mine.stream;
    video.play().catch(() => {});  // muted inline video may autoplay; reading waits for frames
    let loaded;
    try {
      loaded = await reader;
    } catch (_) {
      if (mine.active) fail("Unsupported");
      return;
    }
    if (!mine.active) return;
    status.textContent = text("Looking");
    read(mine, loaded);
  }

  button.addEventListener("click", () => {
    panel.showModal();
    start();
  });
  retry.addEventListener("click", () => {
    cancel.focus();
    start();
  });
  cancel.addEventListener("click", () => panel.close());
  // Cancel, Escape and a successful read all end here: the camera always stops. Focus
  // goes back to the Scan button, not the field, so a tablet's keyboard does not pop up
  // over the value just read; the message next to the field says what it is.
  panel.addEventListener("close", () => {
    stop();
    button.focus();
  });
  // Typing over a read makes "Read …" stale.
  input.addEventListener("input", (event) => {
    if (event.isTrusted) message.textContent = "";
  });
}

export function enhance(root) {
  if (!cameraAvailable()) return;
  root.querySelectorAll("template[data-scan-for]").forEach((template) => {
    if (template.dataset.scanReady) return;
    const input = document.getElementById(template.dataset.scanFor);
    if (!input) return;
    template.dataset.scanReady = "true";
    setUp(template, input);
  });
}

enhance(document);
document.addEventListener("htmx:afterSettle", (event) => {
  // A scan whose page was swapped away must not keep the camera on.
  if (current && !document.querySelector("dialog[data-scan-panel][open]")) current.stop();
  enhance(event.detail.target || document);
});
window.addEventListener("pagehide", () => { if (current) current.stop(); });
