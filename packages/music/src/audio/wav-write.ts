// WAV writing: PCM (8-bit unsigned, 16/24/32-bit signed; 16 is the default) or IEEE float
// (32/64-bit), interleaved, written atomically. PCM samples are clipped to [-1, 1) and
// rounded to the nearest step (no dither); float samples are stored as given.
// Mono and stereo files get the plain header (format 1, PCM, or 3, IEEE float) at every
// bit depth, the one that every reader understands (Python's wave module before 3.12
// refuses WAVE_FORMAT_EXTENSIBLE); more than two channels get WAVE_FORMAT_EXTENSIBLE,
// which carries the speaker positions, and either can be forced. Left out: dither,
// channel masks other than the default order.

import type { Audio } from './audio.ts';
import { checkAudio } from './audio.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';

export interface WavWriteOptions {
  /** Bits per sample: 8, 16 (default), 24 or 32 for PCM; 32 (default) or 64 for float. */
  bitDepth?: 8 | 16 | 24 | 32 | 64;
  /** 'pcm' (default) or 'float' (WAVE_FORMAT_IEEE_FLOAT). */
  sampleFormat?: 'pcm' | 'float';
  /** Force (true) or forbid (false) the WAVE_FORMAT_EXTENSIBLE header; by default only for more than two channels. */
  extensible?: boolean;
}

/** Writes `audio` to `path` as WAV, atomically (temporary file, then rename). */
export function writeWav(path: string, audio: Audio, options: WavWriteOptions = {}): void {
  writeFileAtomic(path, encodeWav(audio, options), { operation: 'writeWav' });
}

/** The bytes of a WAV file holding `audio`. */
export function encodeWav(audio: Audio, options: WavWriteOptions = {}): Buffer {
  checkAudio('writeWav', audio);
  const sampleFormat = options.sampleFormat ?? 'pcm';
  const bits = options.bitDepth ?? (sampleFormat === 'float' ? 32 : 16);
  const allowed = sampleFormat === 'float' ? [32, 64] : [8, 16, 24, 32];
  if (!allowed.includes(bits)) {
    throw new Error(`writeWav: ${sampleFormat} samples can have ${allowed.join(', ')} bits, not ${bits}.`);
  }
  if (!Number.isInteger(audio.sampleRate) || audio.sampleRate > 0xffffffff) {
    throw new Error(`writeWav: WAV stores whole sample rates; ${audio.sampleRate} Hz is not one.`);
  }
  const channelCount = audio.channels.length;
  if (channelCount > 0xffff) throw new Error(`writeWav: WAV holds at most 65535 channels, not ${channelCount}.`);
  const frames = audio.channels[0]!.length;
  const bytesPerSample = bits / 8;
  const blockAlign = channelCount * bytesPerSample;
  const dataBytes = frames * blockAlign;
  if (dataBytes > 0xffffffff - 80) throw new Error(`writeWav: ${dataBytes} bytes of samples exceed the 4 GiB that a WAV file can hold.`);
  const formatCode = sampleFormat === 'float' ? 3 : 1;
  const extensible = options.extensible ?? channelCount > 2;
  const formatBytes = extensible ? 40 : 16;
  const header = 12 + 8 + formatBytes + 8;
  const out = Buffer.alloc(header + dataBytes + (dataBytes % 2));

  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(out.length - 8, 4);
  out.write('WAVE', 8, 'latin1');
  out.write('fmt ', 12, 'latin1');
  out.writeUInt32LE(formatBytes, 16);
  out.writeUInt16LE(extensible ? 0xfffe : formatCode, 20);
  out.writeUInt16LE(channelCount, 22);
  out.writeUInt32LE(audio.sampleRate, 24);
  out.writeUInt32LE(audio.sampleRate * blockAlign, 28);
  out.writeUInt16LE(blockAlign, 32);
  out.writeUInt16LE(bits, 34);
  if (extensible) {
    out.writeUInt16LE(22, 36); // cbSize: the extension's length
    out.writeUInt16LE(bits, 38); // valid bits per sample
    out.writeUInt32LE(defaultChannelMask(channelCount), 40);
    out.writeUInt16LE(formatCode, 44); // subformat GUID: the format code, then the standard tail
    Buffer.from([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]).copy(out, 46);
  }
  out.write('data', header - 8, 'latin1');
  out.writeUInt32LE(dataBytes, header - 4);

  const write = sampleWriter(sampleFormat, bits, out);
  for (let frame = 0; frame < frames; frame++) {
    const frameStart = header + frame * blockAlign;
    for (let c = 0; c < channelCount; c++) write(audio.channels[c]![frame]!, frameStart + c * bytesPerSample);
  }
  return out;
}

function sampleWriter(sampleFormat: 'pcm' | 'float', bits: number, out: Buffer): (value: number, offset: number) => void {
  if (sampleFormat === 'float') {
    return bits === 32 ? (v, o) => out.writeFloatLE(v, o) : (v, o) => out.writeDoubleLE(v, o);
  }
  const full = 2 ** (bits - 1);
  const quantize = (v: number): number => {
    const step = Math.round((Number.isNaN(v) ? 0 : v) * full);
    return step < -full ? -full : step > full - 1 ? full - 1 : step;
  };
  switch (bits) {
    case 8: return (v, o) => { out[o] = quantize(v) + 128; };
    case 16: return (v, o) => out.writeInt16LE(quantize(v), o);
    case 24: return (v, o) => out.writeIntLE(quantize(v), o, 3);
    default: return (v, o) => out.writeInt32LE(quantize(v), o);
  }
}

/**
 * The speaker positions: front centre for mono, else the first n of the standard order
 * (FL, FR, FC, LFE, ...); 0 (no assignment) past the 18 positions the spec defines.
 */
function defaultChannelMask(channelCount: number): number {
  if (channelCount === 1) return 0x4;
  return channelCount > 18 ? 0 : 2 ** channelCount - 1;
}

/**
 * The encodings a user names on the command line (`--wav-format`), as writeWav options:
 * 16- or 24-bit PCM (format tag 1) or 32-bit IEEE float (format tag 3), plain headers.
 */
export const wavFormats = {
  pcm16: { sampleFormat: 'pcm', bitDepth: 16 },
  pcm24: { sampleFormat: 'pcm', bitDepth: 24 },
  float: { sampleFormat: 'float', bitDepth: 32 },
} as const satisfies Record<string, WavWriteOptions>;
export type WavFormatName = keyof typeof wavFormats;
export const wavFormatNames = Object.keys(wavFormats) as WavFormatName[];
