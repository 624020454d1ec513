// The cases of the file fuzz (files-fuzz.test.ts): valid audio files and model folders,
// mutated in memory from a seed and a case number, and the check each one must pass —
// a typed refusal (FileFormatError naming the file) or a result that is valid and holds
// no NaN. Both are pure functions of (seed, index), so a failing case is reproduced by
// its two numbers alone. Runs inside a worker (files-fuzz-worker.ts) so that a hang is
// caught by the main thread's deadline.
// Mutations: bit flips, interesting bytes and 16/32-bit fields (biased to the headers),
// truncation, insertion, deletion, duplicated slices, NaN/∞/huge floats written into
// sample or weight data; for config.json, JSON-aware edits of a random field (delete,
// replace by an interesting value, add an unknown key, another kind) and raw text edits.

import { encodeWav, decodeAudio, resample, toMono, sampleRateLimits, maxSampleMagnitude, type Audio } from '../src/audio/index.ts';
import { FileFormatError } from '../src/files/file-format-error.ts';
import { SeededRandom, deriveSeed } from '../src/random/seeded-random.ts';
import { assignSavedWeights, decodeModel, encodeNpz, type NamedArrays } from '../src/train/index.ts';
import { buildModel, type ModelConfig } from '../src/model/registry.ts';
import { checkModelConfig } from '../src/model/config-schema.ts';
import { flacStereo8k, mp3Mono8k, mp3Stereo8k, oggMono8k } from './audio-fixtures.ts';

export type Outcome = { kind: 'accepted' | 'refused' } | { kind: 'crash'; detail: string };

// ---- mutations -----------------------------------------------------------------------

const interestingBytes = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
const interestingWords = [0, 1, 2, 3, 7, 8, 15, 16, 24, 32, 64, 999, 1000, 0x7fff, 0x8000, 0xffff, 0x10000, 768_000, 768_001, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const specialFloats = [Number.NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e30, 1.5e6, -0];

/** One random mutation of `bytes` (a new array); `headerBytes` is where the interesting fields are. */
function mutateOnce(bytes: Uint8Array, random: SeededRandom, headerBytes: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  const position = (): number => (random.chance(0.5) ? random.integer(0, Math.max(0, Math.min(headerBytes, out.length) - 1)) : random.integer(0, Math.max(0, out.length - 1)));
  const view = new DataView(out.buffer);
  switch (random.integer(0, 8)) {
    case 0: { // bit flips
      for (let n = random.integer(1, 8); n > 0 && out.length > 0; n--) out[position()]! ^= 1 << random.integer(0, 7);
      return out;
    }
    case 1: { // interesting bytes
      for (let n = random.integer(1, 4); n > 0 && out.length > 0; n--) out[position()] = random.choice(interestingBytes);
      return out;
    }
    case 2: { // an interesting 16- or 32-bit little-endian field
      const wide = random.chance(0.6);
      const at = position();
      const value = random.choice(interestingWords);
      if (wide && at + 4 <= out.length) view.setUint32(at, value >>> 0, true);
      else if (at + 2 <= out.length) view.setUint16(at, value & 0xffff, true);
      return out;
    }
    case 3: return out.slice(0, random.integer(0, out.length)); // truncation
    case 4: { // random bytes inserted
      const at = random.integer(0, out.length);
      const inserted = Uint8Array.from({ length: random.integer(1, 16) }, () => random.integer(0, 255));
      return concat(out.subarray(0, at), inserted, out.subarray(at));
    }
    case 5: { // a slice deleted
      const at = random.integer(0, out.length);
      return concat(out.subarray(0, at), out.subarray(Math.min(out.length, at + random.integer(1, 64))));
    }
    case 6: { // a slice duplicated (chunks and members repeated)
      const from = random.integer(0, out.length);
      const to = Math.min(out.length, from + random.integer(1, 128));
      const at = random.integer(0, out.length);
      return concat(out.subarray(0, at), out.subarray(from, to), out.subarray(at));
    }
    case 7: { // a special float written at an aligned position past the header
      const at = headerBytes + 4 * random.integer(0, Math.max(0, (out.length - headerBytes) / 4 - 2));
      if (at + 8 <= out.length) {
        if (random.chance(0.5)) view.setFloat32(at, random.choice(specialFloats), true);
        else view.setFloat64(at, random.choice(specialFloats), true);
      }
      return out;
    }
    default: { // a 32-bit field anywhere set to the file's own length ± 1, the classic size lie
      const at = position();
      if (at + 4 <= out.length) view.setUint32(at, out.length + random.integer(-9, 9), true);
      return out;
    }
  }
}

function mutate(bytes: Uint8Array, random: SeededRandom, headerBytes: number): Uint8Array {
  let out = bytes;
  for (let n = random.chance(0.7) ? 1 : random.integer(2, 4); n > 0; n--) out = mutateOnce(out, random, headerBytes);
  return out;
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
};

// ---- audio ---------------------------------------------------------------------------

const tone = (channels: number, frames: number, sampleRate: number): Audio => ({
  sampleRate,
  channels: Array.from({ length: channels }, (_, c) => Float32Array.from({ length: frames }, (_, i) => 0.5 * Math.sin(i * (0.05 + 0.02 * c)))),
});

/** A RIFF file from chunks, for layouts our writer never makes (odd chunks, LIST before fmt). */
function riff(chunks: [string, Uint8Array][]): Uint8Array {
  const parts = chunks.flatMap(([id, body]) => {
    const header = Buffer.alloc(8);
    header.write(id, 0, 'latin1');
    header.writeUInt32LE(body.length, 4);
    return [header, body, ...(body.length % 2 ? [new Uint8Array(1)] : [])];
  });
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(4 + parts.reduce((sum, part) => sum + part.length, 0), 4);
  head.write('WAVE', 8, 'latin1');
  return concat(head, ...parts);
}

function audioCorpus(): { name: string; bytes: Uint8Array; headerBytes: number }[] {
  const wav = (name: string, audio: Audio, options: Parameters<typeof encodeWav>[1]): { name: string; bytes: Uint8Array; headerBytes: number } =>
    ({ name, bytes: encodeWav(audio, options), headerBytes: 80 });
  const plain = encodeWav(tone(1, 300, 8000));
  const withList = riff([['LIST', Buffer.from('INFOISFT\x05\x00\x00\x00fuzz\x00')], ['fmt ', plain.subarray(20, 36)], ['junk', new Uint8Array(3)], ['data', plain.subarray(44)]]);
  return [
    wav('pcm16-mono-8k.wav', tone(1, 400, 8000), {}),
    wav('pcm16-stereo-44k.wav', tone(2, 500, 44100), {}),
    wav('pcm8-mono-22k.wav', tone(1, 300, 22050), { bitDepth: 8 }),
    wav('pcm24-stereo-48k.wav', tone(2, 300, 48000), { bitDepth: 24 }),
    wav('pcm32-mono-96k.wav', tone(1, 300, 96000), { bitDepth: 32 }),
    wav('float32-stereo-22k.wav', tone(2, 400, 22050), { sampleFormat: 'float' }),
    wav('float64-mono-16k.wav', tone(1, 300, 16000), { sampleFormat: 'float', bitDepth: 64 }),
    wav('float32-3ch-ext.wav', tone(3, 200, 32000), { sampleFormat: 'float', extensible: true }),
    { name: 'list-junk.wav', bytes: withList, headerBytes: 80 },
    { name: 'stereo.flac', bytes: flacStereo8k, headerBytes: 64 },
    { name: 'mono.ogg', bytes: oggMono8k, headerBytes: 64 },
    { name: 'mono.mp3', bytes: mp3Mono8k, headerBytes: 16 },
    { name: 'stereo.mp3', bytes: mp3Stereo8k, headerBytes: 16 },
  ];
}

let audioFiles: ReturnType<typeof audioCorpus> | undefined;

/** Case `index` of the audio fuzz: mostly WAV (the parser we own), a fifth compressed. */
export function audioCase(seed: number, index: number): { name: string; bytes: Uint8Array } {
  audioFiles ??= audioCorpus();
  const random = new SeededRandom(deriveSeed('audio', seed, index));
  const wavCount = audioFiles.filter((file) => file.name.endsWith('.wav')).length;
  const base = random.chance(0.8) ? audioFiles[random.integer(0, wavCount - 1)]! : audioFiles[random.integer(wavCount, audioFiles.length - 1)]!;
  return { name: `case-${index}-${base.name}`, bytes: mutate(base.bytes, random, base.headerBytes) };
}

/** Reads the bytes as loadMono would and checks the outcome. */
export async function checkAudioCase(name: string, bytes: Uint8Array): Promise<Outcome> {
  let audio: Audio;
  try {
    audio = await decodeAudio(bytes, name);
  } catch (error) {
    return refusal(error, name);
  }
  const problems: string[] = [];
  if (!(Number.isInteger(audio.sampleRate) && audio.sampleRate >= sampleRateLimits.min && audio.sampleRate <= sampleRateLimits.max)) problems.push(`sample rate ${audio.sampleRate}`);
  if (audio.channels.length === 0 || audio.channels.some((channel) => channel.length !== audio.channels[0]!.length)) problems.push('channels of unequal length');
  audio.channels.forEach((channel, c) => {
    const bad = channel.findIndex((value) => !(Math.abs(value) <= maxSampleMagnitude));
    if (bad >= 0) problems.push(`channel ${c} holds ${channel[bad]} at frame ${bad}`);
  });
  if (problems.length === 0) {
    const mono = resample(toMono(audio), audio.sampleRate, 22050);
    const expected = Math.ceil((audio.channels[0]!.length * 22050) / audio.sampleRate);
    if (mono.length !== expected) problems.push(`resampled to ${mono.length} samples, not ${expected}`);
    const bad = mono.findIndex((value) => !Number.isFinite(value));
    if (bad >= 0) problems.push(`resampled signal holds ${mono[bad]} at ${bad}`);
  }
  return problems.length === 0 ? { kind: 'accepted' } : { kind: 'crash', detail: `accepted a bad result: ${problems.join('; ')}` };
}

function refusal(error: unknown, name: string): Outcome {
  if (error instanceof FileFormatError && error.message.includes(name) && !/undefined|\[object /.test(error.message)) return { kind: 'refused' };
  const text = error instanceof Error ? `${error.name}: ${error.message}\n${(error.stack ?? '').split('\n').slice(1, 6).join('\n')}` : String(error);
  return { kind: 'crash', detail: error instanceof FileFormatError ? `unclear FileFormatError: ${text}` : text };
}

// ---- model folders -------------------------------------------------------------------

const feature = { sampleRate: 8000, hop: 256, nFft: 512, fmin: 110, nBins: 24, binsPerOctave: 12, dftGain: 1, cqtGain: 100 };
const configs: ModelConfig[] = [
  { kind: 'hand-chroma', feature, gain: 0.6 },
  { kind: 'learned-chroma', feature, gain: 1, loss: 'distance' },
  { kind: 'learned-chroma', feature, init: 'random', seed: 3, loss: 'softmax-distance' },
  { kind: 'network', feature, hidden: [16, 8], seed: 1, dropout: 0.1 },
  { kind: 'cnn', feature, seed: 2, dropout: 0.2, cnn: { radius: 1, convolutions: [{ filters: 2, kernel: [3, 3], pool: [1, 2] }], hidden: [8] } },
  { kind: 'crnn', feature, seed: 4, crnn: { cnn: { radius: 1, convolutions: [{ filters: 2, kernel: [3, 3] }], hidden: [6] }, gru: 4, bidirectional: true, chunk: 8, hop: 8 } },
  { kind: 'fir', feature: { ...feature, fmin: 440, nBins: 12, nFft: 256 }, gain: 1, trainChroma: false },
];

interface ModelFiles { kind: string; config: Uint8Array; weights: Uint8Array; configText: string }

function modelCorpus(): ModelFiles[] {
  return configs.flatMap((config) => {
    const model = buildModel(config);
    const weights: NamedArrays = {};
    for (const param of model.params) weights[param.name!] = param.get();
    const params = model.params.map((param) => ({ name: param.name!, dtype: param.dtype, shape: [...(param.shape as number[])] }));
    const configText = `${JSON.stringify({ format: 'theorbo-model', version: 1, params, config }, null, 2)}\n`;
    const config8 = new TextEncoder().encode(configText);
    // Stored as saveModel writes them, and deflated as numpy.savez_compressed would.
    return [false, true].map((compress) => ({ kind: config.kind, config: config8, configText, weights: encodeNpz(weights, { compress }) }));
  });
}

let modelFiles: ModelFiles[] | undefined;

const interestingValues: unknown[] = [0, -1, 1, 2, 0.5, 1e9, 2 ** 31, 2 ** 53, -1e308, 1e308, null, true, '', 'x', '12', [], {}, [1, 2], [0], 'cnn', 'crnn', 'network', 'fir'];

/** A JSON-aware edit of config.json's text: one field deleted, replaced or added. */
function mutateJson(text: string, random: SeededRandom): string {
  const root = JSON.parse(text) as Record<string, unknown>;
  const slots: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach((item, i) => { slots.push([node, i]); walk(item); });
    else if (typeof node === 'object' && node !== null) for (const key of Object.keys(node)) { slots.push([node as Record<string, unknown>, key]); walk((node as Record<string, unknown>)[key]); }
  };
  walk(root);
  const [holder, key] = random.choice(slots);
  const old = (holder as Record<string | number, unknown>)[key];
  const roll = random.integer(0, 5);
  if (roll === 0 && !Array.isArray(holder)) delete (holder as Record<string, unknown>)[key as string];
  else if (roll === 1 && typeof old === 'number') (holder as Record<string | number, unknown>)[key] = random.choice([old + 1, old - 1, old * 2, -old, old / 3, old * 1000]);
  else if (roll === 2 && !Array.isArray(holder)) (holder as Record<string, unknown>)[random.choice(['extra', '__proto__', 'kind', 'hiden', 'constructor'])] = random.choice(interestingValues);
  else (holder as Record<string | number, unknown>)[key] = random.choice(interestingValues);
  return JSON.stringify(root);
}

/** Case `index` of the model fuzz: config.json, weights.npz or both changed, or a pair that does not belong together. */
export function modelCase(seed: number, index: number): { names: { config: string; weights: string }; config: Uint8Array; weights: Uint8Array } {
  modelFiles ??= modelCorpus();
  const random = new SeededRandom(deriveSeed('model', seed, index));
  const base = random.choice(modelFiles);
  const names = { config: `case-${index}-${base.kind}/config.json`, weights: `case-${index}-${base.kind}/weights.npz` };
  let { config, weights } = base;
  const roll = random.next();
  if (roll < 0.4) weights = mutate(weights, random, 160);
  else if (roll < 0.7) config = new TextEncoder().encode(mutateJson(base.configText, random));
  else if (roll < 0.8) config = mutate(config, random, config.length);
  else if (roll < 0.9) weights = random.choice(modelFiles).weights;
  else { config = new TextEncoder().encode(mutateJson(base.configText, random)); weights = mutate(weights, random, 160); }
  return { names, config, weights };
}

/** Loads the folder as loadChromaModel should (checked config, rebuilt model, weights assigned) and checks the outcome. */
export function checkModelCase(names: { config: string; weights: string }, bytes: { config: Uint8Array; weights: Uint8Array }): Outcome {
  try {
    const saved = decodeModel(bytes, names, { validateConfig: checkModelConfig });
    const model = buildModel(saved.config);
    assignSavedWeights(model.params, saved);
    const bad = model.params.find((param) => param.get().data.some((value) => !Number.isFinite(value)));
    if (bad) return { kind: 'crash', detail: `accepted a bad result: parameter '${bad.name}' holds a non-finite value` };
    return { kind: 'accepted' };
  } catch (error) {
    return refusal(error, names.config.replace(/config\.json$/, '')); // either file's name starts so
  }
}
