// The in-memory audio type shared by every reader and writer, and the mix-down to mono.
// Samples are float32 in [-1, 1) per channel (planar, as Web Audio keeps them), at the
// file's own sample rate; resampling is a separate step (resample.ts). What a reader
// accepts from a file is checked here once for every format (checkDecodedAudio).

import { AudioFileError } from './errors.ts';

export interface Audio {
  sampleRate: number;
  /** One array per channel, all of the same length (the number of frames). */
  channels: Float32Array[];
}

/** The average of all channels, so a mono file comes back unchanged and stereo halves each side. */
export function toMono(audio: Audio): Float32Array {
  const { channels } = audio;
  if (channels.length === 0) throw new Error('toMono: the audio has no channels.');
  const first = channels[0]!;
  if (channels.length === 1) return first;
  const mono = new Float32Array(first.length);
  for (const channel of channels) {
    if (channel.length !== first.length) {
      throw new Error(`toMono: channels differ in length (${first.length} and ${channel.length} frames).`);
    }
    for (let i = 0; i < mono.length; i++) mono[i]! += channel[i]!;
  }
  const scale = 1 / channels.length;
  for (let i = 0; i < mono.length; i++) mono[i]! *= scale;
  return mono;
}

/** Throws unless `audio` has a positive sample rate and ≥ 1 channel of equal lengths. */
export function checkAudio(operation: string, audio: Audio): void {
  if (!(Number.isFinite(audio.sampleRate) && audio.sampleRate > 0)) {
    throw new Error(`${operation}: the sample rate must be a positive number, not ${audio.sampleRate}.`);
  }
  if (audio.channels.length === 0) throw new Error(`${operation}: the audio has no channels.`);
  const frames = audio.channels[0]!.length;
  audio.channels.forEach((channel, index) => {
    if (channel.length !== frames) {
      throw new Error(`${operation}: channel ${index} has ${channel.length} frames but channel 0 has ${frames}.`);
    }
  });
}

/**
 * The sample rates a file may declare. Below 1 kHz or above 768 kHz (the highest rate
 * converters offer) a header is taken as corrupt: such a rate is far more often a damaged
 * field than a recording, and it would make resampling to 22050 Hz cost hundreds of times
 * the input's length.
 */
export const sampleRateLimits = { min: 1000, max: 768_000 } as const;

/**
 * Float samples beyond this magnitude (full scale is 1) are taken as a damaged file (a
 * flipped exponent bit): a recording 120 dB over full scale is not music, and values
 * near float32's limit would overflow to infinity in a resampler's sums.
 */
export const maxSampleMagnitude = 1e6;

/** Throws an AudioFileError naming `file` unless the rate is in range and every sample is finite and plausible. */
export function checkDecodedAudio(operation: string, file: string, audio: Audio): Audio {
  const { sampleRate } = audio;
  if (!(Number.isInteger(sampleRate) && sampleRate >= sampleRateLimits.min && sampleRate <= sampleRateLimits.max)) {
    throw new AudioFileError(operation, file, `declares a sample rate of ${sampleRate} Hz; rates from ${sampleRateLimits.min} to ${sampleRateLimits.max} Hz are read (the header is probably damaged).`, 'sampleRate');
  }
  audio.channels.forEach((channel, index) => {
    for (let frame = 0; frame < channel.length; frame++) {
      const value = channel[frame]!;
      if (Math.abs(value) <= maxSampleMagnitude) continue; // false for NaN as well
      const what = Number.isNaN(value) ? 'a NaN sample' : Number.isFinite(value) ? `a sample of ${value}` : `an infinite sample`;
      throw new AudioFileError(operation, file, `holds ${what} at frame ${frame} of channel ${index}; samples must be finite numbers within ±${maxSampleMagnitude} (full scale is ±1), so the file is damaged.`, 'samples');
    }
  });
  return audio;
}
