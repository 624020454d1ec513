// clipFeaturesAll (model/features-pool.ts): clips computed on worker threads equal
// clipFeatures one by one, in order, with progress for each.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clipFeatures, featureDefaults } from '../src/model/features.ts';
import { clipFeaturesAll } from '../src/model/features-pool.ts';

const sampleRate = featureDefaults.sampleRate;
const clip = (k: number) => ({
  audio: Float32Array.from({ length: Math.round(sampleRate * (0.5 + 0.1 * k)) }, (_, i) => Math.sin((2 * Math.PI * (110 * (k + 1)) * i) / sampleRate) * 0.5),
  segments: [{ start: 0, end: 0.3, label: 'C:maj' }, { start: 0.3, end: 2, label: 'A:min' }] as never,
});

test('features on two worker threads equal the calling thread\'s, clip by clip', async () => {
  const jobs = Array.from({ length: 9 }, (_, k) => clip(k));
  const progress: number[] = [];
  let how = '';
  const got = await clipFeaturesAll(jobs, featureDefaults, { threads: 2, onProgress: (done) => progress.push(done), ran: (ran) => (how = ran) });
  assert.is(how, 'workers');
  assert.equal(progress, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  jobs.forEach((job, k) => {
    const want = clipFeatures(job.audio, job.segments, featureDefaults);
    assert.equal(got[k]!.dft.shape, want.dft.shape, `clip ${k} dft shape`);
    assert.equal([...got[k]!.dft.data], [...want.dft.data], `clip ${k} dft`);
    assert.equal([...got[k]!.cqt.data], [...want.cqt.data], `clip ${k} cqt`);
    assert.equal([...got[k]!.labels], [...want.labels], `clip ${k} labels`);
    assert.equal([...got[k]!.times], [...want.times], `clip ${k} times`);
  });
});

test('a few clips are computed on the calling thread', async () => {
  let how = '';
  const got = await clipFeaturesAll([clip(0), clip(1)], featureDefaults, { threads: 2, ran: (ran) => (how = ran) });
  assert.is(how, 'calling thread');
  assert.is(got.length, 2);
});

test.run();
