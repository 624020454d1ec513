// Reading any supported audio file: the format is recognised from the file's first bytes
// (not its extension), WAV is parsed here (wav-read.ts), and FLAC, Ogg Vorbis and MP3 go
// to the @wasm-audio-decoders / mpg123-decoder WebAssembly decoders, whose failures are
// rephrased as AudioFileErrors naming the file. Left out: Opus and FLAC inside Ogg,
// AAC/M4A, streaming; MP3 lengths include the encoder's delay and padding (mpg123 trims
// them only when the file carries a LAME gapless tag), and a truncated MP3 decodes to
// the frames it still has, since MP3 has no length to check against.

import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { OggVorbisDecoder } from '@wasm-audio-decoders/ogg-vorbis';
import { MPEGDecoder } from 'mpg123-decoder';
import type { Audio } from './audio.ts';
import { checkDecodedAudio, toMono } from './audio.ts';
import { AudioFileError } from './errors.ts';
import { resample } from './resample.ts';
import { parseWav, readAudioFile } from './wav-read.ts';

export type AudioContainer = 'wav' | 'flac' | 'ogg' | 'mp3';

/** Reads a WAV, FLAC, Ogg Vorbis or MP3 file into float32 channels at its own sample rate. */
export async function readAudio(path: string): Promise<Audio> {
  return decodeAudio(readAudioFile('readAudio', path), path);
}

/** Decodes the bytes of a WAV, FLAC, Ogg Vorbis or MP3 file; `path` names them in errors. */
export async function decodeAudio(bytes: Uint8Array, path: string): Promise<Audio> {
  if (bytes.length === 0) throw new AudioFileError('readAudio', path, 'is empty (0 bytes).');
  const container = detectContainer(bytes);
  switch (container) {
    case 'wav': return parseWav(bytes, path);
    case 'flac': return decodeFlac(bytes, path);
    case 'ogg': return decodeOggVorbis(bytes, path);
    case 'mp3': return decodeMp3(bytes, path);
    case undefined: {
      const start = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new AudioFileError('readAudio', path, `is not a WAV, FLAC, Ogg Vorbis or MP3 file (it starts with the bytes ${start}).`);
    }
  }
}

/** Reads any supported file, mixes it to mono and resamples it to `sampleRate` (22050 Hz by default). */
export async function loadMono(path: string, sampleRate = 22050): Promise<Float32Array> {
  const audio = await readAudio(path);
  return resample(toMono(audio), audio.sampleRate, sampleRate);
}

/** loadMono for a file's bytes; `name` names them in errors. */
export async function decodeMono(bytes: Uint8Array, name: string, sampleRate = 22050): Promise<Float32Array> {
  const audio = await decodeAudio(bytes, name);
  return resample(toMono(audio), audio.sampleRate, sampleRate);
}

/** The container a file's first bytes announce, or undefined. */
export function detectContainer(bytes: Uint8Array): AudioContainer | undefined {
  const tag = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(4, bytes.byteLength)).toString('latin1');
  if (tag === 'RIFF') return 'wav';
  if (tag === 'fLaC') return 'flac';
  if (tag === 'OggS') return 'ogg';
  if (tag.startsWith('ID3') || mpegFrameAt(bytes, 0)) return 'mp3';
  return undefined;
}

async function decodeFlac(bytes: Uint8Array, path: string): Promise<Audio> {
  const decoder = new FLACDecoder();
  try {
    await decoder.ready;
    const result = await decodeOrExplain('FLAC', path, () => decoder.decodeFile(bytes));
    const audio = checked('FLAC', path, result);
    // The decoder divides b-bit integers by 2^(b-1) − 1; WAV readers (and ours) divide by
    // 2^(b-1), so that a FLAC and the WAV it was made from read as the same samples.
    const rescale = (2 ** (result.bitDepth - 1) - 1) / 2 ** (result.bitDepth - 1);
    for (const channel of audio.channels) for (let i = 0; i < channel.length; i++) channel[i]! *= rescale;
    return audio;
  } finally {
    decoder.free();
  }
}

async function decodeOggVorbis(bytes: Uint8Array, path: string): Promise<Audio> {
  // The first Ogg page carries the codec's identification header; only Vorbis is decoded.
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 512)).toString('latin1');
  if (!head.includes('\x01vorbis')) {
    const codec = head.includes('OpusHead') ? 'Opus' : head.includes('FLAC') ? 'FLAC' : 'an unknown codec';
    throw new AudioFileError('readAudio', path, `is an Ogg file holding ${codec}; only Ogg Vorbis is supported.`);
  }
  const decoder = new OggVorbisDecoder();
  try {
    await decoder.ready;
    const result = await decodeOrExplain('Ogg Vorbis', path, () => decoder.decodeFile(bytes));
    return checked('Ogg Vorbis', path, result);
  } finally {
    decoder.free();
  }
}

async function decodeMp3(bytes: Uint8Array, path: string): Promise<Audio> {
  const decoder = new MPEGDecoder();
  try {
    await decoder.ready;
    const result = await decodeOrExplain('MP3', path, () => decoder.decode(bytes));
    const audio = checked('MP3', path, result);
    // mpg123 always hands back two channels; a mono stream's are copies of each other.
    const frame = firstMpegFrame(bytes);
    return frame !== undefined && isMonoFrame(bytes, frame) ? { sampleRate: audio.sampleRate, channels: audio.channels.slice(0, 1) } : audio;
  } finally {
    decoder.free();
  }
}

interface DecodedAudio {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: { message: string }[];
}

async function decodeOrExplain<T>(codec: string, path: string, decode: () => T | Promise<T>): Promise<T> {
  try {
    return await decode();
  } catch (error) {
    throw new AudioFileError('readAudio', path, `could not be decoded as ${codec}; it is truncated or corrupt (the decoder said: ${(error as Error).message}).`);
  }
}

/** Turns a decoder's result into Audio, refusing empty or error-laden output. */
function checked(codec: string, path: string, result: DecodedAudio): Audio {
  if (result.errors.length > 0) {
    const first = result.errors[0]!.message;
    throw new AudioFileError('readAudio', path, `is a corrupt ${codec} stream: ${result.errors.length} decoding error(s), the first: ${first}.`);
  }
  if (result.samplesDecoded === 0 || result.channelData.length === 0) {
    throw new AudioFileError('readAudio', path, `holds no decodable ${codec} audio; it is truncated or corrupt.`);
  }
  const channels = result.channelData.map((channel) => channel.slice(0, result.samplesDecoded));
  return checkDecodedAudio('readAudio', path, { sampleRate: result.sampleRate, channels });
}

/** Whether an MPEG audio frame header (11 sync bits, a valid layer, bitrate and rate) starts at `offset`. */
function mpegFrameAt(bytes: Uint8Array, offset: number): boolean {
  if (offset + 4 > bytes.length) return false;
  const b1 = bytes[offset + 1]!;
  const b2 = bytes[offset + 2]!;
  const layer = (b1 >> 1) & 3;
  const version = (b1 >> 3) & 3;
  const bitrate = b2 >> 4;
  const rate = (b2 >> 2) & 3;
  return bytes[offset] === 0xff && (b1 & 0xe0) === 0xe0 && layer !== 0 && version !== 1 && bitrate !== 15 && rate !== 3;
}

/** The offset of the first frame, past an ID3v2 tag if there is one. */
function firstMpegFrame(bytes: Uint8Array): number | undefined {
  let offset = 0;
  if (bytes.length >= 10 && bytes[0] === 0x49 && bytes[1] === 0x44 && bytes[2] === 0x33) {
    // The tag size is a 28-bit "syncsafe" integer (7 bits per byte), plus a 10-byte footer if flagged.
    const size = ((bytes[6]! & 0x7f) << 21) | ((bytes[7]! & 0x7f) << 14) | ((bytes[8]! & 0x7f) << 7) | (bytes[9]! & 0x7f);
    offset = 10 + size + ((bytes[5]! & 0x10) !== 0 ? 10 : 0);
  }
  for (; offset + 4 <= bytes.length; offset++) if (mpegFrameAt(bytes, offset)) return offset;
  return undefined;
}

function isMonoFrame(bytes: Uint8Array, offset: number): boolean {
  return bytes[offset + 3]! >> 6 === 3; // channel mode 3 is single channel
}
