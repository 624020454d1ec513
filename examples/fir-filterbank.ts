// A learnable FIR filterbank for chords: the constant-Q transform's time-domain kernels
// as the filters of one strided conv1d on raw audio. It builds the bank (C3–B6, 48 bins,
// hop 512: 96 filters of 4096 taps), shows that before training it reproduces the
// designed CQT (cqtHost, the non-recursive CQT behind the chord models' features) on a
// chord with noise, then fine-tunes the filters with the chord objective on synthesized
// clips and compares the scores with the designed CQT under the same downstream model.
// Runs on the best device this machine has (THEORBO_DEVICE overrides). Environment:
// FIR_CLIPS (clips per source, default 96), FIR_SOURCE (additive, fluidsynth or both;
// default additive), FIR_EPOCHS (fine-tuning epochs, default 8), FIR_RATE (Adam, 1e-3).

import * as T from '@theorbo/graph';
import { acquireDevice, compile } from '@theorbo/codegen';
import { cqtHost, featureFilterbank, firExperimentDefaults, firFeatureDefaults, firFilterbank, runFirExperiment, type DataSource } from '@theorbo/music';

const device = await acquireDevice();
console.log(`FIR filterbank on ${device.describe().split('\n')[0]}\n`);
const feature = firFeatureDefaults;

let started = performance.now();
const bank = featureFilterbank(feature);
console.log(`bank: ${bank.nBins} CQT bins from ${feature.fmin.toFixed(2)} Hz as ${bank.filters.shape[0]} filters of ${bank.taps} taps, stride ${bank.hop} (${(performance.now() - started).toFixed(0)} ms to design)`);

// Two seconds of C major with harmonics, a little noise.
const samples = 2 * feature.sampleRate;
let state = 12345;
const audio = Float32Array.from({ length: samples }, (_, i) => {
  state = (state * 1103515245 + 12345) >>> 0;
  const noise = 0.02 * (state / 2 ** 32 - 0.5);
  return noise + [261.63, 329.63, 392.0].reduce((sum, f) => sum + [1, 2, 3, 4].reduce((s, k) => s + (0.25 / k) * Math.sin((2 * Math.PI * f * k * i) / feature.sampleRate), 0), 0);
});
const x = T.tensor('float32', [1, null], 'audio');
started = performance.now();
const [fir] = (await compile({ inputs: [x], outputs: [firFilterbank(x, bank.filters, { hop: feature.hop })], device })(T.array(audio, { shape: [1, samples] }))) as T.NDArray[];
const firMs = performance.now() - started;
const designed = cqtHost(audio, { sampleRate: feature.sampleRate, hop: feature.hop, nFft: feature.nFft, fmin: feature.fmin, nBins: feature.nBins, binsPerOctave: feature.binsPerOctave });
let [peak, absolute, logFeature] = [0, 0, 0];
for (let i = 0; i < designed.size; i++) {
  peak = Math.max(peak, designed.data[i]!);
  absolute = Math.max(absolute, Math.abs(fir!.data[i]! - designed.data[i]!));
  logFeature = Math.max(logFeature, Math.abs(Math.log1p(feature.cqtGain * fir!.data[i]!) - Math.log1p(feature.cqtGain * designed.data[i]!)));
}
console.log(`reproduction of the designed CQT on ${designed.shape[0]} frames (conv1d on the device, ${firMs.toFixed(0)} ms with compiling):`);
console.log(`  max |FIR − CQT| = ${absolute.toExponential(2)} (${(absolute / peak).toExponential(2)} of the peak ${peak.toFixed(3)}); max |Δ log1p(${feature.cqtGain}·|CQT|)| = ${logFeature.toExponential(2)}\n`);

const clips = Number(process.env.FIR_CLIPS ?? firExperimentDefaults.clips);
const source = (process.env.FIR_SOURCE ?? firExperimentDefaults.source) as DataSource | 'both';
const epochs = { ...firExperimentDefaults.epochs, fir: Number(process.env.FIR_EPOCHS ?? firExperimentDefaults.epochs.fir) };
const learningRate = Number(process.env.FIR_RATE ?? firExperimentDefaults.learningRate);
const result = await runFirExperiment({ ...firExperimentDefaults, clips, source, epochs, learningRate, device, log: (line) => console.log(line) });

console.log(`\nweighted chord symbol recall, majmin, on ${clips} ${source} clips' test split (templates / classifier):`);
for (const { name, template, classifier } of result.results) {
  console.log(`  ${name.padEnd(52)} ${(100 * template.majmin).toFixed(1).padStart(5)}% / ${(100 * classifier.majmin).toFixed(1).padStart(5)}%`);
}
const { data, designed: designedSeconds, fineTuning, total } = result.seconds;
console.log(`\n${result.trainFrames} training frames; data ${data.toFixed(0)} s, learned chroma ${designedSeconds.toFixed(0)} s, fine-tuning ${fineTuning.toFixed(0)} s, ${total.toFixed(0)} s in all`);
