// The in-memory audio type shared by every reader and writer, and the mix-down to mono.
// Samples are float32 in [-1, 1) per channel (planar, as Web Audio keeps them), at the
// file's own sample rate; resampling is a separate step (resample.ts).

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
