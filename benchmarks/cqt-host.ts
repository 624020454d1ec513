// The host CQT of a clip (cqtHost: 84 bins from C1, 12 per octave, hop 512, 16384-sample
// frames: what `theorbo chords` and the demo's features compute) with its two FFT paths:
//   fftjs: fft.js in float64 and the sums in JS — the previous algorithm's FFT and sums, its
//     values bit for bit (signal-cqt-host.test.ts);
//   wasm:  PFFFT in WebAssembly SIMD and the sums in cqt-wasm.ts's module (the default).
// Checked before timing: the two agree within 1e-5 of the clip's largest magnitude. Timed in
// interleaved rounds, wall and process CPU time (the machine is shared: CPU time moves less
// with the load), the kernel built once beforehand (its build is timed apart). The signal: a
// 220 Hz tone and white noise. Machine load is printed with each round.
// Usage: npx tsx benchmarks/cqt-host.ts [--seconds 180] [--rounds 3]

import { readFileSync } from 'node:fs';
import { cqtHost, cqtKernel } from '../packages/music/src/signal/index.ts';

const flag = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const seconds = flag('seconds', 180);
const rounds = flag('rounds', 3);
const sampleRate = 22050;
let seed = 1;
const random = (): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32 - 0.5;
};
const signal = new Float32Array(sampleRate * seconds);
for (let i = 0; i < signal.length; i++) signal[i] = 0.3 * Math.sin((2 * Math.PI * 220 * i) / sampleRate) + 0.1 * random();

const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const cpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
function timed<R>(run: () => R): { wall: number; cpu: number; result: R } {
  const cpu = cpuMs();
  const start = performance.now();
  const result = run();
  return { wall: performance.now() - start, cpu: cpuMs() - cpu, result };
}

const build = timed(() => cqtKernel({ recursive: false }));
console.log(`kernel build (16384-sample frames, ${build.result.nonzeros} entries): wall ${build.wall.toFixed(0)} ms, cpu ${build.cpu.toFixed(0)} ms`);
const reference = cqtHost(signal, { fft: 'fftjs' });
const fast = cqtHost(signal, { fft: 'wasm' });
let largest = 0;
let error = 0;
for (let i = 0; i < reference.size; i++) {
  largest = Math.max(largest, reference.data[i]!);
  error = Math.max(error, Math.abs(fast.data[i]! - reference.data[i]!));
}
if (!(error <= 1e-5 * largest)) throw new Error(`cqt-host: the WebAssembly path differs by ${error} (largest ${largest})`);
console.log(`${seconds} s of audio, ${reference.shape[0]} frames; wasm vs fftjs: ${(error / largest).toExponential(1)} of the largest magnitude`);
const best = { fftjs: Infinity, wasm: Infinity };
for (let round = 1; round <= rounds; round++) {
  for (const fft of ['fftjs', 'wasm'] as const) {
    const { wall, cpu } = timed(() => cqtHost(signal, { fft }));
    best[fft] = Math.min(best[fft], cpu);
    console.log(`round ${round} ${fft.padEnd(5)}: wall ${wall.toFixed(0).padStart(5)} ms, cpu ${cpu.toFixed(0).padStart(5)} ms (load ${load()})`);
  }
}
console.log(`best cpu: fftjs ${best.fftjs.toFixed(0)} ms, wasm ${best.wasm.toFixed(0)} ms: ${(best.fftjs / best.wasm).toFixed(1)}×`);
