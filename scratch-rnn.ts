import * as T from '@theorbo/graph';
import { randomArray } from '@theorbo/graph/testing';
import { grad } from '@theorbo/autodiff';
import { compile } from '@theorbo/codegen';
const [B, H] = [32, 256];
for (const steps of [100, 1000]) {
  const xs = T.tensor('float32', [steps, B, H], 'xs');
  const w = T.shared(randomArray('float32', [H, H], { seed: 1, low: -0.06, high: 0.06 }), 'w');
  const h0 = T.zeros([B, H]);
  const { outputs: [h] } = T.scan({ fn: (xt, hp) => T.tanh(T.add(xt, T.dot(hp, w))), sequences: xs, outputsInfo: [h0] });
  const loss = T.mean(T.square(h!));
  const fwd = compile({ inputs: [xs], outputs: [loss] });
  const bwd = compile({ inputs: [xs], outputs: [loss, grad(loss, w)] });
  const x = randomArray('float32', [steps, B, H], { seed: 2 });
  for (const [label, fn] of [['forward', fwd], ['forward+backward', bwd]] as const) {
    let t0 = performance.now(); await fn(x); const first = performance.now() - t0;
    t0 = performance.now(); await fn(x); const ms = performance.now() - t0;
    console.log(steps, label, `first ${first.toFixed(0)} ms, then ${ms.toFixed(0)} ms; ${fn.kernelCount()} kernels`);
  }
}
