// The artrestore page: images in (file picker, drag and drop, paste, bundled samples), one restoration at a
// time through the documented API (POST /restore?response=png, the info in the X-Artrestore-Info header;
// GET /healthz for the strategies and decision thresholds; GET /samples), a queue with a state per file,
// the before/after view (compare.js), what happened (method, severity, time per stage, damage features,
// fallback reason), re-runs with another strategy, and downloads: one PNG, or everything as a ZIP (zip.js).

import { CompareView } from "./compare.js";
import { zipStore } from "./zip.js";

const INFO_HEADER = "X-Artrestore-Info";
const ORIGINAL = "original";
// Display scales for the bars, from docs/features.md (units / range); a feature not listed is shown as a
// number without a bar, so features added later still appear.
const FEATURE_SCALES = {
  mean: [0, 1], std_dev: [0, 0.5], skewness: [-3, 3], kurtosis: [-2, 10],
  low_freq_energy: [0, 1], high_freq_energy: [0, 1], energy_ratio: [0, 1],
  radial_center: [-60, 30, "dB"], radial_25: [-60, 30, "dB"], radial_50: [-60, 30, "dB"],
  radial_75: [-60, 30, "dB"], radial_edge: [-60, 30, "dB"],
  color_balance_need: [0, 1], sharpening_need: [0, 1],
};

const $ = (id) => document.getElementById(id);
const state = {
  items: [],          // in queue order
  jobs: [],           // [{item, strategy}] waiting to be sent
  running: false,
  selected: null,     // the item shown in the view
  strategies: ["auto"],
  thresholds: {},
  nextId: 1,
  pasted: 0,
};

const view = new CompareView({
  stage: $("stage"), canvas: $("compare"), divider: $("divider"),
  onChange: (v) => { $("zoom-level").value = v.imageWidth ? `${Math.round(v.zoom * 100)}%` : ""; },
});

// ------------------------------------------------------------------------------------------- helpers
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "style") node.style.cssText = value;  // CSSOM: allowed by the page's style-src policy
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function formatNumber(value) {
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 0.001 || magnitude >= 1e5) ? value.toExponential(2) : value.toFixed(3);
}

const formatMs = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const formatBytes = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : n >= 1024 ? `${Math.round(n / 1024)} kB` : `${n} bytes`);

function stem(name) {
  const dot = name.lastIndexOf(".");
  return (dot > 0 ? name.slice(0, dot) : name).replace(/[\\/:*?"<>|]+/g, "_") || "image";
}

/** The download name of a result: original name + "_restored" (+ the strategy when not auto). */
function outputName(item, result) {
  return `${stem(item.name)}_restored${result.strategy === "auto" ? "" : `_${result.strategy}`}.png`;
}

function resultLabel(result) {
  const method = result.info.method + (result.info.fallback ? " (fallback)" : "");
  return result.strategy === "auto" ? `auto → ${method}` : `${result.strategy} → ${method}`;
}

/** The server's message from an error response: FastAPI's {"detail": string | [{loc, msg}]}. */
async function serverMessage(status, statusText, body) {
  const text = body ? await body.text() : "";
  try {
    const detail = JSON.parse(text).detail;
    if (typeof detail === "string") return `${detail} (HTTP ${status})`;
    if (Array.isArray(detail)) {
      return `${detail.map((d) => `${(d.loc || []).filter((p) => p !== "body").join(".")}: ${d.msg}`).join("; ")} (HTTP ${status})`;
    }
  } catch { /* not JSON: fall through */ }
  return `HTTP ${status} ${statusText}${text ? `: ${text.slice(0, 200)}` : ""}`;
}

// --------------------------------------------------------------------------------------- the server
async function loadServer() {
  try {
    const response = await fetch("/healthz");
    if (!response.ok) throw new Error(await serverMessage(response.status, response.statusText, response));
    const health = await response.json();
    state.strategies = health.strategies?.length ? health.strategies : ["auto"];
    state.thresholds = health.decision_thresholds || {};
    const unet = health.use_dl ? `U-Net ${health.dl_backend === "local" ? "in process" : `at ${health.dl_backend}`}`
                               : "U-Net off (deep_learning falls back)";
    $("server-status").textContent = `server ${health.version} · ${unet}`;
  } catch (error) {
    $("server-status").textContent = `server not reachable: ${error.message}`;
    $("server-status").classList.add("bad");
  }
  for (const select of [$("default-strategy"), $("rerun-strategy")]) {
    select.replaceChildren(...state.strategies.map((s) => el("option", { value: s, text: s })));
  }
  $("rerun-strategy").value = state.strategies.find((s) => s !== "auto") || "auto";
  try {
    const response = await fetch("/samples");
    const names = response.ok ? await response.json() : [];
    $("sample-buttons").replaceChildren(...names.map((name) => {
      const button = el("button", { type: "button", text: name });
      button.addEventListener("click", () => addSample(name));
      return button;
    }));
    $("samples").hidden = names.length === 0;
  } catch { /* samples are a convenience; the page works without them */ }
}

async function addSample(name) {
  const response = await fetch(`/samples/${encodeURIComponent(name)}`);
  if (!response.ok) {
    $("server-status").textContent = `sample ${name}: ${await serverMessage(response.status, response.statusText, response)}`;
    return;
  }
  const blob = await response.blob();
  addFiles([new File([blob], name, { type: blob.type || "image/jpeg" })]);
}

/** POST /restore; resolves to {ok, blob, info} or {ok: false, message} (never rejects). */
function postRestore(item, strategy, onProgress) {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/restore?response=png");
    request.responseType = "blob";
    request.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    request.upload.addEventListener("load", () => onProgress(1));
    request.addEventListener("load", async () => {
      if (request.status === 200) {
        try {
          resolve({ ok: true, blob: request.response, info: JSON.parse(request.getResponseHeader(INFO_HEADER)) });
        } catch (error) {
          resolve({ ok: false, message: `unreadable ${INFO_HEADER} header: ${error.message}` });
        }
      } else {
        resolve({ ok: false, message: await serverMessage(request.status, request.statusText, request.response) });
      }
    });
    request.addEventListener("error", () => resolve({ ok: false, message: "network error: the server could not be reached" }));
    const body = new FormData();
    body.append("image", item.file, item.name);
    body.append("strategy", strategy);
    request.send(body);
  });
}

// ---------------------------------------------------------------------------------------- the queue
function addFiles(files) {
  const strategy = $("default-strategy").value;
  const added = [];
  for (let file of files) {
    if (!file) continue;
    if (!file.name || file.name === "image.png") {  // pasted screenshots all arrive as "image.png"
      state.pasted += 1;
      file = new File([file], `pasted-${state.pasted}.${(file.type.split("/")[1] || "png").replace("jpeg", "jpg")}`,
                      { type: file.type });
    }
    const item = { id: state.nextId++, file, name: file.name, results: new Map(), status: "waiting",
                   progress: 0, error: null, original: undefined, left: ORIGINAL, right: null, removed: false };
    state.items.push(item);
    item.node = buildQueueNode(item);
    $("queue").append(item.node);
    decodeOriginal(item);
    enqueue(item, strategy);
    added.push(item);
  }
  if (added.length && (!state.selected || state.selected.removed)) select(added[0]);
  updateQueueControls();
}

function enqueue(item, strategy) {
  state.jobs.push({ item, strategy });
  item.status = "waiting";
  item.error = null;
  renderItem(item);
  if (!state.running) runQueue();
}

async function runQueue() {
  state.running = true;
  while (state.jobs.length) {
    const { item, strategy } = state.jobs.shift();
    if (item.removed) continue;
    item.status = "uploading";
    item.strategy = strategy;
    item.progress = 0;
    renderItem(item);
    const started = performance.now();
    const reply = await postRestore(item, strategy, (fraction) => {
      item.progress = fraction;
      item.status = fraction >= 1 ? "restoring" : "uploading";
      renderItem(item);
    });
    if (item.removed) continue;
    if (reply.ok) {
      let bitmap = null;
      try {
        bitmap = await createImageBitmap(reply.blob);
      } catch (error) {
        reply.ok = false;
        reply.message = `the restored PNG could not be decoded: ${error.message}`;
      }
      if (bitmap) {
        const old = item.results.get(strategy);
        if (old) { URL.revokeObjectURL(old.url); old.bitmap.close(); }
        item.results.set(strategy, { strategy, info: reply.info, blob: reply.blob, bitmap,
                                     url: URL.createObjectURL(reply.blob), roundTripMs: performance.now() - started });
        item.right = `result:${strategy}`;
        item.status = "done";
      }
    }
    if (!reply.ok) {
      item.status = "failed";
      item.error = reply.message;
    }
    renderItem(item);
    if (item === state.selected) showSelected();
    updateQueueControls();
  }
  state.running = false;
}

async function decodeOriginal(item) {
  try {
    // The server decodes without applying EXIF orientation; so does this, keeping both sides aligned.
    item.original = await createImageBitmap(item.file, { imageOrientation: "none" });
  } catch {
    item.original = null;  // a format the browser cannot show (e.g. TIFF): the server may still restore it
  }
  if (item.removed) return;
  drawThumb(item);
  renderItem(item);
  if (item === state.selected) showSelected();
}

function buildQueueNode(item) {
  const thumb = el("canvas", { class: "thumb", width: "48", height: "48", "aria-hidden": "true" });
  const selectButton = el("button", { type: "button", class: "select" }, thumb,
    el("span", { class: "name", text: item.name }),
    el("span", { class: "meta" }),
    el("span", { class: "state" }));
  selectButton.addEventListener("click", () => select(item));
  const remove = el("button", { type: "button", class: "remove", "aria-label": `Remove ${item.name}`, text: "×" });
  remove.addEventListener("click", () => removeItem(item));
  return el("li", { class: "queue-item" }, selectButton, el("p", { class: "error", role: "alert", hidden: "" }), remove);
}

function drawThumb(item) {
  const canvas = item.node.querySelector(".thumb");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const source = item.original || [...item.results.values()].at(-1)?.bitmap;
  if (!source) return;
  const s = Math.min(canvas.width / source.width, canvas.height / source.height);
  const w = source.width * s, h = source.height * s;
  ctx.drawImage(source, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
}

function renderItem(item) {
  const node = item.node;
  node.dataset.state = item.status;
  const selectButton = node.querySelector(".select");
  if (item === state.selected) selectButton.setAttribute("aria-current", "true");
  else selectButton.removeAttribute("aria-current");
  const size = item.original ? `${item.original.width}×${item.original.height} · ` : "";
  node.querySelector(".meta").textContent = `${size}${formatBytes(item.file.size)}`;
  const latest = item.results.get(item.strategy) || [...item.results.values()].at(-1);
  const text = {
    waiting: "waiting",
    uploading: `uploading ${Math.round(item.progress * 100)}%`,
    restoring: `restoring (${item.strategy})…`,
    done: latest ? `done: ${latest.info.method}, ${latest.info.severity}, ${formatMs(latest.info.timings_ms.total)} ms` : "done",
    failed: "failed",
  }[item.status];
  node.querySelector(".state").textContent = text;
  const error = node.querySelector(".error");
  error.hidden = !item.error;
  error.textContent = item.error || "";
  if (!item.original && item.results.size) drawThumb(item);
}

function removeItem(item) {
  item.removed = true;
  state.items = state.items.filter((i) => i !== item);
  for (const result of item.results.values()) { URL.revokeObjectURL(result.url); result.bitmap.close(); }
  item.original?.close?.();
  item.node.remove();
  if (state.selected === item) select(state.items[0] || null);
  updateQueueControls();
}

function updateQueueControls() {
  $("queue-empty").hidden = state.items.length > 0;
  $("clear-queue").disabled = state.items.length === 0;
  $("download-all").disabled = !state.items.some((i) => i.results.size);
}

// ----------------------------------------------------------------------------------- the comparison
function select(item) {
  const previous = state.selected;
  state.selected = item;
  if (previous && !previous.removed) renderItem(previous);
  if (item) renderItem(item);
  showSelected();
}

function sourceOf(item, key) {
  if (!key) return null;
  if (key === ORIGINAL) return { label: "original", bitmap: item.original, result: null };
  const result = item.results.get(key.slice("result:".length));
  return result ? { label: resultLabel(result), bitmap: result.bitmap, result } : null;
}

function showSelected() {
  const item = state.selected;
  const has = Boolean(item);
  $("empty-state").hidden = has;
  $("toolbar").hidden = !has;
  $("rerun-strategy").disabled = $("rerun").disabled = !has;
  if (!has) {
    view.clear();
    $("compare").hidden = $("stage-message").hidden = true;
    $("divider").hidden = $("left-label").hidden = $("right-label").hidden = true;
    $("download-one").hidden = true;
    $("download-one").removeAttribute("href");
    renderDetails(null, null);
    return;
  }
  const options = [[ORIGINAL, item.original === null ? "original (no preview in this browser)" : "original"],
                   ...[...item.results.values()].map((r) => [`result:${r.strategy}`, resultLabel(r)])];
  for (const id of ["left-source", "right-source"]) {
    $(id).replaceChildren(...options.map(([value, label]) => el("option", { value, text: label })));
  }
  if (!item.right || !sourceOf(item, item.right)) item.right = item.results.size ? `result:${[...item.results.keys()].at(-1)}` : ORIGINAL;
  if (!sourceOf(item, item.left)) item.left = ORIGINAL;
  $("left-source").value = item.left;
  $("right-source").value = item.right;

  const left = sourceOf(item, item.left), right = sourceOf(item, item.right);
  const pending = item.status === "waiting" || item.status === "uploading" || item.status === "restoring";
  const label = (side) => (side.bitmap === null ? `${side.label}: no preview` : side.label);
  $("left-label").textContent = label(left);
  $("right-label").textContent = item.right === ORIGINAL && pending ? "restoring…" : label(right);
  const visible = Boolean(left.bitmap || right.bitmap);
  $("left-label").hidden = $("right-label").hidden = $("divider").hidden = $("compare").hidden = !visible;
  for (const id of ["zoom-fit", "zoom-1", "zoom-in", "zoom-out", "left-source", "right-source"]) $(id).disabled = !visible;
  const message = $("stage-message");
  message.hidden = visible;
  message.classList.toggle("failed", item.status === "failed");
  message.textContent = visible ? "" : item.status === "failed" ? `${item.name} failed: ${item.error}`
    : item.original === undefined ? `${item.name}: reading…`
    : `${item.name}: ${item.status}… (this browser cannot preview the format; the result will show)`;
  view.setImages(left.bitmap || null, right.bitmap || null);
  $("compare").setAttribute("aria-label", `${item.name}: ${left.label} left of the divider, ${right.label} right of it`);

  const shown = right.result || left.result;
  const download = $("download-one");
  if (shown) {
    download.href = shown.url;
    download.download = outputName(item, shown);
    download.textContent = `Download ${download.download}`;
    download.hidden = false;
  } else {
    download.hidden = true;
    download.removeAttribute("href");
  }
  renderDetails(item, shown);
}

// ---------------------------------------------------------------------------------- what happened
function renderDetails(item, result) {
  $("details-empty").hidden = Boolean(result);
  $("details-body").hidden = !result;
  if (item && !result) {
    $("details-empty").textContent = item.status === "failed" ? `${item.name} failed: ${item.error}`
      : `${item.name}: ${item.status}…`;
  } else if (!item) {
    $("details-empty").textContent = "The method, severity, time per stage and damage analysis of the selected image appear here.";
  }
  if (!result) return;
  const info = result.info;
  const size = result.bitmap ? `${result.bitmap.width}×${result.bitmap.height} px` : "";
  const pairs = [["image", `${item.name}${size ? ` (${size})` : ""}`], ["strategy", info.strategy],
                 ["method", info.method], ["severity", info.severity],
                 ["server time", `${formatMs(info.timings_ms.total)} ms`],
                 ["round trip", `${formatMs(result.roundTripMs)} ms (upload, queue, restore, download)`]];
  $("summary").replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v, "data-key": k })]));

  const fallback = $("fallback");
  fallback.hidden = !info.fallback;
  if (info.fallback) {
    fallback.textContent = `The U-Net was not used: ${info.fallback.reason}. ` +
      `Restored with ${info.fallback.to} instead of ${info.fallback.from}.`;
  }
  renderTimings(info.timings_ms, result.roundTripMs);
  renderFeatures(info.damage_analysis || {});
  $("params").replaceChildren(...Object.entries(info.params || {})
    .flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: formatNumber(v) })]));
  $("results").tBodies[0].replaceChildren(...[...item.results.values()].map((r) => {
    const show = el("button", { type: "button", text: r.strategy, "aria-label": `Show ${resultLabel(r)} on the right` });
    show.addEventListener("click", () => { item.right = `result:${r.strategy}`; showSelected(); });
    return el("tr", r === result ? { class: "current" } : {}, el("td", {}, show),
              el("td", { text: r.info.method + (r.info.fallback ? " (fallback)" : "") }),
              el("td", { class: "num", text: formatMs(r.info.timings_ms.total) }));
  }));
}

function renderTimings(timings, roundTripMs) {
  const stages = Object.entries(timings).filter(([name]) => name !== "total");
  const total = timings.total || stages.reduce((sum, [, ms]) => sum + ms, 0) || 1;
  const bar = el("div", { class: "stage-bar", role: "img",
                          "aria-label": stages.map(([n, ms]) => `${n} ${formatMs(ms)} ms`).join(", ") },
    ...stages.map(([name, ms], i) => el("span", { class: `seg s${i % 6}`, title: `${name}: ${formatMs(ms)} ms`,
                                                  style: `width:${(100 * ms) / total}%` })));
  const rows = stages.map(([name, ms], i) => el("tr", {},
    el("th", { scope: "row" }, el("span", { class: `swatch s${i % 6}`, "aria-hidden": "true" }), name),
    el("td", { class: "num", text: `${formatMs(ms)} ms` }),
    el("td", { class: "num", text: `${((100 * ms) / total).toFixed(0)}%` })));
  rows.push(el("tr", { class: "total" }, el("th", { scope: "row", text: "total (server)" }),
               el("td", { class: "num", text: `${formatMs(total)} ms` }), el("td")));
  if (roundTripMs) {
    rows.push(el("tr", {}, el("th", { scope: "row", text: "round trip (browser)" }),
                 el("td", { class: "num", text: `${formatMs(roundTripMs)} ms` }), el("td")));
  }
  $("timings").replaceChildren(bar, el("table", { class: "timings" }, el("tbody", {}, ...rows)));
}

function renderFeatures(features) {
  const thresholdsOf = (name) => Object.entries(state.thresholds)
    .filter(([key]) => key.endsWith(`_${name}`))
    .map(([key, value]) => ({ severity: key.slice(0, -name.length - 1), value }));
  $("features").tBodies[0].replaceChildren(...Object.entries(features).map(([name, value]) => {
    const scale = FEATURE_SCALES[name];
    const cell = el("td", { class: "bar-cell" });
    if (scale) {
      const [lo, hi, unit = ""] = scale;
      const at = (v) => (100 * (Math.min(Math.max(v, lo), hi) - lo)) / (hi - lo);
      const zero = at(Math.max(lo, Math.min(0, hi)));
      const x = at(value);
      const track = el("div", { class: "track", role: "img",
                                "aria-label": `${formatNumber(value)} on a scale from ${lo} to ${hi}${unit && ` ${unit}`}` },
        el("span", { class: `fill${value > hi || value < lo ? " clipped" : ""}`,
                     style: `left:${Math.min(zero, x)}%;width:${Math.abs(x - zero)}%` }));
      for (const t of thresholdsOf(name)) {
        track.append(el("span", { class: `mark ${t.severity}`, style: `left:${at(t.value)}%`,
                                  title: `${t.severity} threshold ${t.value}` }));
      }
      cell.append(track, el("span", { class: "range", text: `${lo} … ${hi}${unit && ` ${unit}`}` }));
    }
    const marks = thresholdsOf(name).map((t) => `${t.severity} at ${t.value}`).join(", ");
    return el("tr", { "data-feature": name },
      el("th", { scope: "row", text: name, title: marks ? `decision thresholds: ${marks}` : "" }),
      el("td", { class: "num", text: formatNumber(value) }), cell);
  }));
}

// --------------------------------------------------------------------------------------- downloads
async function downloadAll() {
  const button = $("download-all");
  button.disabled = true;
  button.textContent = "Packing…";
  try {
    const entries = [], summary = [], used = new Set();
    const unique = (name) => {
      let candidate = name, n = 2;
      while (used.has(candidate)) candidate = name.replace(/(\.[^.]*)?$/, `_${n++}$1`);
      used.add(candidate);
      return candidate;
    };
    for (const item of state.items) {
      const row = { file: item.name, status: item.status, error: item.error, results: [] };
      for (const result of item.results.values()) {
        const name = unique(outputName(item, result));
        entries.push({ name, data: result.blob });
        row.results.push({ strategy: result.strategy, output: name, info: result.info,
                           round_trip_ms: Math.round(result.roundTripMs * 100) / 100 });
      }
      summary.push(row);
    }
    entries.push({ name: unique("results.json"), data: `${JSON.stringify(summary, null, 2)}\n` });
    const zip = await zipStore(entries);
    const link = $("zip-link") || el("a", { id: "zip-link", hidden: "" });
    if (!link.isConnected) document.body.append(link);
    if (link.href) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(zip);
    link.download = "artrestore_results.zip";
    link.click();
  } catch (error) {
    $("server-status").textContent = `ZIP not made: ${error.message}`;
  } finally {
    button.textContent = "Download all (ZIP)";
    updateQueueControls();
  }
}

// ------------------------------------------------------------------------------------------ intake
function bindIntake() {
  $("pick-button").addEventListener("click", () => $("file-input").click());
  $("file-input").addEventListener("change", (event) => {
    addFiles([...event.target.files]);
    event.target.value = "";  // picking the same file again is a new request
  });
  let depth = 0;  // dragenter/dragleave fire for every child element crossed
  const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
  window.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth += 1;
    $("drop-overlay").hidden = false;
  });
  window.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  window.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) $("drop-overlay").hidden = true;
  });
  window.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();  // never let the browser navigate away to the dropped file
    depth = 0;
    $("drop-overlay").hidden = true;
    addFiles([...event.dataTransfer.files]);
  });
  document.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData?.files || [])];
    if (!files.length) return;
    event.preventDefault();
    addFiles(files);
  });
}

function bindControls() {
  $("zoom-fit").addEventListener("click", () => view.fit());
  $("zoom-1").addEventListener("click", () => view.actualPixels());
  $("zoom-in").addEventListener("click", () => view.zoomIn());
  $("zoom-out").addEventListener("click", () => view.zoomOut());
  $("left-source").addEventListener("change", (e) => { state.selected.left = e.target.value; showSelected(); });
  $("right-source").addEventListener("change", (e) => { state.selected.right = e.target.value; showSelected(); });
  $("rerun").addEventListener("click", () => {
    if (state.selected) enqueue(state.selected, $("rerun-strategy").value);
  });
  $("download-all").addEventListener("click", downloadAll);
  $("clear-queue").addEventListener("click", () => [...state.items].forEach(removeItem));
}

bindIntake();
bindControls();
updateQueueControls();
showSelected();
loadServer().then(() => {
  const sample = new URLSearchParams(location.search).get("sample");
  if (sample) addSample(sample);
});
