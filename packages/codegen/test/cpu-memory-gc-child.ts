// Run by cpu-memory.test.ts in a child process with --expose-gc: compiled functions and
// shared variables that are dropped and collected give the cpu device's memory back.
// Twenty functions, each with a 1 MB shared variable, and twenty scans are called and dropped; after
// collection, twenty more fit in the memory the first took. Prints { start, first,
// second } (the memory's top in bytes after each round) as JSON.
import * as T from '@theorbo/graph';
import { acquireDevice, compile } from '../src/index.ts';

const cpu = await acquireDevice({ prefer: 'cpu' });
if (cpu.kind !== 'cpu') throw new Error(`this needs the cpu device, not ${cpu.kind}`);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const settle = async (): Promise<void> => {
  for (let i = 0; i < 6; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
const memory = cpu.cpu.memory;
const x = T.vector('x');
await compile({ inputs: [x], outputs: [T.neg(x)], device: cpu })(T.array(new Float32Array(4)));
await settle();
const start = memory.used;
const n = 250_000;
const round = async (): Promise<number> => {
  for (let k = 0; k < 20; k++) {
    const w = T.shared(T.array(new Float32Array(n).fill(k)), `w${k}`);
    const step = compile({ inputs: [x], outputs: [T.add(T.mul(x, w), 1)], updates: [[w, T.mul(w, 0.5)]], device: cpu });
    const got = ((await step(T.array(new Float32Array(n).fill(1)))) as T.NDArray[])[0]!;
    if (got.data[n - 1] !== k + 1) throw new Error(`function ${k}: ${got.data[n - 1]} where ${k + 1} was expected (a reused region read stale values?)`);
    // A scan: its step plan (1 MB buffers) is cached with the step graph.
    const xs = T.matrix('xs');
    const h0 = T.vector('h0');
    const hs = T.scan({ fn: (xt, hp) => T.add(T.mul(hp, 0.5), xt), sequences: xs, outputsInfo: [h0] }).outputs[0]!;
    const scanned = ((await compile({ inputs: [xs, h0], outputs: [hs], device: cpu })(T.array(new Float32Array(2 * n).fill(k), { shape: [2, n] }), T.array(new Float32Array(n)))) as T.NDArray[])[0]!;
    if (scanned.data[2 * n - 1] !== 1.5 * k) throw new Error(`scan ${k}: ${scanned.data[2 * n - 1]} where ${1.5 * k} was expected`);
  }
  const top = memory.used;
  // A last call of another function, so that the queue of calls holds none of the twenty.
  await compile({ inputs: [x], outputs: [T.neg(x)], device: cpu })(T.array(new Float32Array(4)));
  await settle();
  return top;
};
const first = await round();
const second = await round();
console.log(JSON.stringify({ start, first, second }));
