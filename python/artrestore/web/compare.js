// The before/after view: two images on one canvas, the left one shown left of a divider, the right one
// right of it, both drawn into the same rectangle so that every pixel lines up (an image of another
// size is stretched onto the other's rectangle). Zoom: "fit" (the whole image), "1:1" (one image pixel
// per device pixel), or any factor; pan by dragging the image or with the arrow keys. Above 1:1 pixels
// are drawn as blocks (no smoothing) so scratches and noise can be checked pixel by pixel.
// Units: `scale` is CSS pixels per image pixel; `offsetX/Y` the image origin in CSS pixels; `split`
// the divider as a fraction of the view's width (0 = all right image, 1 = all left image).

const ZOOM_STEP = 1.25;
const MAX_DEVICE_ZOOM = 32;  // image pixel at most 32 device pixels wide

export class CompareView {
  constructor({ stage, canvas, divider, onChange = () => {} }) {
    this.stage = stage;
    this.canvas = canvas;
    this.divider = divider;
    this.ctx = canvas.getContext("2d");
    this.onChange = onChange;
    this.left = null;
    this.right = null;
    this.split = 0.5;
    this.scale = 1;
    this.offsetX = 0;
    this.offsetY = 0;
    this.mode = "fit";  // "fit" re-fits on resize; "free" keeps scale and offsets
    this.width = 0;
    this.height = 0;
    this._bind();
  }

  get dpr() { return window.devicePixelRatio || 1; }
  get imageWidth() { return (this.right || this.left)?.width ?? 0; }
  get imageHeight() { return (this.right || this.left)?.height ?? 0; }
  /** Device pixels per image pixel (1 at 1:1). */
  get zoom() { return this.scale * this.dpr; }

  /** Show two images (ImageBitmap or canvas; either may be null); keeps the zoom if the size is unchanged. */
  setImages(left, right) {
    const sameSize = this.left && (left || right) &&
      (right || left).width === this.imageWidth && (right || left).height === this.imageHeight;
    this.left = left;
    this.right = right;
    if (!sameSize || this.mode === "fit") this.fit(); else this.draw();
  }

  clear() {
    this.left = this.right = null;
    this.draw();
  }

  resize() {
    const rect = this.stage.getBoundingClientRect();
    this.width = Math.max(1, Math.round(rect.width));
    this.height = Math.max(1, Math.round(rect.height));
    this.canvas.width = Math.round(this.width * this.dpr);
    this.canvas.height = Math.round(this.height * this.dpr);
    this.canvas.style.width = `${this.width}px`;
    this.canvas.style.height = `${this.height}px`;
    if (this.mode === "fit") this.fit(); else this.draw();
  }

  fit() {
    this.mode = "fit";
    if (this.imageWidth && this.width) {
      this.scale = Math.min(this.width / this.imageWidth, this.height / this.imageHeight);
      this.offsetX = (this.width - this.imageWidth * this.scale) / 2;
      this.offsetY = (this.height - this.imageHeight * this.scale) / 2;
    }
    this.draw();
  }

  /** Zoom to `zoom` device pixels per image pixel, keeping the image point under (x, y) in place. */
  zoomTo(zoom, x = this.width / 2, y = this.height / 2) {
    if (!this.imageWidth) return;
    const fitZoom = Math.min(this.width / this.imageWidth, this.height / this.imageHeight) * this.dpr;
    zoom = Math.min(Math.max(zoom, Math.min(fitZoom, 1) / 4), MAX_DEVICE_ZOOM);
    const scale = zoom / this.dpr;
    const imageX = (x - this.offsetX) / this.scale;
    const imageY = (y - this.offsetY) / this.scale;
    this.scale = scale;
    this.offsetX = x - imageX * scale;
    this.offsetY = y - imageY * scale;
    this.mode = "free";
    this._clampPan();
    this.draw();
  }

  actualPixels(x, y) { this.zoomTo(1, x, y); }
  zoomIn() { this.zoomTo(this.zoom * ZOOM_STEP); }
  zoomOut() { this.zoomTo(this.zoom / ZOOM_STEP); }

  pan(dx, dy) {
    this.offsetX += dx;
    this.offsetY += dy;
    this.mode = "free";
    this._clampPan();
    this.draw();
  }

  setSplit(fraction) {
    this.split = Math.min(1, Math.max(0, fraction));
    this.draw();
  }

  /** Keep at least a quarter of the view (or the whole image, if smaller) covered by the image. */
  _clampPan() {
    const w = this.imageWidth * this.scale, h = this.imageHeight * this.scale;
    const keepX = Math.min(w, this.width / 4), keepY = Math.min(h, this.height / 4);
    this.offsetX = Math.min(Math.max(this.offsetX, keepX - w), this.width - keepX);
    this.offsetY = Math.min(Math.max(this.offsetY, keepY - h), this.height - keepY);
  }

  draw() {
    const { ctx, dpr } = this;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    const splitX = Math.round(this.split * this.width);
    if (this.imageWidth) {
      const rect = [this.offsetX, this.offsetY, this.imageWidth * this.scale, this.imageHeight * this.scale];
      // Enlarged: show pixels as blocks; reduced: smooth, so that a scaled-down photograph does not alias.
      ctx.imageSmoothingEnabled = this.zoom < 1;
      ctx.imageSmoothingQuality = "high";
      if (this.right) {
        ctx.save();
        ctx.beginPath();
        ctx.rect(splitX, 0, this.width - splitX, this.height);
        ctx.clip();
        ctx.drawImage(this.right, ...rect);
        ctx.restore();
      }
      if (this.left) {
        ctx.save();
        ctx.beginPath();
        ctx.rect(0, 0, splitX, this.height);
        ctx.clip();
        ctx.drawImage(this.left, ...rect);
        ctx.restore();
      }
      ctx.fillStyle = "rgba(255, 255, 255, 0.9)";
      ctx.fillRect(splitX - 1, 0, 2, this.height);
    }
    this.divider.style.left = `${splitX}px`;
    const percent = Math.round(this.split * 100);
    this.divider.setAttribute("aria-valuenow", String(percent));
    this.divider.setAttribute("aria-valuetext", `${percent}% left image`);
    this.onChange(this);
  }

  _bind() {
    new ResizeObserver(() => this.resize()).observe(this.stage);

    // The divider: drag it with any pointer, or move it with the keyboard.
    this.divider.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      event.stopPropagation();
      this.divider.setPointerCapture(event.pointerId);
      this.divider.focus();
    });
    this.divider.addEventListener("pointermove", (event) => {
      if (!this.divider.hasPointerCapture(event.pointerId)) return;
      const rect = this.stage.getBoundingClientRect();
      this.setSplit((event.clientX - rect.left) / rect.width);
    });
    this.divider.addEventListener("keydown", (event) => {
      const step = event.shiftKey ? 0.1 : 0.01;
      const moves = { ArrowLeft: -step, ArrowDown: -step, ArrowRight: step, ArrowUp: step,
                      PageDown: -0.1, PageUp: 0.1 };
      if (event.key in moves) this.setSplit(this.split + moves[event.key]);
      else if (event.key === "Home") this.setSplit(0);
      else if (event.key === "End") this.setSplit(1);
      else return;
      event.preventDefault();
      event.stopPropagation();
    });

    // The image: drag to pan, wheel to zoom at the cursor, double click toggles fit and 1:1 there.
    let drag = null;
    this.canvas.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      drag = { x: event.clientX, y: event.clientY };
      this.canvas.setPointerCapture(event.pointerId);
      this.canvas.classList.add("panning");
    });
    this.canvas.addEventListener("pointermove", (event) => {
      if (!drag) return;
      this.pan(event.clientX - drag.x, event.clientY - drag.y);
      drag = { x: event.clientX, y: event.clientY };
    });
    const endDrag = () => { drag = null; this.canvas.classList.remove("panning"); };
    this.canvas.addEventListener("pointerup", endDrag);
    this.canvas.addEventListener("pointercancel", endDrag);
    this.canvas.addEventListener("wheel", (event) => {
      event.preventDefault();
      const rect = this.canvas.getBoundingClientRect();
      const factor = Math.exp(-event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.002));
      this.zoomTo(this.zoom * factor, event.clientX - rect.left, event.clientY - rect.top);
    }, { passive: false });
    this.canvas.addEventListener("dblclick", (event) => {
      const rect = this.canvas.getBoundingClientRect();
      if (Math.abs(this.zoom - 1) < 1e-6) this.fit();
      else this.actualPixels(event.clientX - rect.left, event.clientY - rect.top);
    });

    // Keyboard on the focused view: arrows pan, + and - zoom, 0 fits, 1 shows actual pixels.
    this.stage.addEventListener("keydown", (event) => {
      if (event.target !== this.stage || !this.imageWidth) return;
      const step = event.shiftKey ? 200 : 40;
      const pans = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
      if (event.key in pans) this.pan(...pans[event.key]);
      else if (event.key === "+" || event.key === "=") this.zoomIn();
      else if (event.key === "-") this.zoomOut();
      else if (event.key === "0") this.fit();
      else if (event.key === "1") this.actualPixels();
      else return;
      event.preventDefault();
    });
  }
}
