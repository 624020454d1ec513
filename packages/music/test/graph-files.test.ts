// A saved graph on disk with its shared values in a side values.npz (saveGraphFiles /
// loadGraphFiles) and as bytes (encodeGraphFiles / decodeGraphFiles, what the page uses):
// round trips that train a step on the device first (so the values are read back from
// it), the inline variant, and the errors for a missing, corrupt or foreign values file,
// each naming the path and the reason. A chroma model saved so (with its config in the
// metadata, as `theorbo export-graph` does) gives the model's chroma again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '@theorbo/graph';
import { grad } from '@theorbo/autodiff';
import { acquireDevice, compile } from '@theorbo/codegen';
import { chromaGraphMetadata, chromaModelFromGraph } from '../src/model/chroma-graph.ts';
import { featureDefaults } from '../src/model/features.ts';
import { learnedChroma } from '../src/model/models.ts';
import { chromaOfSignal } from '../src/model/recognize.ts';
import { decodeGraphFiles, decodeNpz, encodeGraphFiles, encodeNpz, graphPaths, loadGraphFiles, saveGraphFiles } from '../src/train/index.ts';
import { FileFormatError } from '../src/files/file-format-error.ts';

const dir = mkdtempSync(join(tmpdir(), 'theorbo-graph-files-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A one-layer model with its weights trained one step on the cpu device (so the newest values live there). */
async function trainedModel() {
  const x = T.matrix('x');
  const w = T.shared(T.array(Array.from({ length: 12 }, (_, i) => Math.cos(i) / 2), { shape: [4, 3] }), 'w');
  const b = T.shared(T.array([0.1, 0.2, -0.3]), 'b');
  const out = T.tanh(T.add(T.matmul(x, w), b));
  const loss = T.mean(T.square(out));
  const [gw, gb] = grad(loss, [w, b]);
  const xs = T.array(Array.from({ length: 20 }, (_, i) => Math.sin(i * 0.7)), { shape: [5, 4] });
  await compile({ inputs: [x], outputs: [loss], updates: [[w, T.sub(w, T.mul(gw!, 0.5))], [b, T.sub(b, T.mul(gb!, 0.5))]], device: 'cpu' })(xs);
  return { x, w, out, xs };
}

const sameArray = (got: T.NDArray, want: T.NDArray, label: string) => {
  assert.equal([...got.shape], [...want.shape], `${label}: shape`);
  assert.equal(Array.from(got.data), Array.from(want.data), `${label}: values`);
};

test('saveGraphFiles writes graph.json and values.npz (the trained values); loadGraphFiles, from the folder or the JSON, gives the same outputs', async () => {
  const { x, w, out, xs } = await trainedModel();
  const folder = join(dir, 'split');
  const written = await saveGraphFiles(folder, out, { inputs: [x], metadata: { note: 'test' } });
  assert.equal(written, graphPaths(folder));
  const json = readFileSync(written.graph, 'utf8');
  assert.not.match(json, /"data"\s*:\s*"/, 'no inline base64 for the shared values (the graph has no constants)');
  const archive = decodeNpz(readFileSync(written.values!), written.values!).arrays;
  assert.equal(Object.keys(archive).sort(), ['b', 'w']);
  sameArray(archive.w!, w.get(), 'values.npz holds w after the training step');
  const want = T.evaluate(out, [[x, xs]]);
  for (const path of [folder, written.graph]) {
    const loaded = loadGraphFiles(path);
    assert.equal(loaded.metadata, { note: 'test' });
    sameArray(T.evaluate(loaded.outputs[0]!, [[loaded.inputs[0]!, xs]]), want, `loaded from ${path}`);
  }
});

test('inline: one graph.json with base64 values, loadGraphFiles reads it alone', async () => {
  const { x, out, xs } = await trainedModel();
  const folder = join(dir, 'inline');
  const written = await saveGraphFiles(folder, out, { inputs: [x], inline: true });
  assert.equal(written, { graph: graphPaths(folder).graph });
  assert.not.ok(existsSync(graphPaths(folder).values));
  const loaded = loadGraphFiles(folder);
  sameArray(T.evaluate(loaded.outputs[0]!, [[loaded.inputs[0]!, xs]]), T.evaluate(out, [[x, xs]]), 'inline');
});

test('bytes: encodeGraphFiles / decodeGraphFiles round trip, as the page loads the two files', async () => {
  const { x, out, xs } = await trainedModel();
  const { json, npz } = encodeGraphFiles(out, { inputs: [x] });
  const loaded = decodeGraphFiles(new TextEncoder().encode(json), npz, { graph: 'my-graph.json', values: 'my-values.npz' });
  sameArray(T.evaluate(loaded.outputs[0]!, [[loaded.inputs[0]!, xs]]), T.evaluate(out, [[x, xs]]), 'from bytes');
  assert.throws(() => decodeGraphFiles(json, undefined, { graph: 'my-graph.json' }), /loadGraph: my-graph\.json at variables\[\d+\]\.value\.member: the value is the array '\w' of values\.npz, which was not given/);
  assert.throws(() => decodeGraphFiles(json, npz.subarray(0, 40), { graph: 'g.json', values: 'cut.npz' }), (error: Error) => error instanceof FileFormatError && /^loadGraphFiles: cut\.npz /.test(error.message));
});

test('a missing, corrupt, truncated or foreign values.npz, and a missing graph.json, are errors naming the path and the reason', async () => {
  const { x, out } = await trainedModel();
  const folder = join(dir, 'damaged');
  const paths = await saveGraphFiles(folder, out, { inputs: [x] });
  const good = readFileSync(paths.values!);
  const fails = (pattern: RegExp) => assert.throws(() => loadGraphFiles(folder), (error: Error) => {
    assert.match(error.message, pattern);
    return true;
  });
  const quoted = (path: string) => path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  rmSync(paths.values!);
  fails(new RegExp(`^loadGraphFiles: ${quoted(paths.values!)} cannot be read: no such file`));
  writeFileSync(paths.values!, 'this is not an archive');
  fails(new RegExp(`^loadGraphFiles: ${quoted(paths.values!)} is not an npz file`));
  writeFileSync(paths.values!, good.subarray(0, good.length - 30));
  fails(new RegExp(`^loadGraphFiles: ${quoted(paths.values!)} `));
  writeFileSync(paths.values!, encodeNpz({ w: T.array([1, 2, 3]) }));
  fails(new RegExp(`^loadGraph: ${quoted(paths.graph)} at variables\\[\\d+\\]\\.value\\.member: ${quoted(paths.values!)}('s array 'w' is float32\\[3\\], but the graph expects float32\\[4,3\\]| has no array 'b')`));
  rmSync(paths.graph);
  fails(new RegExp(`^loadGraphFiles: ${quoted(paths.graph)} cannot be read: no such file`));
});

test('a chroma model saved as a graph with its config gives the model\'s chroma; a graph that is no chroma model is refused naming the file', async () => {
  const model = learnedChroma(featureDefaults, { from: 'octave', gain: 0.6 });
  const config = { kind: 'learned-chroma' as const, feature: featureDefaults, init: 'octave' as const };
  const folder = join(dir, 'chroma');
  await saveGraphFiles(folder, model.chroma, { inputs: [model.features], metadata: chromaGraphMetadata(config) });
  const fromGraph = chromaModelFromGraph(loadGraphFiles(folder), 'chroma/graph.json');
  assert.equal(fromGraph.config, config);
  const rate = featureDefaults.sampleRate;
  const signal = Float32Array.from({ length: rate }, (_, n) => [220, 277.18, 329.63].reduce((sum, f) => sum + Math.sin((2 * Math.PI * f * n) / rate), 0) / 3);
  const device = await acquireDevice({ prefer: 'cpu' });
  const want = await chromaOfSignal(signal, { model, config }, device);
  const got = await chromaOfSignal(signal, fromGraph, device);
  sameArray(got.chroma, want.chroma, 'chroma');
  const x = T.matrix('x'), y = T.matrix('y');
  assert.throws(() => chromaModelFromGraph(T.loadGraph(T.saveGraph(T.add(x, y), { inputs: [x, y] })), 'two.json'), /^two\.json: the graph has 2 inputs; a chroma graph takes the CQT frames \[frames, 84\]/);
  const wide = T.tensor('float32', [null, 84], 'cqt');
  assert.throws(() => chromaModelFromGraph(T.loadGraph(T.saveGraph(T.matmul(wide, T.constant(new Float32Array(84 * 13), { shape: [84, 13] })), { inputs: [wide] })), 'wide.json'), /wide\.json: its first output is float32\[\?,13\]/);
  assert.throws(() => chromaModelFromGraph(T.loadGraph(T.saveGraph(model.chroma, { inputs: [model.features], metadata: { kind: 'theorbo-chroma-model', config: { kind: 'nonsense' } } })), 'bad.json'), /bad\.json \(metadata\)/);
});

test.run();
