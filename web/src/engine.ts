// The page's engine: one device for the whole page (codegen's browser chain: WebGPU from
// navigator.gpu, else the cpu device, else the reference evaluator), audio decoding with
// Web Audio, and chord recognition in the steps `theorbo chords` takes (mono, resampled
// with the music package's resampler to the model's rate, host features, chroma and
// template scores on the device, Viterbi decoding), with the shipped chord model unless
// another is brought. Left out: streaming (a clip is
// analysed whole).

import { acquireDevice, type AcquiredDevice } from '@theorbo/codegen';
import {
  chordDecodingDefaults, chordSegmentsOf, chromaOfSignal, decodeChromaModel, resample, toMono,
  type ChordDecoding, type ChromaModel, type ChromaResult, type ModelConfig, type Segment,
} from '@theorbo/music/browser';

/** What recognition needs of a model: its feature input, its chroma output and the features' settings. */
export type LoadedModel = { model: Pick<ChromaModel, 'features' | 'chroma'>; config: ModelConfig };

let devicePromise: Promise<AcquiredDevice> | undefined;
/** The page's device, acquired once. */
export function pageDevice(): Promise<AcquiredDevice> {
  devicePromise ??= acquireDevice();
  return devicePromise;
}

/** One line naming the device: its kind and adapter, or why the chain fell back. */
export function describeDevice(device: AcquiredDevice): string {
  return device.describe().split('\n')[0]!;
}

export const defaultDecoding: ChordDecoding = { decoder: 'viterbi', selfTransition: chordDecodingDefaults.selfTransition, medianWidth: chordDecodingDefaults.medianWidth };

let shippedModel: Promise<LoadedModel> | undefined;
/**
 * The shipped chord model (what `theorbo chords` uses without --model), fetched once from
 * models/default beside the page (web/build.ts puts it there); a failed fetch is an error
 * naming the URL, and the next call tries again.
 */
export function defaultModel(): Promise<LoadedModel> {
  const fetchBytes = async (name: string): Promise<Uint8Array> => {
    const url = new URL(`models/default/${name}`, document.baseURI).href;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`the shipped chord model's ${name} cannot be loaded from ${url}: HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  };
  shippedModel ??= Promise.all([fetchBytes('weights.npz'), fetchBytes('config.json')])
    .then(([weights, config]) => decodeChromaModel({ weights, config }, { weights: 'models/default/weights.npz', config: 'models/default/config.json' }))
    .catch((error: Error) => {
      shippedModel = undefined;
      throw error;
    });
  return shippedModel;
}

export interface Recognition extends ChromaResult { segments: Segment[]; signal: Float32Array }

/** Chords of mono `samples` at `sampleRate` with `loaded` (default: the shipped chord model). */
export async function recognizeSignal(samples: Float32Array, sampleRate: number, model?: LoadedModel): Promise<Recognition> {
  if (!(samples instanceof Float32Array)) throw new Error(`recognize: samples must be a Float32Array of mono samples, not ${Object.prototype.toString.call(samples)}`);
  if (!(Number.isFinite(sampleRate) && sampleRate > 0)) throw new Error(`recognize: sampleRate must be a positive number of Hz, not ${sampleRate}`);
  const loaded = model ?? (await defaultModel());
  const rate = loaded.config.feature.sampleRate;
  const signal = sampleRate === rate ? samples : resample(samples, sampleRate, rate);
  const result = await chromaOfSignal(signal, loaded, await pageDevice());
  return { ...result, signal, segments: chordSegmentsOf(result, defaultDecoding) };
}

/** An audio file's bytes decoded by the browser (any format it plays), as mono samples. */
export async function decodeAudioFile(file: Blob): Promise<{ samples: Float32Array; sampleRate: number }> {
  const bytes = await file.arrayBuffer();
  const context = new OfflineAudioContext(1, 1, 44100);
  let buffer: AudioBuffer;
  try {
    buffer = await context.decodeAudioData(bytes);
  } catch (error) {
    throw new Error(`${(file as File).name ?? 'the audio file'} cannot be decoded by this browser: ${(error as Error).message}`);
  }
  const channels = Array.from({ length: buffer.numberOfChannels }, (_, c) => buffer.getChannelData(c));
  return { samples: toMono({ sampleRate: buffer.sampleRate, channels }), sampleRate: buffer.sampleRate };
}
