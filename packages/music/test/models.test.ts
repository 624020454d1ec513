// The talk's models as graphs: the template-distance loss equals the talk's formula in
// plain loops, the network has the talk's shapes (and a 3-layer form), template
// matching picks the nearest template, and training lowers the loss on the device.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { randomArray } from '@theorbo/graph/testing';
import { chordTemplates } from '../src/chords/index.ts';
import { chromaNetwork, templateDistanceLoss, templateMatch, templatesVariable } from '../src/model/index.ts';
import { train } from '../src/train/index.ts';

test("the template-distance loss is the talk's mean squared distance to each target template", () => {
  const chroma = T.matrix('chroma');
  const target = T.ivector('target');
  const loss = templateDistanceLoss(chroma, target, templatesVariable());
  const values = randomArray('float32', [4, 12], { low: 0, high: 1, seed: 2 });
  const labels = new Int32Array([0, 13, 24, 7]);
  const templates = chordTemplates();
  let want = 0;
  for (let r = 0; r < 4; r++) for (let k = 0; k < 12; k++) want += (values.data[r * 12 + k]! - templates[labels[r]!]![k]!) ** 2;
  const got = T.evaluate(loss, [[chroma, values], [target, labels]]).data[0]!;
  assert.ok(Math.abs(got - want / 48) < 1e-6, `${got} vs ${want / 48}`);
  const nearest = T.evaluate(templateMatch(chroma, templatesVariable()), [[chroma, T.array([templates[5]!, templates[17]!, new Array(12).fill(0.01)])]]);
  assert.equal(Array.from(nearest.data), [5, 17, 24]);
});

test("the talk's network and its 3-layer form: shapes, and training lowers the loss", async () => {
  const two = chromaNetwork(1025, [256, 64], 1);
  assert.equal(two.params.map((p) => p.shape.join('x')), ['1025x256', '256', '256x64', '64', '64x12', '12']);
  const three = chromaNetwork(40, [32, 16, 8], 2);
  assert.is(three.params.length, 8);
  assert.is(three.chroma.type.toString(), 'float32[?,12]');
  const x = randomArray('float32', [96, 40], { low: 0, high: 1, seed: 5 });
  const y = T.array(Int32Array.from({ length: 96 }, (_, i) => i % 25));
  const result = await train({ model: three, data: { train: [x, y] }, epochs: 6, batchSize: 32, rule: 'adam', learningRate: 0.01, progress: false });
  const losses = result.history.map((epoch) => epoch.train.loss!);
  assert.ok(losses[losses.length - 1]! < losses[0]!, `losses ${losses.join(', ')}`);
});

test.run();
