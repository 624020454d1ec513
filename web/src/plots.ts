// Canvas pictures for the app: the labelled chromagram (time axis in seconds, pitch-class
// axis, colour bar) with the chord timeline under it, a weights heatmap with a colour bar,
// and the training curves. Colours come from the music package's colormaps, so the page
// and `theorbo chroma`'s PNG agree. Left out: zooming and hover read-outs.
// Shapes: chroma [frames, 12] row-major; weights [rows, cols] row-major.

import { colormapColor, pitchClasses, type ColormapName, type Segment } from '@theorbo/music/browser';

const font = '11px system-ui, sans-serif';
const ink = '#222';

function context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('plots: this browser gives no 2-D canvas context');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = font;
  ctx.fillStyle = ink;
  ctx.strokeStyle = ink;
  return ctx;
}

/** Paints a [rows, cols] matrix into the rectangle, row 0 at the bottom, scaled to [low, high]. */
function paintMatrix(ctx: CanvasRenderingContext2D, data: ArrayLike<number>, rows: number, cols: number, box: Box, colormap: ColormapName, low: number, high: number, transpose: boolean): void {
  const image = ctx.createImageData(transpose ? rows : cols, transpose ? cols : rows);
  const width = image.width, height = image.height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Image row 0 is the top: the highest row (pitch class B, the last CQT bin).
      const r = transpose ? x : height - 1 - y, c = transpose ? height - 1 - y : x;
      const value = data[r * cols + c]!;
      const [red, green, blue] = colormapColor(colormap, high > low ? (value - low) / (high - low) : 0.5);
      const at = 4 * (y * width + x);
      image.data[at] = red; image.data[at + 1] = green; image.data[at + 2] = blue; image.data[at + 3] = 255;
    }
  }
  const scratch = document.createElement('canvas');
  scratch.width = width; scratch.height = height;
  scratch.getContext('2d')!.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, box.x, box.y, box.width, box.height);
}

interface Box { x: number; y: number; width: number; height: number }

function colourBar(ctx: CanvasRenderingContext2D, box: Box, colormap: ColormapName, low: number, high: number, title: string): void {
  for (let y = 0; y < box.height; y++) {
    const [r, g, b] = colormapColor(colormap, 1 - y / Math.max(1, box.height - 1));
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(box.x, box.y + y, box.width, 1);
  }
  ctx.fillStyle = ink;
  ctx.strokeRect(box.x, box.y, box.width, box.height);
  ctx.textAlign = 'left';
  ctx.fillText(high.toPrecision(2), box.x + box.width + 3, box.y + 8);
  ctx.fillText(low.toPrecision(2), box.x + box.width + 3, box.y + box.height);
  ctx.save();
  ctx.translate(box.x + box.width + 30, box.y + box.height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'center';
  ctx.fillText(title, 0, 0);
  ctx.restore();
}

/** Seconds between ticks: about one per 80 px. */
function tickStep(duration: number, pixels: number): number {
  const raw = duration / Math.max(1, pixels / 80);
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? raw;
}

/** A stable colour per chord label (hue by root, lighter for minor). */
export function chordColour(label: string): string {
  if (label === 'N' || label === 'X') return '#ccc';
  const root = pitchClasses.indexOf(label.split(':')[0] as (typeof pitchClasses)[number]);
  const minor = label.includes(':min');
  return `hsl(${(root * 30) % 360} 60% ${minor ? 72 : 52}%)`;
}

/**
 * The chromagram (frames × 12) over `duration` seconds with pitch classes up the side, a
 * colour bar, and the chord segments as a timeline strip under the time axis.
 */
export function drawChromagram(canvas: HTMLCanvasElement, chroma: ArrayLike<number>, frames: number, duration: number, segments: readonly Segment[]): void {
  const ctx = context(canvas);
  const plot: Box = { x: 50, y: 8, width: canvas.width - 50 - 70, height: canvas.height - 8 - 70 };
  let low = Infinity, high = -Infinity;
  for (let i = 0; i < frames * 12; i++) { low = Math.min(low, chroma[i]!); high = Math.max(high, chroma[i]!); }
  if (frames > 0) paintMatrix(ctx, chroma, frames, 12, plot, 'viridis', low, high, true);
  ctx.strokeRect(plot.x, plot.y, plot.width, plot.height);
  ctx.textAlign = 'right';
  pitchClasses.forEach((name, k) => ctx.fillText(name, plot.x - 4, plot.y + plot.height - (k + 0.5) * plot.height / 12 + 4));
  const step = tickStep(duration, plot.width);
  ctx.textAlign = 'center';
  for (let t = 0; t <= duration + 1e-9; t += step) {
    const x = plot.x + (t / duration) * plot.width;
    ctx.fillRect(x, plot.y + plot.height, 1, 4);
    ctx.fillText(`${Number(t.toFixed(3))}`, x, plot.y + plot.height + 15);
  }
  ctx.fillText('time (s)', plot.x + plot.width / 2, plot.y + plot.height + 28);
  colourBar(ctx, { x: plot.x + plot.width + 10, y: plot.y, width: 12, height: plot.height }, 'viridis', low, high, 'chroma energy');
  // The chord timeline, on the chromagram's time axis.
  const strip: Box = { x: plot.x, y: plot.y + plot.height + 34, width: plot.width, height: 26 };
  ctx.textAlign = 'left';
  for (const segment of segments) {
    const x0 = strip.x + (segment.start / duration) * strip.width, x1 = strip.x + (segment.end / duration) * strip.width;
    ctx.fillStyle = chordColour(segment.label);
    ctx.fillRect(x0, strip.y, Math.max(1, x1 - x0), strip.height);
    ctx.fillStyle = ink;
    if (x1 - x0 > ctx.measureText(segment.label).width + 4) ctx.fillText(segment.label, x0 + 3, strip.y + 17);
  }
  ctx.strokeRect(strip.x, strip.y, strip.width, strip.height);
  ctx.textAlign = 'right';
  ctx.fillText('chords', strip.x - 4, strip.y + 17);
}

/** A [rows, cols] weights matrix (e.g. 84 CQT bins × 12 pitch classes), symmetric diverging colours, with a colour bar. */
export function drawWeights(canvas: HTMLCanvasElement, weights: ArrayLike<number>, rows: number, cols: number, title: string, rowName = 'bin'): void {
  const ctx = context(canvas);
  const plot: Box = { x: 44, y: 18, width: canvas.width - 44 - 70, height: canvas.height - 18 - 30 };
  let extent = 0;
  for (let i = 0; i < rows * cols; i++) extent = Math.max(extent, Math.abs(weights[i]!));
  paintMatrix(ctx, weights, rows, cols, plot, 'diverging', -extent, extent, false);
  ctx.strokeRect(plot.x, plot.y, plot.width, plot.height);
  ctx.textAlign = 'left';
  ctx.fillText(title, plot.x, 12);
  ctx.textAlign = 'center';
  pitchClasses.slice(0, cols).forEach((name, k) => ctx.fillText(name, plot.x + (k + 0.5) * plot.width / cols, plot.y + plot.height + 14));
  ctx.fillText('pitch class', plot.x + plot.width / 2, plot.y + plot.height + 27);
  ctx.textAlign = 'right';
  for (let r = 0; r < rows; r += 12) ctx.fillText(`${rowName} ${r}`, plot.x - 3, plot.y + plot.height - (r / rows) * plot.height);
  colourBar(ctx, { x: plot.x + plot.width + 10, y: plot.y, width: 12, height: plot.height }, 'diverging', -extent, extent, 'weight');
}

/** Loss per step (left axis) and validation accuracy per epoch (right axis, 0–1). */
export function drawCurves(canvas: HTMLCanvasElement, losses: readonly number[], accuracies: readonly { step: number; value: number }[]): void {
  const ctx = context(canvas);
  const plot: Box = { x: 44, y: 10, width: canvas.width - 44 - 44, height: canvas.height - 10 - 30 };
  ctx.strokeRect(plot.x, plot.y, plot.width, plot.height);
  const steps = Math.max(2, losses.length);
  const high = Math.max(1e-9, ...losses), low = Math.min(high, ...losses, 0);
  const xOf = (step: number) => plot.x + (step / (steps - 1)) * plot.width;
  ctx.strokeStyle = '#c33';
  ctx.beginPath();
  losses.forEach((loss, step) => { const y = plot.y + plot.height * (1 - (loss - low) / (high - low)); step === 0 ? ctx.moveTo(xOf(step), y) : ctx.lineTo(xOf(step), y); });
  ctx.stroke();
  ctx.fillStyle = '#36c';
  for (const { step, value } of accuracies) ctx.fillRect(xOf(step) - 2, plot.y + plot.height * (1 - value) - 2, 5, 5);
  ctx.fillStyle = ink;
  ctx.textAlign = 'right';
  ctx.fillText(high.toPrecision(3), plot.x - 3, plot.y + 9);
  ctx.fillText(low.toPrecision(3), plot.x - 3, plot.y + plot.height);
  ctx.textAlign = 'left';
  ctx.fillText('100%', plot.x + plot.width + 3, plot.y + 9);
  ctx.fillText('0%', plot.x + plot.width + 3, plot.y + plot.height);
  ctx.textAlign = 'center';
  ctx.fillText(`step (${losses.length})   — loss (red), validation frame accuracy (blue)`, plot.x + plot.width / 2, plot.y + plot.height + 18);
}
