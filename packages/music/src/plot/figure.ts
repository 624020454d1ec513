// Figures as SVG: a heatmap with a title, labelled axes whose ticks are in the domain's
// units (seconds, note names, pitch classes, chord labels: the caller gives them), and a
// colour bar with its scale; a diverging map for signed values (range 'symmetric'), a
// sequential one (viridis) for magnitudes. The cells are one embedded PNG scaled with
// nearest-neighbour sampling, so a 1025 × 256 weight matrix stays a small file. The PNG
// beside each SVG is rendered from it by resvg (@resvg/resvg-js) with the system's fonts,
// so the picture and its text come from one source.
// Left out: log colour scales (line charts with legends are curve.ts's).

import { Resvg } from '@resvg/resvg-js';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { colormapColor, type ColormapName } from './colormap.ts';
import { encodeHeatmapPng, matrixRows, valueRange, type HeatmapMatrix } from './heatmap.ts';
import { placeTitle } from './title.ts';

/** A tick at a cell's centre (`at` is a row or column index, fractional allowed) with its label. */
export interface Tick { at: number; label: string }
export interface Axis { label: string; ticks: readonly Tick[] }

export interface FigureOptions {
  title: string;
  /** Columns of the matrix, left to right. */
  x: Axis;
  /** Rows of the matrix; row 0 at the bottom unless origin is 'upper'. */
  y: Axis;
  /** What the colours measure, with its unit (e.g. 'weight', 'chroma (max-normalized)'). */
  colorbar: string;
  range?: 'auto' | 'symmetric' | readonly [number, number];
  colormap?: ColormapName;
  origin?: 'upper' | 'lower';
  /** The plot area in pixels (default 640 × 360). */
  size?: readonly [number, number];
}

const margin = { left: 100, right: 120, top: 40, bottom: 58 };
const font = 'DejaVu Sans, Arial, Helvetica, sans-serif';

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (value: number): string => (Math.round(value * 100) / 100).toString();

/** The SVG text of a heatmap figure. */
export function heatmapSvg(matrix: HeatmapMatrix, options: FigureOptions): string {
  const rows = matrixRows(matrix, 'heatmapSvg');
  const rowCount = rows.length;
  const columnCount = rows[0]?.length ?? 0;
  if (rowCount === 0 || columnCount === 0) throw new Error(`heatmapSvg: the matrix of '${options.title}' is empty (${rowCount} × ${columnCount}).`);
  const range = options.range ?? 'auto';
  const [low, high] = valueRange(rows, range, 'heatmapSvg');
  const colormap = options.colormap ?? (range === 'symmetric' ? 'diverging' : 'viridis');
  const [width, height] = options.size ?? [640, 360];
  const lower = (options.origin ?? 'lower') === 'lower';
  const cells = encodeHeatmapPng(rows, { range: [low, high], colormap, cellSize: 1, origin: lower ? 'lower' : 'upper' });
  const x0 = margin.left;
  const y0 = margin.top;
  const xOf = (at: number): number => x0 + ((at + 0.5) / columnCount) * width;
  const yOf = (at: number): number => (lower ? y0 + height - ((at + 0.5) / rowCount) * height : y0 + ((at + 0.5) / rowCount) * height);
  const parts: string[] = [];
  // x tick labels closer than their width (chord labels under a confusion matrix) are
  // turned 45° so that they do not run into each other; the bottom margin grows to fit.
  const labelWidth = (text: string): number => 7 * text.length;
  const xTicks = [...options.x.ticks].sort((a, b) => a.at - b.at);
  const rotate = xTicks.some((tick, i) => i > 0 && xOf(tick.at) - xOf(xTicks[i - 1]!.at) < (labelWidth(tick.label) + labelWidth(xTicks[i - 1]!.label)) / 2 + 6);
  const drop = rotate ? Math.ceil(Math.max(0, ...xTicks.map((tick) => labelWidth(tick.label))) * Math.SQRT1_2) : 0;
  const { totalWidth, x: titleX } = placeTitle(options.title, margin.left, width, margin.left + width + margin.right);
  const totalHeight = margin.top + height + margin.bottom + drop;
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${totalWidth}" height="${totalHeight}" viewBox="0 0 ${totalWidth} ${totalHeight}" font-family="${font}" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<title>${escapeXml(options.title)}</title>`);
  parts.push(`<text class="title" x="${num(titleX)}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`);
  parts.push(`<image x="${x0}" y="${y0}" width="${width}" height="${height}" preserveAspectRatio="none" image-rendering="optimizeSpeed" xlink:href="data:image/png;base64,${cells.toString('base64')}"/>`);
  parts.push(`<rect x="${x0}" y="${y0}" width="${width}" height="${height}" fill="none" stroke="black"/>`);
  // x axis: ticks below the plot, its label under them.
  parts.push('<g class="x-axis">');
  for (const tick of options.x.ticks) {
    const x = num(xOf(tick.at));
    const label = rotate
      ? `<text x="${x}" y="${y0 + height + 14}" text-anchor="end" transform="rotate(-45 ${x} ${y0 + height + 14})">${escapeXml(tick.label)}</text>`
      : `<text x="${x}" y="${y0 + height + 18}" text-anchor="middle">${escapeXml(tick.label)}</text>`;
    parts.push(`<line x1="${x}" y1="${y0 + height}" x2="${x}" y2="${y0 + height + 5}" stroke="black"/>${label}`);
  }
  parts.push(`<text class="axis-label" x="${num(x0 + width / 2)}" y="${y0 + height + 42 + drop}" text-anchor="middle" font-size="13">${escapeXml(options.x.label)}</text></g>`);
  parts.push('<g class="y-axis">');
  for (const tick of options.y.ticks) {
    const y = num(yOf(tick.at));
    parts.push(`<line x1="${x0 - 5}" y1="${y}" x2="${x0}" y2="${y}" stroke="black"/><text x="${x0 - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" dy="0.35em">${escapeXml(tick.label)}</text>`);
  }
  parts.push(`<text class="axis-label" transform="translate(16 ${num(y0 + height / 2)}) rotate(-90)" text-anchor="middle" font-size="13">${escapeXml(options.y.label)}</text></g>`);
  parts.push(colorbar(x0 + width + 18, y0, height, low, high, colormap, options.colorbar));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** A vertical colour bar (bottom: low) with five labelled values and its caption. */
function colorbar(x: number, y: number, height: number, low: number, high: number, colormap: ColormapName, caption: string): string {
  const steps = 64;
  const parts = ['<g class="colorbar">'];
  for (let s = 0; s < steps; s++) {
    const [r, g, b] = colormapColor(colormap, (s + 0.5) / steps);
    parts.push(`<rect x="${x}" y="${num(y + height - ((s + 1) * height) / steps)}" width="14" height="${num(height / steps + 0.5)}" fill="rgb(${r},${g},${b})"/>`);
  }
  parts.push(`<rect x="${x}" y="${y}" width="14" height="${height}" fill="none" stroke="black"/>`);
  for (let k = 0; k <= 4; k++) {
    const value = low + ((high - low) * k) / 4;
    const ty = num(y + height - (height * k) / 4);
    parts.push(`<line x1="${x + 14}" y1="${ty}" x2="${x + 18}" y2="${ty}" stroke="black"/><text x="${x + 21}" y="${ty}" dy="0.35em">${escapeXml(formatValue(value, high - low))}</text>`);
  }
  parts.push(`<text class="colorbar-label" transform="translate(${x + 82} ${num(y + height / 2)}) rotate(90)" text-anchor="middle">${escapeXml(caption)}</text></g>`);
  return parts.join('\n');
}

function formatValue(value: number, span: number): string {
  if (span === 0 || Math.abs(value) < span * 1e-9) return '0';
  const digits = Math.max(0, Math.min(6, 2 - Math.floor(Math.log10(span))));
  return Math.abs(value) >= 1e4 || Math.abs(value) < 1e-3 ? value.toExponential(1) : value.toFixed(digits);
}

/** The PNG bytes of an SVG, rendered by resvg with the system's fonts. */
export function renderSvgToPng(svg: string): Buffer {
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, background: 'white' }).render().asPng();
}

/** Writes `<prefix>.svg` and the PNG rendered from it, `<prefix>.png`, atomically; returns both paths. */
export function writeFigure(prefix: string, svg: string): { svg: string; png: string } {
  const paths = { svg: `${prefix}.svg`, png: `${prefix}.png` };
  writeFileAtomic(paths.svg, svg, { operation: 'writeFigure' });
  writeFileAtomic(paths.png, renderSvgToPng(svg), { operation: 'writeFigure' });
  return paths;
}

// ---- ticks in the domain's units ----------------------------------------------------

const noteNames = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];

/** Scientific pitch notation of a MIDI note (60 → C4), rounded to the nearest semitone. */
export function noteName(midi: number): string {
  const rounded = Math.round(midi);
  return `${noteNames[((rounded % 12) + 12) % 12]}${Math.floor(rounded / 12) - 1}`;
}

/** The note nearest a frequency in Hz (A4 = 440 Hz). */
export const noteOfFrequency = (hz: number): string => noteName(69 + 12 * Math.log2(hz / 440));

/** One tick per pitch class, C … B. */
export const pitchClassTicks = (): Tick[] => noteNames.map((label, at) => ({ at, label }));

/** Ticks at every C of a CQT's bins (`fminMidi`: the first bin's note). */
export function cqtTicks(bins: number, binsPerOctave: number, fminMidi: number): Tick[] {
  const ticks: Tick[] = [];
  const perSemitone = binsPerOctave / 12;
  for (let midi = Math.ceil(fminMidi / 12) * 12; (midi - fminMidi) * perSemitone < bins; midi += 12) ticks.push({ at: (midi - fminMidi) * perSemitone, label: noteName(midi) });
  return ticks;
}

/** About `count` ticks at round numbers of seconds over `frames` frames of `secondsPerFrame`. */
export function timeTicks(frames: number, secondsPerFrame: number, count = 6): Tick[] {
  const duration = frames * secondsPerFrame;
  const raw = duration / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: Tick[] = [];
  for (let t = 0; t <= duration + 1e-9; t += step) ticks.push({ at: t / secondsPerFrame - 0.5, label: `${Number(t.toFixed(3))}` });
  return ticks;
}

/** Every `every`-th index labelled with `labels` (chord names, class names). */
export const labelTicks = (labels: readonly string[], every = 1): Tick[] =>
  labels.flatMap((label, at) => (at % every === 0 ? [{ at, label }] : []));
