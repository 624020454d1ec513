// Shared by the training tests: a small softmax classifier (optionally with a hidden
// layer and dropout) built the way the music models are, synthetic data that a linear
// model separates, and the device the tests must run on (never silently the reference
// evaluator). Not a test file itself.
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { NDArray, type SharedVariable } from '@theorbo/graph';
import { acquireDevice, requestedKind, type AcquiredDevice } from '@theorbo/codegen';
import { dropout, trainingFlag, type TrainableModel } from '../src/train/index.ts';

/** The device the tests train on: WebGPU (llvmpipe here), or the reference evaluator only when THEORBO_DEVICE asks for it. */
export async function testDevice(): Promise<AcquiredDevice> {
  const device = await acquireDevice();
  if (device.kind === 'reference' && requestedKind() !== 'reference') {
    assert.unreachable(`no WebGPU device; the chain fell to the reference evaluator:\n${device.describe()}`);
  }
  return device;
}

/** Deterministic values in [0, 1) from a seed (an LCG), independent of the code under test. */
export function uniforms(count: number, seed: number): Float64Array {
  const out = new Float64Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 32;
  }
  return out;
}

/**
 * `count` examples of `features` dimensions in `classes` classes: class k is centred on
 * +2 in feature k (and 0 elsewhere), plus uniform noise of half-width `noise`, so a linear
 * model separates them when noise < 1.
 */
export function separableData(count: number, features: number, classes: number, seed: number, noise = 0.8): [NDArray, NDArray] {
  const random = uniforms(count * (features + 1), seed);
  const x = new Float32Array(count * features);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = Math.floor(random[i * (features + 1)]! * classes);
    y[i] = label;
    for (let f = 0; f < features; f++) x[i * features + f] = (f === label ? 2 : 0) + noise * (2 * random[i * (features + 1) + 1 + f]! - 1);
  }
  return [T.array(x, { shape: [count, features] }), T.array(y, { shape: [count], dtype: 'int32' })];
}

export interface ClassifierOptions {
  features: number;
  classes: number;
  hidden?: number;
  dropoutRate?: number;
  seed?: number;
}

/** A softmax classifier: logits = x·W + b, or through one rectified hidden layer with dropout. */
export function classifier(options: ClassifierOptions): TrainableModel & { params: SharedVariable[] } {
  const { features, classes, hidden, dropoutRate = 0, seed = 1 } = options;
  const init = (rows: number, cols: number, name: string, salt: number): SharedVariable =>
    T.shared(T.array(Float32Array.from(uniforms(rows * cols, seed * 100 + salt), (u) => (u - 0.5) * 0.2), { shape: [rows, cols] }), name);
  const x = T.matrix('features');
  const y = T.ivector('labels');
  const flag = trainingFlag();
  const streams = new T.RandomStreams(seed);
  const params: SharedVariable[] = [];
  let h: T.Variable = x;
  let width = features;
  if (hidden !== undefined) {
    const w0 = init(features, hidden, 'weights0', 1);
    const b0 = T.shared(new Float32Array(hidden), 'bias0');
    params.push(w0, b0);
    h = dropout(T.relu(T.dot(x, w0).add(b0)), dropoutRate, streams, flag);
    width = hidden;
  }
  const w = init(width, classes, 'weights1', 2);
  const b = T.shared(new Float32Array(classes), 'bias1');
  params.push(w, b);
  const logits = T.dot(h, w).add(b);
  const loss = T.neg(T.mean(T.get(T.logSoftmax(logits), T.arange(y.dim(0)), y)));
  const accuracy = T.mean(T.cast(T.eq(T.argmax(logits, 1), y), 'float32'));
  return { params, inputs: [x, y], loss, metrics: { accuracy }, predictions: logits, training: flag };
}

/** The bits of each parameter's host value (after train() has read them back). */
export function bitsOf(params: readonly SharedVariable[]): number[][] {
  return params.map((param) => {
    const data = param.get().data;
    return [...new Uint32Array(data.buffer, data.byteOffset, data.byteLength / 4)];
  });
}
