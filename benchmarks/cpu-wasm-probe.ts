// The cpu device's WebAssembly elementwise and softmax kernels: time per call at sizes
// around the serial threshold, built once on the calling thread only and once split over
// the pool, in interleaved rounds, to place cpu/wasm-kernels.ts's serialElements. Not a test.
// Usage: npx tsx benchmarks/cpu-wasm-probe.ts [--rounds N]
import * as T from '@theorbo/graph';
import { compile } from '@theorbo/codegen';
import { setSerialElements } from '../packages/codegen/src/cpu/wasm-kernels.ts';

const index = process.argv.indexOf('--rounds');
const rounds = index >= 0 ? Number(process.argv[index + 1]) : 5;
const x = T.matrix('x');
const workloads = { 'x·2 + 1': T.add(T.mul(x, 2), 1), 'tanh(x)·x': T.mul(T.tanh(x), x), softmax: T.softmax(x) };
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

for (const [name, output] of Object.entries(workloads)) {
  for (const elements of [4096, 16384, 32768, 65536, 131072, 524288]) {
    const shape = [elements / 256, 256];
    const value = T.array(Float32Array.from({ length: elements }, (_, i) => Math.sin(i)), { shape });
    const fns = [];
    for (const threshold of [Infinity, 0]) {
      setSerialElements(threshold);
      const fn = compile({ inputs: [x], outputs: [output], device: 'cpu' });
      await fn(value);
      fns.push(fn);
    }
    const times: number[][] = [[], []];
    const calls = Math.max(20, Math.round(2e6 / elements));
    for (let round = 0; round < rounds; round++) {
      for (const [k, fn] of fns.entries()) {
        const started = performance.now();
        for (let i = 0; i < calls; i++) await fn(value);
        times[k]!.push(((performance.now() - started) / calls) * 1000);
      }
    }
    const [serial, split] = times.map(median) as [number, number];
    console.log(`${name.padEnd(10)} ${String(elements).padStart(7)} elements: serial ${serial.toFixed(1)} µs, split ${split.toFixed(1)} µs (${(serial / split).toFixed(2)}×)`);
  }
}
process.exit(0);
