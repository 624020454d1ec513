// tfjs-webgpu as a peer: each case written the way a tfjs user would (one op per call,
// tf.tidy, an SGD optimizer for the training step). tfjs dispatches eagerly and submits
// in batches; a step returns once its kernels are recorded, and the sync reads back one
// element, which waits for every earlier submit on tfjs's queue. Convolutions run in
// tfjs's own layouts (x NHWC or NWC, filters HWIO or WIO), converted on the host outside
// the clock, the outputs converted back for the check.
// Left out: tfjs's CPU and WebGL backends; custom WGSL through tfjs's program API.
import type * as TF from '@tensorflow/tfjs-core';
import { permute } from '../convolution.ts';
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
    'affine': kernel((x, a, b) => tf.add(tf.mul(x!, a!), b!)),
    'elementwise': kernel((x, a, b) => tf.sub(tf.mul(tf.tanh(tf.add(tf.mul(x!, a!), b!)), tf.sigmoid(x!)), tf.exp(tf.neg(tf.square(x!))))),
    'sum-last': kernel((x) => tf.sum(x!, -1)),
    'sum-all': kernel((x) => tf.sum(x!)),
    'softmax': kernel((x) => tf.softmax(x!)),
    'matmul': kernel((a, b) => tf.matMul(a!, b!)),
    'conv2d': async (workload) => convolution(tf, workload, false),
    'conv2d-train': async (workload) => convolution(tf, workload, true),
    'conv1d-audio': async (workload) => convolution(tf, workload, false),
    'rnn': async (workload) => rnn(tf, workload, false),
    'rnn-train': async (workload) => rnn(tf, workload, true),
    'train-step': async (workload) => trainStep(tf, workload),
  };
}

// Our layouts → tfjs's (x, the cotangent and the outputs NCHW → NHWC, filters OIHW →
// HWIO), and back; 1-D drops H.
const toTfjs = { 4: [0, 2, 3, 1], 3: [0, 2, 1] } as Record<number, number[]>;
const filterToTfjs = { 4: [2, 3, 1, 0], 3: [2, 1, 0] } as Record<number, number[]>;
const inverse = (order: number[]) => order.map((_, axis) => order.indexOf(axis));

/**
 * conv2d / conv1d forward, or (`train`) the loss Σ conv2d(x, w)·g and its gradients
 * with respect to x and w through tf.valueAndGrads, one eager step each.
 */
function convolution(tf: Tf, workload: Workload, train: boolean): Runner {
  const [xHost, wHost, gHost] = workload.inputs as [HostTensor, HostTensor, HostTensor?];
  const rank = xHost.shape.length;
  const upload = (input: HostTensor, order: number[]) =>
    tf.tensor(permute(input.data as Float32Array, input.shape, order), order.map((axis) => input.shape[axis]!), 'float32');
  const x = upload(xHost, toTfjs[rank]!);
  const w = upload(wHost, filterToTfjs[rank]!);
  const g = gHost ? upload(gHost, toTfjs[rank]!) : undefined;
  const { stride } = workload.params!;
  // A numeric pad takes the output size from the filter's height and the stride's first
  // entry alone (tfjs-core 4.22's computeOutputShape2D), which conv1d's [1, K] filter and
  // [1, stride] strides get wrong: no padding is said 'valid'.
  const padding = workload.params!.padding === 0 ? 'valid' : workload.params!.padding!;
  const forward = (input: TF.Tensor, filters: TF.Tensor) => rank === 4
    ? tf.conv2d(input as TF.Tensor4D, filters as TF.Tensor4D, stride!, padding)
    : tf.conv1d(input as TF.Tensor3D, filters as TF.Tensor3D, stride!, padding);
  const compute = train
    ? () => {
      const { value, grads } = tf.valueAndGrads((input: TF.Tensor, filters: TF.Tensor) => tf.sum(tf.mul(forward(input, filters), g!)))([x, w]);
      return [value, ...grads];
    }
    : () => [forward(x, w)];
  // Back to our layouts on the host, for the check: [y] or [loss, ∂/∂x, ∂/∂w].
  const orders = train ? [undefined, toTfjs[rank], filterToTfjs[rank]] : [toTfjs[rank]];
  return eagerRunner(tf, compute, () => [x, w, ...(g ? [g] : [])].forEach((t) => t.dispose()), (tensor, data, i) =>
    orders[i] === undefined ? data : permute(data, tensor.shape, inverse(orders[i]!)));
}

/**
 * The tanh RNN as a JavaScript loop of tf ops: the input projection as one matMul, then
 * per step matMul, add and tanh on the step's row (tf.unstack), and tf.stack of every h.
 * `train`: the loss Σ h·g and its gradients with respect to Wx, Wh and b (tf.valueAndGrads).
 */
function rnn(tf: Tf, workload: Workload, train: boolean): Runner {
  const { T, B, I, H } = workload.sizes as { T: number; B: number; I: number; H: number };
  const [x, wx, wh, b, g] = workload.inputs.map((input) => tf.tensor(input.data, input.shape, 'float32'));
  const states = (wxIn: TF.Tensor, whIn: TF.Tensor, bIn: TF.Tensor): TF.Tensor => {
    const projected = tf.reshape(tf.add(tf.matMul(tf.reshape(x!, [T * B, I]) as TF.Tensor2D, wxIn as TF.Tensor2D), bIn), [T, B, H]);
    const rows = tf.unstack(projected);
    let h: TF.Tensor = tf.zeros([B, H]);
    const hs: TF.Tensor[] = [];
    for (let t = 0; t < T; t++) {
      h = tf.tanh(tf.add(rows[t]!, tf.matMul(h as TF.Tensor2D, whIn as TF.Tensor2D)));
      hs.push(h);
    }
    return tf.stack(hs);
  };
  const compute = train
    ? () => {
      const { value, grads } = tf.valueAndGrads((a: TF.Tensor, c: TF.Tensor, d: TF.Tensor) => tf.sum(tf.mul(states(a, c, d), g!)))([wx!, wh!, b!]);
      return [value, ...grads];
    }
    : () => [states(wx!, wh!, b!)];
  return eagerRunner(tf, compute, () => [x, wx, wh, b, g].forEach((t) => t?.dispose()));
}

/**
 * Runs `compute` inside tf.tidy per step and keeps only the latest outputs. The check
 * reads all outputs; the sync reads one element of the first, a few bytes.
 */
function eagerRunner(tf: Tf, compute: () => TF.Tensor[], release: () => void, convert?: (tensor: TF.Tensor, data: Float32Array, index: number) => Float32Array): Runner {
  let latest: TF.Tensor[] = [];
  const replace = (next: TF.Tensor[]) => {
    for (const t of latest) t.dispose();
    latest = next;
  };
  return {
    async result() {
      replace(tf.tidy(compute));
      return Promise.all(latest.map(async (t, i) => {
        const data = Float32Array.from(await t.data());
        return convert ? convert(t, data, i) : data;
      }));
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
