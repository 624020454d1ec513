// The last step of every clip, additive or FluidSynth: add noise at the plan's SNR (white,
// or darkened by a one-pole low-pass) and scale to the plan's peak level, as float32.
// The SNR is measured over the whole clip, so rests (N) carry the same noise floor as
// chords. Left out: clipping, dither, reverb (FluidSynth adds its own).
import type { ClipPlan } from './clip-plan.ts';
import { SeededRandom } from '../random/seeded-random.ts';

const rootMeanSquare = (signal: ArrayLike<number>): number => {
  let sum = 0;
  for (let i = 0; i < signal.length; i++) sum += (signal[i] as number) ** 2;
  return Math.sqrt(sum / Math.max(1, signal.length));
};

/** Noise and level applied to a dry clip; the result is a new float32 array. */
export function finishClip(dry: ArrayLike<number>, plan: ClipPlan): Float32Array {
  const random = SeededRandom.derive(plan.renderSeed, 'noise');
  const noise = new Float64Array(dry.length);
  let filtered = 0;
  for (let i = 0; i < noise.length; i++) {
    filtered = plan.noiseColor * filtered + (1 - plan.noiseColor) * random.normal();
    noise[i] = filtered;
  }
  const signalRms = rootMeanSquare(dry);
  const noiseRms = rootMeanSquare(noise);
  const noiseScale = noiseRms > 0 ? signalRms / 10 ** (plan.snrDb / 20) / noiseRms : 0;
  const mixed = new Float64Array(dry.length);
  let peak = 0;
  for (let i = 0; i < mixed.length; i++) {
    mixed[i] = (dry[i] as number) + noiseScale * (noise[i] as number);
    peak = Math.max(peak, Math.abs(mixed[i] as number));
  }
  const out = new Float32Array(mixed.length);
  const gain = peak > 0 ? plan.peakLevel / peak : 0;
  for (let i = 0; i < out.length; i++) out[i] = (mixed[i] as number) * gain;
  return out;
}
