// Audio in and out: WAV read and written here, FLAC/Ogg Vorbis/MP3 through WebAssembly
// decoders, mixing to mono, and band-limited resampling.

export type { Audio } from './audio.ts';
export { toMono, sampleRateLimits, maxSampleMagnitude } from './audio.ts';
export { AudioFileError } from './errors.ts';
export { readWav, parseWav } from './wav-read.ts';
export type { WavWriteOptions, WavFormatName } from './wav-write.ts';
export { writeWav, encodeWav, wavFormatNames, wavFormats } from './wav-write.ts';
export type { AudioContainer } from './read-audio.ts';
export { readAudio, decodeAudio, loadMono, decodeMono, detectContainer } from './read-audio.ts';
export { resample } from './resample.ts';
