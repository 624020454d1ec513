// The talk's Theano program, steps 1 and 2, in Theorbo: a 1025 → 256 → 64 → 12 network
// with half-wave rectification, and the template-distance loss built with
// `dimshuffle(0, 'x', 1)` and advanced indexing `distance[arange(n), y_target]`.
// Shared by the demo (talk-program.ts) and the tests in test/.
// Shapes: x [batch, 1025], templates [24, 12], distance [batch, 24, 12].

import * as T from '@theorbo/graph';
import { seededRandom } from '@theorbo/graph/testing';

export const layerShapes = [[1025, 256], [256, 64], [64, 12]] as const;

const majorTriad = [0, 4, 7];
const minorTriad = [0, 3, 7];

/** Binary chroma templates of the 24 major and minor triads: rows C:maj … B:maj, C:min … B:min. */
export function chordTemplates(): number[][] {
  const rows: number[][] = [];
  for (const triad of [majorTriad, minorTriad]) {
    for (let root = 0; root < 12; root++) {
      const row = new Array<number>(12).fill(0);
      for (const interval of triad) row[(root + interval) % 12] = 1;
      rows.push(row);
    }
  }
  return rows;
}

/** Gaussian matrix with standard deviation `scale` (Box–Muller over a seeded generator). */
export function normalMatrix(rows: number, cols: number, scale: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    const u = 1 - random();
    data[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }
  return data;
}

export interface TalkProgram {
  xInput: T.Variable;
  yTarget: T.Variable;
  params: T.SharedVariable[];
  zOutput: T.Variable;
  distance: T.Variable;
  scalarLoss: T.Variable;
  templates: T.SharedVariable;
}

export function buildTalkProgram(seed = 1, dtype: 'float32' | 'float64' = 'float32'): TalkProgram {
  // Step 1. Build the network.
  const xInput = T.matrix('input', dtype);
  const params: T.SharedVariable[] = [];
  let layer: T.Variable = xInput;
  layerShapes.forEach(([nIn, nOut], index) => {
    const weights = T.shared(T.array(normalMatrix(nIn, nOut, 0.01, seed + index), { shape: [nIn, nOut], dtype }), `weights${index}`);
    const bias = T.shared(T.NDArray.zeros(dtype, [nOut]), `bias${index}`);
    params.push(weights, bias);
    layer = T.hwr(T.dot(layer, weights).add(bias));
  });
  const zOutput = layer;

  // Step 2. Define a loss function: squared distance of each output to every template,
  // broadcast as (batch, 1, 12) against (1, 24, 12), read at each row's target template.
  const yTarget = T.ivector('y_target');
  const templates = T.shared(chordTemplates(), 'templates', { dtype });
  const distance = T.pow(zOutput.dimshuffle(0, 'x', 1).sub(templates.dimshuffle('x', 0, 1)), 2.0);
  const scalarLoss = T.mean(distance.at(T.arange(yTarget.dim(0), undefined, undefined, 'int32'), yTarget));
  return { xInput, yTarget, params, zOutput, distance, scalarLoss, templates };
}

/**
 * A fixed synthetic batch: non-negative "spectra" whose energy sits in bins tied to the
 * three pitch classes of the target chord, plus noise.
 */
export function syntheticBatch(batch: number, seed = 7): { x: T.NDArray; y: Int32Array } {
  const random = seededRandom(seed);
  const x = new Float32Array(batch * 1025);
  const y = new Int32Array(batch);
  const templates = chordTemplates();
  for (let row = 0; row < batch; row++) {
    const chord = Math.floor(random() * 24);
    y[row] = chord;
    for (let bin = 0; bin < 1025; bin++) {
      const pitchClass = bin % 12;
      x[row * 1025 + bin] = 0.1 * random() + (templates[chord]![pitchClass]! ? 1 + random() : 0);
    }
  }
  return { x: T.array(x, { shape: [batch, 1025] }), y };
}
