// The demo CNN's training step (batch 256: CQT patches [256, 1, 3, 84] → conv 8 × 3×3,
// 'valid' in time and 'same' in frequency → relu → 672 → 64 → 12, squared error) on the
// cpu device: time per step and, with THEORBO_DEBUG=cpu-kernels, where it goes. Not a
// test. Usage: npx tsx benchmarks/cpu-cnn-probe.ts [--steps N] [--device cpu|cpu-webgpu|gpu]
import * as T from '@theorbo/graph';
import { randomArray } from '@theorbo/graph/testing';
import { grad } from '@theorbo/autodiff';
import { compile } from '@theorbo/codegen';

const index = process.argv.indexOf('--steps');
const steps = index >= 0 ? Number(process.argv[index + 1]) : 50;
const deviceAt = process.argv.indexOf('--device');
const device = (deviceAt >= 0 ? process.argv[deviceAt + 1] : 'cpu') as 'cpu' | 'cpu-webgpu' | 'gpu';
const x = T.tensor('float32', [256, 1, 3, 84], 'x');
const y = T.matrix('y');
const filters = T.shared(randomArray('float32', [8, 1, 3, 3], { seed: 1, low: -0.3, high: 0.3 }), 'filters');
const bias = T.shared(randomArray('float32', [8], { seed: 2, low: -0.1, high: 0.1 }), 'bias');
const w1 = T.shared(randomArray('float32', [672, 64], { seed: 3, low: -0.05, high: 0.05 }), 'w1');
const w2 = T.shared(randomArray('float32', [64, 12], { seed: 4, low: -0.1, high: 0.1 }), 'w2');
const conv = T.relu(T.conv2d(x, filters, { padding: [[0, 0], [1, 1]], bias }));
const hidden = T.relu(T.matmul(T.reshape(conv, [256, 672]), w1));
const loss = T.mean(T.square(T.sub(T.matmul(hidden, w2), y)));
const params = [filters, bias, w1, w2];
const grads = grad(loss, params);
const step = compile({ inputs: [x, y], outputs: [loss], updates: params.map((p, i) => [p, T.sub(p, T.mul(0.01, grads[i]!))] as const), device });
const values = [randomArray('float32', [256, 1, 3, 84], { seed: 5 }), randomArray('float32', [256, 12], { seed: 6 })];
let started = performance.now();
await step(...values);
const first = performance.now() - started;
for (let i = 0; i < 3; i++) await step(...values);
started = performance.now();
for (let i = 0; i < steps; i++) await step(...values);
console.log(`cnn step on ${device}: first call ${first.toFixed(1)} ms; ${((performance.now() - started) / steps).toFixed(2)} ms/step over ${steps} steps${step.cpuPlan() ? `; ${step.cpuPlan()!.kernels.map((k) => `${k.label} [${k.how}]`).join('; ')}` : ''}`);
