// tfjs-webgpu as a peer: each case written the way a tfjs user would (one op per call,
// tf.tidy, an SGD optimizer for the training step). tfjs dispatches eagerly and submits
// in batches; a step returns once its kernels are recorded, and the sync reads back one
// element, which waits for every earlier submit on tfjs's queue.
// Left out: tfjs's CPU and WebGL backends; custom WGSL through tfjs's program API.
import type * as TF from '@tensorflow/tfjs-core';
import type { CaseName, HostTensor, Prepared, Runner, Workload } from '../harness.ts';
import { parameterNames } from '../training.ts';

type Tf = typeof TF;
export interface TfjsPeer {
  version: string;
  cases: Partial<Record<CaseName, (workload: Workload) => Promise<Prepared>>>;
}

/** Loads tfjs with its WebGPU backend; navigator.gpu must already be installed. */
export async function loadTfjs(): Promise<TfjsPeer | { unavailable: string }> {
  try {
    const tf: Tf = await import('@tensorflow/tfjs-core');
    // tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle registers them
    // all in tfjs's global registry (the umbrella @tensorflow/tfjs would, too, but pulls
    // in core-js, whose install script pnpm refuses).
    await import('@tensorflow/tfjs-layers');
    await import('@tensorflow/tfjs-backend-webgpu');
    const ok = await tf.setBackend('webgpu');
    await tf.ready();
    if (!ok || tf.getBackend() !== 'webgpu') return { unavailable: `tfjs could not start its webgpu backend (backend is '${tf.getBackend()}')` };
    return { version: tf.version_core, cases: tfjsCases(tf) };
  } catch (error) {
    return { unavailable: `tfjs-webgpu failed to load: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function tfjsCases(tf: Tf): TfjsPeer['cases'] {
  const upload = (input: HostTensor) => tf.tensor(input.data, input.shape, input.data instanceof Int32Array ? 'int32' : 'float32');
  const kernel = (body: (...inputs: TF.Tensor[]) => TF.Tensor) => async (workload: Workload): Promise<Prepared> => {
    const inputs = workload.inputs.map(upload);
    return eagerRunner(tf, () => [body(...inputs)], () => inputs.forEach((t) => t.dispose()));
  };
  return {
    'elementwise': kernel((x, a, b) => tf.sub(tf.mul(tf.tanh(tf.add(tf.mul(x!, a!), b!)), tf.sigmoid(x!)), tf.exp(tf.neg(tf.square(x!))))),
    'sum-last': kernel((x) => tf.sum(x!, -1)),
    'sum-all': kernel((x) => tf.sum(x!)),
    'softmax': kernel((x) => tf.softmax(x!)),
    'matmul': kernel((a, b) => tf.matMul(a!, b!)),
    'train-step': async (workload) => trainStep(tf, workload),
  };
}

/**
 * Runs `compute` inside tf.tidy per step and keeps only the latest outputs. The check
 * reads all outputs; the sync reads one element of the first, a few bytes.
 */
function eagerRunner(tf: Tf, compute: () => TF.Tensor[], release: () => void): Runner {
  let latest: TF.Tensor[] = [];
  const replace = (next: TF.Tensor[]) => {
    for (const t of latest) t.dispose();
    latest = next;
  };
  return {
    async result() {
      replace(tf.tidy(compute));
      return Promise.all(latest.map(async (t) => Float32Array.from(await t.data())));
    },
    step() {
      replace(tf.tidy(compute));
    },
    async sync() {
      const probe = tf.tidy(() => tf.slice(tf.reshape(latest[0]!, [-1]), 0, 1));
      await probe.data();
      probe.dispose();
    },
    dispose() {
      replace([]);
      release();
    },
  };
}

/** The talk's step: relu layers, templates gathered by label, mean squared distance, SGD. */
function trainStep(tf: Tf, workload: Workload): Prepared {
  const [x, y, templates, ...initial] = workload.inputs;
  const xs = tf.tensor2d(x!.data as Float32Array, x!.shape as [number, number]);
  const labels = tf.tensor1d(y!.data as Int32Array, 'int32');
  const table = tf.tensor2d(templates!.data as Float32Array, templates!.shape as [number, number]);
  const params = initial.map((p, i) => tf.variable(tf.tensor(p.data, p.shape), true, `${parameterNames[i]}_${Math.random()}`));
  const optimizer = tf.train.sgd(workload.params!.learningRate!);
  const loss = () => {
    let h: TF.Tensor = xs;
    for (let l = 0; l < 3; l++) h = tf.relu(tf.add(tf.matMul(h as TF.Tensor2D, params[2 * l] as TF.Variable<TF.Rank.R2>), params[2 * l + 1]!));
    return tf.mean(tf.square(tf.sub(h, tf.gather(table, labels)))) as TF.Scalar;
  };
  return trainRunner(tf, optimizer, loss, params, () => {
    optimizer.dispose();
    for (const t of [xs, labels, table, ...params]) t.dispose();
  });
}

/** The check reads this step's loss and every parameter after it. */
function trainRunner(tf: Tf, optimizer: TF.Optimizer, loss: () => TF.Scalar, params: TF.Variable[], release: () => void): Runner {
  const inner = eagerRunner(tf, () => [optimizer.minimize(loss, true, params)!], release);
  return {
    ...inner,
    async result() {
      const [cost] = await inner.result();
      const values = await Promise.all(params.map(async (p) => Float32Array.from(await p.data())));
      return [cost!, ...values];
    },
  };
}
