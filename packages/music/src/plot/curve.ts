// Line charts as SVG (training curves: loss or score over steps or epochs; an onset
// envelope over seconds): a title, both axes with labels and ticks at round numbers, one
// polyline with point markers per series (or markers alone), events as dashed vertical
// lines (beats), and a legend when there are two or more entries. The PNG comes from
// writeFigure (figure.ts), rendered by resvg, as for the heatmaps.
// Left out: log axes, error bands, more than the six series the palette tells apart.

import { placeTitle } from './title.ts';

export interface CurveSeries {
  name: string;
  /** [x, y] points in x order; non-finite y values (a diverged loss) are left out. */
  points: readonly (readonly [number, number])[];
  /** 'line' (default): a polyline with a marker per point; 'markers': the markers alone; 'line only': no markers (dense curves). */
  style?: 'line' | 'markers' | 'line only';
}

/** Events at x positions (beat times), drawn as dashed vertical lines across the plot. */
export interface CurveEvents {
  name: string;
  at: readonly number[];
}

export interface CurveOptions {
  title: string;
  x: { label: string; /** Whole-number ticks only (epochs, steps). */ integer?: boolean };
  y: { label: string };
  series: readonly CurveSeries[];
  events?: readonly CurveEvents[];
  /** The plot area in pixels (default 560 × 320). */
  size?: readonly [number, number];
}

const margin = { left: 80, right: 24, top: 40, bottom: 58 };
const font = 'DejaVu Sans, Arial, Helvetica, sans-serif';
// Tableau's first colours: distinct in print and for the common colour-vision deficiencies.
const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (value: number): string => (Math.round(value * 100) / 100).toString();

/** Ticks at 1, 2 or 5 × 10^k covering [low, high], about `count` of them, and the range they span. */
export function niceTicks(low: number, high: number, count = 5, integer = false): { ticks: number[]; low: number; high: number } {
  if (high === low) [low, high] = low === 0 ? [-1, 1] : [low - Math.abs(low) / 2, high + Math.abs(high) / 2];
  const raw = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.floor(low / step) * step;
  const last = Math.ceil(high / step) * step;
  const ticks: number[] = [];
  for (let k = 0; first + k * step <= last + step * 1e-9; k++) ticks.push(Number((first + k * step).toPrecision(12)));
  return { ticks, low: first, high: last };
}

const tickLabel = (value: number): string => (Math.abs(value) >= 1e5 || (value !== 0 && Math.abs(value) < 1e-3) ? value.toExponential(1) : String(Number(value.toPrecision(4))));

/** The SVG text of a line chart. */
export function curveSvg(options: CurveOptions): string {
  const series = options.series.map((s) => ({ ...s, points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)) }));
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) throw new Error(`curveSvg: '${options.title}' has no finite points in its ${series.length} series (${series.map((s) => s.name).join(', ')}).`);
  const events = options.events ?? [];
  if (series.length + events.length > palette.length) throw new Error(`curveSvg: '${options.title}' has ${series.length} series and ${events.length} kinds of events; at most ${palette.length} can be told apart.`);
  const [width, height] = options.size ?? [560, 320];
  const xs = niceTicks(Math.min(...all.map(([x]) => x)), Math.max(...all.map(([x]) => x)), 6, options.x.integer ?? false);
  const ys = niceTicks(Math.min(...all.map(([, y]) => y)), Math.max(...all.map(([, y]) => y)), 5);
  const x0 = margin.left;
  const y0 = margin.top;
  const xOf = (x: number): number => x0 + ((x - xs.low) / (xs.high - xs.low)) * width;
  const yOf = (y: number): number => y0 + height - ((y - ys.low) / (ys.high - ys.low)) * height;
  const { totalWidth, x: titleX } = placeTitle(options.title, margin.left, width, margin.left + width + margin.right);
  const totalHeight = margin.top + height + margin.bottom;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalWidth}" height="${totalHeight}" viewBox="0 0 ${totalWidth} ${totalHeight}" font-family="${font}" font-size="12">`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<title>${escapeXml(options.title)}</title>`,
    `<text class="title" x="${num(titleX)}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  parts.push('<g class="x-axis">');
  for (const tick of xs.ticks) {
    const x = num(xOf(tick));
    parts.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + height}" stroke="#e5e5e5"/><line x1="${x}" y1="${y0 + height}" x2="${x}" y2="${y0 + height + 5}" stroke="black"/><text x="${x}" y="${y0 + height + 18}" text-anchor="middle">${tickLabel(tick)}</text>`);
  }
  parts.push(`<text class="axis-label" x="${num(x0 + width / 2)}" y="${y0 + height + 42}" text-anchor="middle" font-size="13">${escapeXml(options.x.label)}</text></g>`);
  parts.push('<g class="y-axis">');
  for (const tick of ys.ticks) {
    const y = num(yOf(tick));
    parts.push(`<line x1="${x0}" y1="${y}" x2="${x0 + width}" y2="${y}" stroke="#e5e5e5"/><line x1="${x0 - 5}" y1="${y}" x2="${x0}" y2="${y}" stroke="black"/><text x="${x0 - 8}" y="${y}" text-anchor="end" dy="0.35em">${tickLabel(tick)}</text>`);
  }
  parts.push(`<text class="axis-label" transform="translate(18 ${num(y0 + height / 2)}) rotate(-90)" text-anchor="middle" font-size="13">${escapeXml(options.y.label)}</text></g>`);
  parts.push(`<rect x="${x0}" y="${y0}" width="${width}" height="${height}" fill="none" stroke="black"/>`);
  series.forEach((s, i) => {
    const colour = palette[i]!;
    const style = s.style ?? 'line';
    const points = s.points.map(([x, y]) => `${num(xOf(x))},${num(yOf(y))}`);
    parts.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
    if (style !== 'markers') parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${colour}" stroke-width="${style === 'line' ? 2 : 1.2}"/>`);
    if (style !== 'line only') {
      for (const point of points) {
        const [px, py] = point.split(',');
        parts.push(`<circle cx="${px}" cy="${py}" r="${style === 'markers' ? 4 : 3}" fill="${colour}"/>`);
      }
    }
    parts.push('</g>');
  });
  events.forEach((kind, k) => {
    const colour = palette[series.length + k]!;
    parts.push(`<g class="events" data-name="${escapeXml(kind.name)}">`);
    for (const at of kind.at) if (at >= xs.low && at <= xs.high) parts.push(`<line x1="${num(xOf(at))}" y1="${y0}" x2="${num(xOf(at))}" y2="${y0 + height}" stroke="${colour}" stroke-width="1.2" stroke-dasharray="4 3"/>`);
    parts.push('</g>');
  });
  const entries = [...series.map((s) => ({ name: s.name, dashed: false, dot: s.style === 'markers' })), ...events.map((kind) => ({ name: kind.name, dashed: true, dot: false }))];
  if (entries.length > 1) {
    // Top right inside the plot: training curves fall, so that corner is usually empty.
    const boxWidth = 24 + 7 * Math.max(...entries.map((entry) => entry.name.length)) + 12;
    const left = x0 + width - boxWidth - 8;
    parts.push(`<g class="legend"><rect x="${left}" y="${y0 + 8}" width="${boxWidth}" height="${8 + 18 * entries.length}" fill="white" fill-opacity="0.9" stroke="#999"/>`);
    entries.forEach((entry, i) => {
      const y = y0 + 22 + 18 * i;
      const symbol = entry.dot
        ? `<circle cx="${left + 15}" cy="${y}" r="4" fill="${palette[i]}"/>`
        : `<line x1="${left + 6}" y1="${y}" x2="${left + 24}" y2="${y}" stroke="${palette[i]}" stroke-width="2"${entry.dashed ? ' stroke-dasharray="4 3"' : ''}/>`;
      parts.push(`${symbol}<text x="${left + 30}" y="${y}" dy="0.35em">${escapeXml(entry.name)}</text>`);
    });
    parts.push('</g>');
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
