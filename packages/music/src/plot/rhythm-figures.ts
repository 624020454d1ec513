// The rhythm commands' figures: the onset strength envelope over seconds with the onsets
// picked from it (markers) and the beats tracked on it (dashed lines), and a mel
// spectrogram in decibels over seconds and Hz (viridis, colour bar in dB). SVG text; the
// caller writes it with writeFigure, which adds the PNG.
// Left out: the tempogram (its BPM axis is not linear in lag; the tempo is in the title).
//
// Shapes: envelope [frames]; mel [frames, nMels] (power, or decibels with `db`).

import type * as T from '@theorbo/graph';
import { melDefaults, melFrequencies } from '../signal/index.ts';
import { curveSvg } from './curve.ts';
import { heatmapSvg, timeTicks, type Tick } from './figure.ts';

export interface FigureTiming {
  sampleRate: number;
  hop: number;
}

/** The onset envelope with onsets (seconds, at their frame's envelope value) and beats (seconds), and a reference's beats where known. */
export function onsetFigureSvg(envelope: ArrayLike<number>, timing: FigureTiming, options: { title: string; onsets?: ArrayLike<number>; beats?: ArrayLike<number>; referenceBeats?: ArrayLike<number> }): string {
  const secondsPerFrame = timing.hop / timing.sampleRate;
  const valueAt = (seconds: number): number => envelope[Math.min(envelope.length - 1, Math.max(0, Math.round(seconds / secondsPerFrame)))] ?? 0;
  return curveSvg({
    title: options.title,
    x: { label: 'time (s)' },
    y: { label: 'onset strength' },
    series: [
      { name: 'onset strength', points: Array.from(envelope, (value, f) => [f * secondsPerFrame, value] as const), style: 'line only' },
      ...(options.onsets ? [{ name: 'onsets', points: Array.from(options.onsets, (time) => [time, valueAt(time)] as const), style: 'markers' as const }] : []),
    ],
    events: [
      ...(options.beats ? [{ name: 'beats', at: Array.from(options.beats) }] : []),
      ...(options.referenceBeats ? [{ name: 'reference beats', at: Array.from(options.referenceBeats) }] : []),
    ],
    size: [720, 300],
  });
}

/** A mel spectrogram [frames, nMels] over seconds and the bands' centre frequencies. */
export function melFigureSvg(mel: T.NDArray, timing: FigureTiming, options: { title: string; db: boolean; fmin?: number; fmax?: number }): string {
  const [frames, bands] = mel.shape as [number, number];
  // Power is shown in decibels (librosa's power_to_db: ref 1, floor 1e-10, top 80 dB).
  const values = options.db ? Array.from(mel.data, Number) : Array.from(mel.data, (p) => 10 * Math.log10(Math.max(Number(p), 1e-10)));
  const top = Math.max(...values);
  const rows = Array.from({ length: bands }, (_, m) => Array.from({ length: frames }, (_, f) => Math.max(values[f * bands + m]!, options.db ? -Infinity : top - 80)));
  const centres = melFrequencies(bands + 2, { fmin: options.fmin ?? melDefaults.fmin, fmax: options.fmax ?? timing.sampleRate / 2 }).slice(1, -1);
  const yTicks: Tick[] = [];
  for (const hz of [100, 200, 500, 1000, 2000, 5000, 10000]) {
    const band = centres.findIndex((centre) => centre >= hz);
    if (band > 0) yTicks.push({ at: band - 1 + (hz - centres[band - 1]!) / (centres[band]! - centres[band - 1]!), label: hz >= 1000 ? `${hz / 1000}k` : String(hz) });
  }
  return heatmapSvg(rows, {
    title: options.title,
    x: { label: 'time (s)', ticks: timeTicks(frames, timing.hop / timing.sampleRate) },
    y: { label: 'frequency (Hz, mel scale)', ticks: yTicks },
    colorbar: 'power (dB)',
    size: [720, 300],
  });
}
