// The constant-Q transform: kernel structure (levels, Q, frequencies, sparsity that
// keeps ≥ 99% of each filter's L1 mass, L1-normalized filters), the physics (a sine at a
// bin's centre peaks there with magnitude A/2, on every level, at 12 and 36 bins per
// octave, tuned and untuned), the octave-recursive graph against the direct host CQT,
// the time-domain kernel against the spectral one, and the errors. Reference evaluator
// only; signal-device.test.ts compiles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { expectGraphError } from '@theorbo/graph/testing';
import { cqt, cqtFromSpectrum, cqtHost, cqtKernel, cqtQ, dftOfFrames, frameSignal } from '../src/signal/index.ts';
import { argmax, batchOf, maxDifference, row, tone } from './signal-fixtures.ts';

test('default kernel: Q, frequencies from C1, and four octave-recursive levels', () => {
  const kernel = cqtKernel();
  assert.ok(Math.abs(kernel.q - 1 / (2 ** (1 / 12) - 1)) < 1e-12);
  assert.ok(Math.abs(kernel.frequencies[0]! - 32.703195662574829) < 1e-9);
  assert.ok(Math.abs(kernel.frequencies[45]! - 440) < 1e-9, 'bin 45 is A4');
  assert.equal(kernel.levels.map((level) => [level.decimation, level.firstBin, level.binCount]), [[1, 30, 54], [2, 18, 12], [4, 6, 12], [8, 0, 6]]);
  for (const level of kernel.levels) {
    for (let b = level.firstBin; b < level.firstBin + level.binCount; b++) {
      const length = kernel.lengths[b]! / level.decimation;
      assert.ok(length <= level.nFft, `bin ${b} is ${length} samples long at its level, longer than the frame`);
      if (level.decimation > 1) assert.ok(length > level.nFft / 2, `bin ${b} would have fit one level up`);
    }
  }
  const flat = cqtKernel({ recursive: false });
  assert.is(flat.levels.length, 1);
  assert.is(flat.levels[0]!.nFft, 16384);
  assert.is(cqtKernel({ binsPerOctave: 36, nBins: 252 }).q, cqtQ(36));
});

test('the kernel is sparse, keeps at least 99% of each filter’s L1 mass, and its filters are L1-normalized', () => {
  const kernel = cqtKernel();
  assert.ok(kernel.nonzeros < 0.05 * kernel.denseEntries, `${kernel.nonzeros} of ${kernel.denseEntries}`);
  const dense = cqtKernel({ sparsity: 0 });
  for (const [level, full] of kernel.levels.map((level, i) => [level, dense.levels[i]!] as const)) {
    const kept = new Float64Array(level.binCount);
    const total = new Float64Array(level.binCount);
    level.sparse.filter.forEach((b, i) => { kept[b] = kept[b]! + Math.hypot(level.sparse.real[i]!, level.sparse.imag[i]!); });
    full.sparse.filter.forEach((b, i) => { total[b] = total[b]! + Math.hypot(full.sparse.real[i]!, full.sparse.imag[i]!); });
    for (let b = 0; b < level.binCount; b++) assert.ok(kept[b]! >= 0.99 * total[b]! && kept[b]! <= total[b]! * (1 + 1e-12), `bin ${level.firstBin + b}: kept ${kept[b]} of ${total[b]}`);
    // The composed kernel of the unsparsified filter is conj(h): Σ|h| = 1.
    const temporal = full.temporal();
    for (let b = 0; b < level.binCount; b += 5) {
      let l1 = 0;
      for (let n = 0; n < temporal.rows; n++) l1 += Math.hypot(temporal.real[n * level.binCount + b]!, temporal.imag[n * level.binCount + b]!);
      assert.ok(Math.abs(l1 - 1) < 0.02, `bin ${level.firstBin + b}: Σ|h| = ${l1}`);
    }
  }
});

/** Sines at the centres of `bins`, one clip each, through the graph CQT; returns each clip's middle frame. */
function middleFrames(bins: readonly number[], options: Parameters<typeof cqt>[1], samples = 22050, frequencies = cqtKernel(options).frequencies): number[][] {
  const x = T.tensor('float32', [null, samples], 'x');
  const out = T.evaluate(cqt(x, options), [[x, batchOf(bins.map((b) => tone([frequencies[b]!], samples, { amplitude: 0.8 })))]]);
  return bins.map((_, i) => row(out, i, Math.floor(out.shape[1]! / 2)));
}

test('a sine at a bin’s centre peaks in that bin with magnitude A/2, on every level (12 per octave)', () => {
  const bins = [0, 3, 5, 6, 12, 17, 18, 25, 29, 30, 45, 60, 83];
  middleFrames(bins, {}).forEach((frame, i) => {
    assert.is(argmax(frame), bins[i], `sine at bin ${bins[i]} peaks at ${argmax(frame)}`);
    assert.ok(Math.abs(frame[bins[i]!]! - 0.4) < 0.004, `bin ${bins[i]}: ${frame[bins[i]!]}`);
  });
});

test('36 bins per octave: the sine’s own bin wins over its third-of-a-semitone neighbours', () => {
  const options = { binsPerOctave: 36, nBins: 252 };
  const bins = [1, 60, 251];
  // Bin 1's filter is 1.5 s long: the clip must hold it.
  middleFrames(bins, options, 44100).forEach((frame, i) => {
    assert.is(argmax(frame), bins[i]);
    assert.ok(Math.abs(frame[bins[i]!]! - 0.4) < 0.004, `bin ${bins[i]}: ${frame[bins[i]!]}`);
  });
});

test('a tuning offset moves the bin centres: a sine 30 cents sharp peaks fuller with tuningCents 30', () => {
  const sharp = cqtKernel({ tuningCents: 30 }).frequencies;
  assert.ok(Math.abs(sharp[45]! - 440 * 2 ** (30 / 1200)) < 1e-9);
  const [tuned] = middleFrames([45], { tuningCents: 30 }, 22050, sharp);
  const [untuned] = middleFrames([45], {}, 22050, sharp);
  assert.is(argmax(tuned!), 45);
  assert.ok(Math.abs(tuned![45]! - 0.4) < 0.004);
  assert.ok(untuned![45]! < tuned![45]! - 0.02, `${untuned![45]} vs ${tuned![45]}`);
});

test('cqtHost reports its frames as it goes (every 512, then all) and computes the same with or without a listener', () => {
  const clip = tone([440], 22050, { amplitude: 0.3, harmonics: 1 }).subarray(0, 22050);
  const long = new Float32Array(22050 * 30);
  for (let i = 0; i < long.length; i += clip.length) long.set(clip.subarray(0, Math.min(clip.length, long.length - i)), i);
  const heard: [number, number][] = [];
  const withListener = cqtHost(long, { onProgress: (done, total) => heard.push([done, total]) });
  const total = withListener.shape[0]!;
  assert.equal(heard.map(([done]) => done), [0, 512, 1024, total]);
  assert.ok(heard.every(([, all]) => all === total));
  assert.equal([...withListener.data], [...cqtHost(long).data]);
});

test('the octave-recursive graph CQT agrees with the direct host CQT (16384-sample frames), low bins included', () => {
  const kernel = cqtKernel();
  const chord = [0, 4, 10, 20, 31, 50].map((b) => kernel.frequencies[b]!);
  const clip = tone(chord, 22050, { amplitude: 0.3, harmonics: 2 });
  const x = T.tensor('float32', [1, 22050], 'x');
  const graph = T.evaluate(cqt(x), [[x, batchOf([clip])]]);
  const host = cqtHost(clip);
  assert.equal([...graph.shape], [1, ...host.shape]);
  const middle = 22;
  const [recursive, direct] = [row(graph, 0, middle), row(host, middle)];
  for (const b of [0, 4, 10, 20, 31, 50]) {
    assert.ok(recursive[b]! > recursive[b - 1 < 0 ? 1 : b - 1]! && recursive[b]! > recursive[b + 1]!, `recursive: bin ${b} is no peak`);
    assert.ok(direct[b]! > direct[b - 1 < 0 ? 1 : b - 1]! && direct[b]! > direct[b + 1]!, `direct: bin ${b} is no peak`);
  }
  // Away from the clip's ends the two differ by sparsification and the decimator only.
  const inner = T.array(Array.from({ length: 84 * 20 }, (_, i) => graph.data[(12 + Math.floor(i / 84)) * 84 + (i % 84)]!), { shape: [20, 84], dtype: 'float32' });
  const innerHost = T.array(Array.from({ length: 84 * 20 }, (_, i) => host.data[(12 + Math.floor(i / 84)) * 84 + (i % 84)]!), { shape: [20, 84], dtype: 'float32' });
  // Peaks are about 0.15; sparsifying 1% of each filter at two frame lengths differs by about 1e-3.
  assert.ok(maxDifference(inner, innerHost) < 2e-3, `differ by ${maxDifference(inner, innerHost)}`);
});

test('time-domain and spectral kernels are the same linear map (float64), and cqtFromSpectrum is |K·X|', () => {
  const samples = 8192;
  // Smaller frames than the defaults keep the evaluator's [nFft, nFft + 2] DFT products quick.
  const options = { nFft: 1024, hop: 256, fmin: 65.40639, nBins: 60 };
  const clip = tone([82.4, 220, 1000], samples, { harmonics: 3, amplitude: 0.3 });
  const x = T.tensor('float64', [1, samples], 'x');
  const [time, spectral] = T.evaluate([cqt(x, options), cqt(x, { ...options, kernelDomain: 'spectrum' })], [[x, batchOf([clip], 'float64')]]);
  assert.ok(maxDifference(time!, spectral!) < 1e-10, `${maxDifference(time!, spectral!)}`);
  // The top level by hand: rectangular-window STFT frames, then the level's kernel.
  const top = cqtKernel(options).levels[0]!;
  assert.is(top.decimation, 1);
  const direct = cqtFromSpectrum(dftOfFrames(frameSignal(x, options), 'rectangular'), top);
  const byHand = T.evaluate(direct, [[x, batchOf([clip], 'float64')]]);
  const topBins = T.evaluate(T.get(T.constant(time!), ':', ':', T.slice(top.firstBin, top.firstBin + top.binCount)));
  assert.ok(maxDifference(byHand, topBins) < 1e-12);
});

test('CQT errors name the op and what to change', () => {
  const x = T.tensor('float32', [1, 22050], 'x');
  expectGraphError(() => cqt(x, { hop: 500 }), 'cqt', 'hop (500) divisible by 8', 'recursive: false');
  expectGraphError(() => cqt(x, { recursive: false, kernelDomain: 'spectrum' }), "kernelDomain 'spectrum' with 16384-sample frames");
  expectGraphError(() => cqt(x, { kernelDomain: 'dct' as 'time' }), "kernelDomain 'dct'");
  assert.throws(() => cqtKernel({ nBins: 120 }), /top bin at .* above the Nyquist frequency 11025 Hz/);
  assert.throws(() => cqtKernel({ nFft: 1000 }), /nFft 1000 must be a power of two/);
  assert.throws(() => cqtKernel({ sparsity: 1 }), /sparsity 1 must be in \[0, 1\)/);
  assert.throws(() => cqtKernel({ nFft: 128, binsPerOctave: 36, nBins: 252 }), /past the decimator's passband/);
  expectGraphError(() => cqtFromSpectrum({ real: T.tensor('float32', [1, 3, 513]), imag: T.tensor('float32', [1, 3, 513]) }, cqtKernel().levels[0]!), 'has 513 bins', 'expects 1025');
});

test.run();
