// The on-disk cache of synthesized clips: one mono float32 WAV per clip, named by the
// SHA-256 of everything that decides its samples (the plan, the sample rate, the renderer
// and its settings, and a version that changes whenever the synthesis code changes what
// it produces). Writes go through the audio area's writeWav (temporary file + rename), so
// several processes filling one cache never see a torn file; two that make the same clip
// at once write identical bytes, and the last rename wins.
// Left out: eviction and size limits (delete the folder to start over), locking.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWav, writeWav } from '../audio/index.ts';

/** Bump when a change to planning, rendering or post-processing changes any clip's samples. */
export const synthesisVersion = 1;

/** `.theorbo-cache/` at the repository root (git-ignored). */
export const defaultCacheDir = fileURLToPath(new URL('../../../../.theorbo-cache/', import.meta.url));

/** The cache file of a clip made from `parameters` (any JSON-serializable description). */
export function cachedClipPath(cacheDir: string, source: string, parameters: unknown): string {
  const key = createHash('sha256').update(JSON.stringify({ synthesisVersion, parameters })).digest('hex').slice(0, 32);
  return join(cacheDir, 'clips', source, key.slice(0, 2), `${key}.wav`);
}

/** The clip's samples if the cache holds them, else null. */
export function readCachedClip(path: string, sampleRate: number): Float32Array | null {
  if (!existsSync(path)) return null;
  const audio = readWav(path);
  if (audio.sampleRate !== sampleRate || audio.channels.length !== 1) {
    throw new Error(`data/cache: ${path} holds ${audio.channels.length} channel(s) at ${audio.sampleRate} Hz, not a mono clip at ${sampleRate} Hz; delete it (or the cache folder) and synthesize again.`);
  }
  return audio.channels[0] as Float32Array;
}

export function writeCachedClip(path: string, samples: Float32Array, sampleRate: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeWav(path, { sampleRate, channels: [samples] }, { sampleFormat: 'float', bitDepth: 32 });
}
