// A larger vocabulary answering in a smaller one, and decoding by triad families
// (chords/vocabularies.ts vocabularyReduction / vocabularyFamilies, eval/chord-decoding.ts
// family decoding, model/models.ts groupLogScores / vocabularyLogScores): the class each
// sevenths or full class reads as in majmin; hand-worked frames where summing a chord's
// variants changes the decision; the graphs' summed log scores against the same sums on the
// host in float64 (reference evaluator); a Viterbi path over family scores on the WebGPU
// device, with each run's member picked on the host, equal to the host's family decoding.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { compile, releaseDevices } from '@theorbo/codegen';
import { seededRandom } from '@theorbo/graph/testing';
import { chordVocabulary, vocabularyFamilies, vocabularyReduction } from '../src/chords/index.ts';
import { decodeChordFrames, decodingForVocabulary, familyMembers } from '../src/eval/chord-decoding.ts';
import { stickyTransitions, viterbiGraph } from '../src/eval/index.ts';
import { groupLogScores, templateLogScores, templatesVariable, vocabularyLogScores } from '../src/model/models.ts';
import { qualityRecall } from '../src/model/evaluate.ts';
import { webGpuDevice } from './signal-fixtures.ts';

test.after(async () => {
  await releaseDevices();
});

const majmin = chordVocabulary('majmin');
const sevenths = chordVocabulary('sevenths');
const full = chordVocabulary('full');

test('each sevenths or full class reads as its triad in majmin (−1 where none does); families number the rest after the 25', () => {
  const reduction = vocabularyReduction(sevenths, majmin);
  const read = (label: string): string | undefined => majmin.labels[reduction[sevenths.indexOf(label)]!];
  assert.equal(['C:maj', 'C:7', 'C:maj7', 'A:min', 'A:min7', 'N'].map(read), ['C:maj', 'C:maj', 'C:maj', 'A:min', 'A:min', 'N']);
  const fullReduction = vocabularyReduction(full, majmin);
  assert.is(fullReduction[full.indexOf('B:dim')], -1);
  assert.is(fullReduction[full.indexOf('D:sus4')], -1);
  const families = vocabularyFamilies(full);
  assert.is(families[full.indexOf('G:7')], majmin.indexOf('G:maj'));
  // dim, aug, sus2 and sus4 on 12 roots: 48 families of one class each, numbered 25–72.
  const own = full.labels.map((_, k) => families[k]!).filter((family) => family >= 25);
  assert.equal([...new Set(own)].sort((a, b) => a - b), Array.from({ length: 48 }, (_, i) => 25 + i));
  assert.equal(vocabularyFamilies(sevenths), reduction);
  assert.is(decodingForVocabulary({ decoder: 'none' }, majmin, 'majmin').families, undefined);
  // Only a model trained on the vocabulary decodes by families (templates on a hand-designed chroma stay flat).
  assert.is(decodingForVocabulary({ decoder: 'none' }, sevenths, 'majmin').families, undefined);
  assert.equal(decodingForVocabulary({ decoder: 'none' }, sevenths, 'sevenths').families, reduction);
});

test('family decoding: a chord whose probability is split among its variants still wins; each run takes its most probable member', () => {
  // Classes C:maj, C:7, A:min (families 0, 0, 1). Frame by frame A:min has the largest
  // single probability, but C's family has more (0.35 + 0.25 = 0.6 against 0.4).
  const frames = [[0.35, 0.25, 0.4], [0.2, 0.45, 0.35], [0.3, 0.3, 0.4]].map((row) => row.map(Math.log));
  assert.equal(decodeChordFrames(frames, { decoder: 'none' }), [2, 1, 2]);
  // The run of family C sums C:maj to 0.85 and C:7 to 1.0 over its three frames.
  assert.equal(decodeChordFrames(frames, { decoder: 'none', families: [0, 0, 1] }), [1, 1, 1]);
  assert.equal(decodeChordFrames(frames, { decoder: 'viterbi', selfTransition: 0.9, families: [0, 0, 1] }), [1, 1, 1]);
  // Two runs: the member is chosen per run.
  const twoRuns = [[0.5, 0.1, 0.4], [0.5, 0.2, 0.3], [0.05, 0.05, 0.9], [0.1, 0.6, 0.3]].map((row) => row.map(Math.log));
  assert.equal(decodeChordFrames(twoRuns, { decoder: 'none', families: [0, 0, 1] }), [0, 0, 2, 1]);
  assert.throws(() => decodeChordFrames(frames, { decoder: 'none', families: [0, 1] }), /2 class families were given for scores of 3 classes/);
  assert.throws(() => decodeChordFrames(frames, { decoder: 'none', families: [0, -1, 1] }), /class 1's family is -1/);
});

/** Random chroma-like rows [frames, 12]. */
function chromaRows(frames: number, seed: number): T.NDArray {
  const random = seededRandom(seed);
  return T.array(Float32Array.from({ length: frames * 12 }, () => 1.2 * random()), { shape: [frames, 12] });
}

test('summed log scores: the graph gives each group log Σ exp of its members (float64 on the host), and sevenths → majmin sums the variants', () => {
  const chroma = T.matrix('chroma');
  const values = chromaRows(40, 3);
  const [sevenScores, reduced, grouped] = T.evaluate([templateLogScores(chroma, templatesVariable('sevenths')), vocabularyLogScores(chroma, 'sevenths', 'majmin'), groupLogScores(chroma, [0, 0, 1, -1, 2, 2, 2, 1, 0, 1, 2, 0], 3)], [[chroma, values]]) as T.NDArray[];
  const reduction = vocabularyReduction(sevenths, majmin);
  for (let t = 0; t < 40; t++) {
    for (let j = 0; j < 25; j++) {
      let sum = 0;
      for (let k = 0; k < 61; k++) if (reduction[k] === j) sum += Math.exp(sevenScores!.data[t * 61 + k]!);
      assert.ok(Math.abs(reduced!.data[t * 25 + j]! - Math.log(sum)) < 1e-4, `frame ${t}, ${majmin.labels[j]}: ${reduced!.data[t * 25 + j]} vs ${Math.log(sum)}`);
    }
    const groups = [0, 0, 1, -1, 2, 2, 2, 1, 0, 1, 2, 0];
    for (let g = 0; g < 3; g++) {
      const sum = groups.reduce((total, group, k) => total + (group === g ? Math.exp(values.data[t * 12 + k]!) : 0), 0);
      assert.ok(Math.abs(grouped!.data[t * 3 + g]! - Math.log(sum)) < 1e-4, `frame ${t}, group ${g}`);
    }
  }
  // Same vocabulary, or a finer one: the output's own templates.
  const [own, finer] = T.evaluate([vocabularyLogScores(chroma, 'sevenths', 'sevenths'), vocabularyLogScores(chroma, 'majmin', 'sevenths')], [[chroma, values]]) as T.NDArray[];
  assert.equal(Array.from(own!.data), Array.from(sevenScores!.data));
  assert.equal(Array.from(finer!.data), Array.from(sevenScores!.data));
});

test('on the WebGPU device, Viterbi over the family scores and the host\'s pick of members give the host\'s family decoding', async () => {
  const device = await webGpuDevice();
  const chroma = T.matrix('chroma');
  const scores = templateLogScores(chroma, templatesVariable('sevenths'));
  const families = vocabularyFamilies(sevenths);
  const { path } = viterbiGraph(groupLogScores(scores, families, 25), T.constant(stickyTransitions(25, 0.9)));
  const run = compile({ inputs: [chroma], outputs: [scores, path], device });
  // Slowly drifting chroma, so that the path holds runs.
  const random = seededRandom(9);
  const values = new Float32Array(300 * 12);
  let current = Array.from({ length: 12 }, () => random());
  for (let t = 0; t < 300; t++) {
    if (random() < 0.05) current = Array.from({ length: 12 }, () => 1.2 * random());
    for (let k = 0; k < 12; k++) values[t * 12 + k] = current[k]! + 0.2 * random();
  }
  const [logScores, devicePath] = (await run(T.array(values, { shape: [300, 12] }))) as T.NDArray[];
  const host = decodeChordFrames(logScores!, { decoder: 'viterbi', selfTransition: 0.9, families });
  assert.equal(familyMembers(devicePath!.data, logScores!, families), host);
  assert.ok(new Set(host).size >= 3, `the path visits ${new Set(host).size} classes`);
});

test('quality recall: each reference quality\'s share of frames labelled with exactly its class; left-out frames are skipped', () => {
  const c = full.indexOf('C:maj'), c7 = full.indexOf('C:7'), g7 = full.indexOf('G:7'), csus4 = full.indexOf('C:sus4'), fsus2 = full.indexOf('F:sus2');
  const reference = [c, c, c, c7, g7, csus4, csus4, full.noChord, -1];
  const estimate = [c, c, c7, c7, c7, fsus2, fsus2, full.noChord, c];
  assert.equal(qualityRecall(reference, estimate, full), { maj: 2 / 3, 7: 1 / 2, sus4: 0, N: 1 });
});

test.run();
