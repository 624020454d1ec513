// `theorbo synth --out DIR`: the synthesized clips as files other tools open, one
// `<clip id>.wav` (the encoding the user chose with --wav-format: 16- or 24-bit PCM, or
// 32-bit float, plain WAV headers) and one `<clip id>.lab` (its chord segments, Harte
// labels) per clip. Left out: the clips' plans and instruments (the summary prints them).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { wavFormats, writeWav, type WavFormatName } from '../audio/index.ts';
import { writeLab } from '../chords/index.ts';
import type { DatasetClip } from '../data/index.ts';

/** Writes each clip's audio and labels into `dir`; returns how many clips were written. */
export function exportClips(dir: string, clips: readonly DatasetClip[], format: WavFormatName): number {
  mkdirSync(dir, { recursive: true });
  for (const clip of clips) {
    writeWav(join(dir, `${clip.id}.wav`), { sampleRate: clip.sampleRate, channels: [clip.audio] }, wavFormats[format]);
    writeLab(join(dir, `${clip.id}.lab`), clip.segments.map(({ start, end, label }) => ({ start, end, label })));
  }
  return clips.length;
}
