// Viterbi decoding as a graph (eval/viterbi-graph.ts) against the host decoder
// (viterbiDecode, itself checked against exhaustive search in eval.test.ts): the same
// path on random emissions for several self-transition probabilities, on the reference
// evaluator and on the WebGPU device; its score is the path's log score summed on the
// host in float64; the gradient of the score with respect to the transition matrix
// matches finite differences and counts the path's transitions; a learned (counted)
// matrix changes the path the way its counts say; bad shapes are errors naming them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { grad } from '@theorbo/autodiff';
import { compile, releaseDevices } from '@theorbo/codegen';
import { seededRandom } from '@theorbo/graph/testing';
import { decodeChordFrames, medianFilterFrames, stickyTransitions, transitionsFromLabels, transitionVariable, viterbiDecode, viterbiGraph } from '../src/eval/index.ts';
import { webGpuDevice } from './signal-fixtures.ts';

test.after(async () => {
  await releaseDevices();
});

const classes = 25;

/** Random log-probability emissions [frames, classes] with runs, so that paths have a few changes. */
function emissions(frames: number, seed: number, width = classes): T.NDArray {
  const random = seededRandom(seed);
  const data = new Float32Array(frames * width);
  let favourite = 0;
  for (let t = 0; t < frames; t++) {
    if (random() < 0.15) favourite = Math.floor(random() * width);
    for (let k = 0; k < width; k++) data[t * width + k] = Math.log(0.02 + random()) + (k === favourite ? 1.5 : 0);
  }
  return T.array(data, { shape: [frames, width] });
}

const rows = (array: T.NDArray): Float32Array[] => {
  const width = array.shape[1]!;
  return Array.from({ length: array.shape[0]! }, (_, t) => (array.data as Float32Array).subarray(t * width, (t + 1) * width));
};

/** The log score of `path` in float64: emissions plus transitions. */
function pathScore(scores: T.NDArray, transitions: T.NDArray, path: ArrayLike<number>): number {
  const width = scores.shape[1]!;
  let total = 0;
  for (let t = 0; t < path.length; t++) {
    total += scores.data[t * width + path[t]!]!;
    if (t > 0) total += transitions.data[path[t - 1]! * width + path[t]!]!;
  }
  return total;
}

test('the graph\'s path is the host decoder\'s, and its score the path\'s log score (reference evaluator)', () => {
  const input = T.matrix('emissions');
  const transitions = T.matrix('transitions');
  const { path, score } = viterbiGraph(input, transitions);
  let changes = 0;
  for (const [seed, frames, selfTransition] of [[1, 80, 0.9], [2, 50, 0.5], [3, 120, 0.99], [4, 1, 0.9], [5, 2, 0.7]] as const) {
    const scores = emissions(frames, seed);
    const matrix = stickyTransitions(classes, selfTransition);
    const [graphPath, graphScore] = T.evaluate([path, score], [[input, scores], [transitions, matrix]]) as T.NDArray[];
    const host = viterbiDecode(rows(scores), { selfTransition, scores: 'logProbabilities' });
    assert.equal(Array.from(graphPath!.data), host, `seed ${seed}: ${frames} frames, p = ${selfTransition}`);
    const expected = pathScore(scores, matrix, host);
    assert.ok(Math.abs(graphScore!.data[0]! - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `seed ${seed}: score ${graphScore!.data[0]} vs ${expected}`);
    for (let t = 1; t < host.length; t++) if (host[t] !== host[t - 1]) changes++;
  }
  assert.ok(changes >= 5, `the cases change class (${changes} changes), so the transitions matter`);
});

test('on the WebGPU device the graph decoder gives the host\'s path over a long sequence', async () => {
  const device = await webGpuDevice();
  const input = T.matrix('emissions');
  const transitions = transitionVariable(classes, 0.95);
  const { path, score } = viterbiGraph(input, transitions);
  const decode = compile({ inputs: [input], outputs: [path, score], device });
  // 600 frames: without the per-step renormalization the float32 scores would reach −1000s.
  const scores = emissions(600, 11);
  const [devicePath] = (await decode(scores)) as T.NDArray[];
  assert.equal(Array.from(devicePath!.data), viterbiDecode(rows(scores), { selfTransition: 0.95, scores: 'logProbabilities' }));
});

test('the score\'s gradient with respect to the transitions counts the best path\'s transitions (finite differences agree)', () => {
  const width = 4;
  const scores = emissions(30, 21, width);
  const matrix = stickyTransitions(width, 0.8);
  const input = T.matrix('emissions');
  const transitions = transitionVariable(width, 0.8);
  const { path, score } = viterbiGraph(input, transitions);
  const [gradient] = grad(score, [transitions]);
  const [best, derivative] = T.evaluate([path, gradient!], [[input, scores]]) as T.NDArray[];
  const counts = new Float64Array(width * width);
  for (let t = 1; t < best!.size; t++) counts[best!.data[t - 1]! * width + best!.data[t]!]!++;
  assert.equal(Array.from(derivative!.data), Array.from(counts));
  assert.ok(counts.some((count, i) => count > 0 && i % (width + 1) !== 0), 'the path changes class at least once');
  // The best score is piecewise linear in the transitions: a small step moves it by the count.
  const step = 1e-2;
  for (const entry of [0, 1, 5, 6, 15]) {
    const moved = T.array(Float32Array.from(matrix.data, (value, i) => (i === entry ? value + step : value)), { shape: [width, width] });
    transitions.set(moved);
    const [up] = T.evaluate([score], [[input, scores]]) as T.NDArray[];
    transitions.set(matrix);
    const [base] = T.evaluate([score], [[input, scores]]) as T.NDArray[];
    const finite = (up!.data[0]! - base!.data[0]!) / step;
    assert.ok(Math.abs(finite - derivative!.data[entry]!) < 2e-2, `entry ${entry}: finite difference ${finite}, gradient ${derivative!.data[entry]}`);
  }
});

test('transitions learned by counting: smoothed log frequencies, −1 breaks a sequence, and a likely change wins over a sticky one', () => {
  const learned = transitionsFromLabels([[0, 0, 1, -1, 1, 1], [2, 2]], 3, 1);
  // From 0: 0→0 once, 0→1 once, plus 1 each: [2, 2, 1]/5. From 1: 1→1 once: [1, 2, 1]/4. From 2: 2→2 once: [1, 1, 2]/4.
  const expected = [2 / 5, 2 / 5, 1 / 5, 1 / 4, 2 / 4, 1 / 4, 1 / 4, 1 / 4, 2 / 4].map(Math.log);
  Array.from(learned.data).forEach((value, i) => assert.ok(Math.abs(value - expected[i]!) < 1e-6, `entry ${i}: ${value} vs ${expected[i]}`));
  // Emissions unsure between 1 and 2 after a clear 0: counts that say 0 → 1 is common pick 1.
  const scores = T.array(new Float32Array([0, -5, -5, -5, -1, -1, -5, -1, -1]), { shape: [3, 3] });
  const input = T.matrix('emissions');
  const fromCounts = transitionsFromLabels([[0, 1, 1, 0, 1, 1, 0, 1]], 3, 0.1);
  const [path] = T.evaluate([viterbiGraph(input, T.constant(fromCounts)).path], [[input, scores]]) as T.NDArray[];
  assert.equal(Array.from(path!.data), [0, 1, 1]);
  assert.throws(() => transitionsFromLabels([[0, 3]], 3), /sequence 0 frame 1 has the label 3, outside 0–2/);
});

test('decodeChordFrames: none is each frame\'s best class, median filters it, viterbi is the sticky HMM; fewer changes in that order here', () => {
  const scores = emissions(200, 31);
  const best = rows(scores).map((row) => row.indexOf(Math.max(...row)));
  assert.equal(decodeChordFrames(scores, { decoder: 'none' }), best);
  assert.equal(decodeChordFrames(scores, { decoder: 'median', medianWidth: 5 }), medianFilterFrames(best, 5));
  assert.equal(decodeChordFrames(scores, { decoder: 'viterbi', selfTransition: 0.97 }), viterbiDecode(rows(scores), { selfTransition: 0.97, scores: 'logProbabilities' }));
  const changes = (labels: number[]): number => labels.filter((label, t) => t > 0 && label !== labels[t - 1]).length;
  const [none, median, viterbi] = (['none', 'median', 'viterbi'] as const).map((decoder) => changes(decodeChordFrames(scores, { decoder, medianWidth: 9, selfTransition: 0.97 }))) as [number, number, number];
  assert.ok(none > median && median > viterbi, `changes: none ${none}, median ${median}, viterbi ${viterbi}`);
  assert.throws(() => decodeChordFrames(scores, { decoder: 'beam' as 'none' }), /viterbi, median, none, not 'beam'/);
});

test('bad shapes and probabilities are errors that name them', () => {
  assert.throws(() => viterbiGraph(T.vector('e'), T.matrix('a')), /viterbiGraph: emissions must be \[frames, classes\]/);
  assert.throws(() => viterbiGraph(T.tensor('float32', [null, 3]), T.tensor('float32', [4, 4])), /emissions have 3 classes but transitions are/);
  assert.throws(() => viterbiGraph(T.tensor('float32', [null, 3]), T.tensor('float32', [3, 3]), T.tensor('float32', [4])), /initial must be \[3\]/);
  assert.throws(() => stickyTransitions(25, 1), /strictly between 0 and 1, not 1/);
});

test.run();
