// The CLI's mel, mfcc, onsets, tempo and beats commands on a synthesized click track at
// a known tempo: the command functions in-process (one graph compile each), then one
// child process running `theorbo --device cpu beats --click` as a user would, which also
// checks that the device line goes to stderr and stdout holds only times. Both name the
// cpu device, 8× quicker here than llvmpipe's WebGPU, to keep the file near 9 s;
// features-device.test.ts compiles these graphs as WGSL.
// The tempo is 2583.98/20 = 129.2 BPM, one whole lag of 20 frames at hop 512 and
// 22050 Hz, so the estimate can land on it exactly; onsets and beats must fall within
// 50 ms (about two frames) of a click.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice, releaseDevices, type AcquiredDevice } from '@theorbo/codegen';
import { loadMono, readWav, writeWav } from '../src/audio/index.ts';
import { melBandsFlag, mfccCountFlag } from '../src/cli/flags.ts';
import { beatsOf, matrixCsv, melOf, mfccOf, mixClicks, onsetTimesOf, tempoCurveOf, tempoOf, tempoPairOf } from '../src/cli/rhythm-commands.ts';
import { designedFrontEnd, frontEndOutputs, trackPower, trackSwing } from '../src/rhythm/index.ts';
import { stackRows } from '../src/rhythm/fine-tune.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'theorbo-cli-rhythm-'));
const rate = 22050;
const bpm = (60 * rate) / (512 * 20);
const clicks = Array.from({ length: 8 }, (_, i) => 0.3 + (60 / bpm) * i);
const samples = Math.round(4 * rate);

// Decaying 1.5 kHz bursts of 90 ms at each click.
function clickTrack(): Float32Array {
  const x = new Float32Array(samples);
  for (const time of clicks) {
    const start = Math.round(time * rate);
    for (let i = 0; i < 2000 && start + i < samples; i++) x[start + i] = x[start + i]! + 0.8 * Math.exp(-i / 200) * Math.sin((2 * Math.PI * 1500 * i) / rate);
  }
  return x;
}

const audioPath = join(dir, 'clicks.wav');
writeWav(audioPath, { sampleRate: rate, channels: [clickTrack()] });
let device: AcquiredDevice;
let signal: Float32Array;

test.before(async () => {
  device = await acquireDevice({ prefer: 'cpu' });
  signal = await loadMono(audioPath, rate);
});

test.after(async () => {
  await releaseDevices();
});

const nearestClick = (time: number): number => Math.min(...clicks.map((click) => Math.abs(click - time)));

test('mel and MFCC CSVs: a header row, one row per frame, the columns asked for', async () => {
  const frames = 1 + Math.floor(samples / 512);
  const mel = await melOf(signal, device, { nMels: 40 });
  assert.equal([...mel.shape], [frames, 40]);
  const csv = matrixCsv(mel, Array.from({ length: 40 }, (_, m) => `mel${m}`)).trimEnd().split('\n');
  assert.is(csv.length, frames + 1);
  assert.is(csv[0], `time,${Array.from({ length: 40 }, (_, m) => `mel${m}`).join(',')}`);
  assert.ok(csv.slice(1).every((row) => row.split(',').length === 41 && row.split(',').every((cell) => Number.isFinite(Number(cell)))));
  assert.is(csv[2]!.split(',')[0], (512 / rate).toFixed(4));
  // A click's frame holds more energy than the silence before the first click.
  const energy = (f: number): number => Array.from({ length: 40 }, (_, m) => mel.data[f * 40 + m]!).reduce((a, b) => a + b, 0);
  assert.ok(energy(Math.round((clicks[1]! * rate) / 512) + 1) > 100 * energy(5));
  const coefficients = await mfccOf(signal, device, { nMfcc: 13 });
  assert.equal([...coefficients.shape], [frames, 13]);
});

test('onsets fall within 50 ms of a click, one per click', async () => {
  const onsets = await onsetTimesOf(signal, device);
  assert.is(onsets.length, clicks.length, Array.from(onsets).join(' '));
  for (const time of onsets) assert.ok(nearestClick(time) < 0.05, `onset at ${time} s`);
});

test('tempo within 2% of the click track\'s, static and per frame', async () => {
  const estimate = await tempoOf(signal, device);
  assert.ok(Math.abs(estimate - bpm) / bpm < 0.02, `${estimate} BPM, expected ${bpm}`);
  const { times, bpm: curve } = await tempoCurveOf(signal, device);
  assert.is(times.length, curve.length);
  const middle = curve[Math.floor(curve.length / 2)]!;
  assert.ok(Math.abs(middle - bpm) / bpm < 0.02, `middle frame ${middle} BPM`);
});

test('tempo --pair: the tempo, then its half or double; a front end\'s learned rule picks which; theorbo tempo --pair prints both', async () => {
  const [first, second] = await tempoPairOf(signal, device);
  assert.is(first, await tempoOf(signal, device));
  assert.ok(second === first / 2 || Math.abs(second / first - 2) < 0.05 || Math.abs(first / second - 2) < 0.05, `${first} and ${second}`);
  // A swung click track (off-beat eighths at 0.6 of the beat, a low thump on each beat): the CLI's second tempo is the experiment's, and the rule reads its swing.
  const period = 60 / bpm;
  const swung = new Float32Array(8 * rate);
  const burst = (time: number, level: number, frequency: number, decay: number): void => {
    const start = Math.round(time * rate);
    for (let i = 0; i < 4 * decay && start + i < swung.length; i++) swung[start + i] = swung[start + i]! + level * Math.exp(-i / decay) * Math.sin((2 * Math.PI * frequency * i) / rate);
  };
  for (let k = 0; 0.3 + k * period < 7.8; k++) {
    burst(0.3 + k * period, 0.8, 1500, 200);
    burst(0.3 + k * period, 0.8, 120, 1000);
    burst(0.3 + (k + 0.6) * period, 0.4, 1500, 200);
  }
  const frontEnd = designedFrontEnd();
  const power = stackRows([trackPower(swung)]);
  const experiment = async () => (await frontEndOutputs(frontEnd, power, device)).tempi[0]!;
  frontEnd.settings.secondTempo = { splitBpm: 999, swingThreshold: 0.5 };
  const envelopes = await frontEndOutputs(frontEnd, power, device);
  const swing = trackSwing(envelopes.onsets.data, envelopes.beats.data, envelopes.tempi[0]![0]);
  assert.ok(swing > 0.55, `swing ${swing}: read as swung`);
  const pairs = [];
  for (const swingThreshold of [swing - 0.001, swing + 0.001]) {
    frontEnd.settings.secondTempo = { splitBpm: 999, swingThreshold };
    const pair = await tempoPairOf(swung, device, { frontEnd });
    assert.equal(pair, await experiment(), `threshold ${swingThreshold}: the CLI's pair is the experiment's`);
    pairs.push(pair);
  }
  assert.equal(pairs, [[pairs[0]![0], pairs[0]![0] / 2], [pairs[0]![0], 2 * pairs[0]![0]]], 'the half above the swing threshold, the double below');
  const run = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'packages/music/src/cli/theorbo.ts'), '--device', 'cpu', 'tempo', audioPath, '--pair'], { cwd: dir, encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim().split(' ').map(Number), [first, second].map((bpm) => Number(bpm.toFixed(2))));
});

test('beats in-process: within 50 ms of clicks, at the click track\'s tempo', async () => {
  const beats = await beatsOf(signal, device);
  assert.ok(Math.abs(beats.tempo - bpm) / bpm < 0.02, `${beats.tempo} BPM`);
  assert.ok(beats.times.length >= clicks.length - 2, `${beats.times.length} beats`);
  for (const time of beats.times) assert.ok(nearestClick(time) < 0.05, `beat at ${time} s`);
});

test('a clip of three frames (under librosa\'s onset shift): no onsets, no beats, the prior\'s tempo, as librosa answers', async () => {
  const short = signal.subarray(Math.round(0.29 * rate), Math.round(0.29 * rate) + 1100);
  assert.equal(Array.from(await onsetTimesOf(short, device)), []);
  assert.is((await beatsOf(short, device)).times.length, 0);
  assert.ok(Math.abs((await tempoOf(short, device)) - 117.45) < 0.01);
});

test('mixClicks adds a click at each time and keeps the mix within [-1, 1]', () => {
  const mixed = mixClicks(signal, [1, 2]);
  assert.is(mixed.length, signal.length);
  assert.ok(mixed.every((value) => Math.abs(value) <= 1));
  const start = Math.round(1.5 * rate);
  assert.ok(Math.abs(mixed[start + 10]! - signal[start + 10]!) < 1e-7, 'no click between the times');
  assert.ok(Math.max(...Array.from(mixClicks(new Float32Array(rate), [0.5]).subarray(Math.round(0.5 * rate), Math.round(0.5 * rate) + 40), Math.abs)) > 0.4);
});

test('theorbo beats --click --figure: times on stdout, the device on stderr, the mixed WAV and the onset figure written', () => {
  const clickPath = join(dir, 'with-clicks.wav');
  const run = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'packages/music/src/cli/theorbo.ts'), '--device', 'cpu', 'beats', audioPath, '--click', clickPath, '--figure', join(dir, 'beats')], { cwd: dir, encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  const times = run.stdout.trim().split('\n').map(Number);
  assert.ok(times.length >= clicks.length - 2, `${times.length} beats`);
  for (const time of times) assert.ok(nearestClick(time) < 0.05, `beat at ${time} s`);
  assert.match(run.stderr, /^device: /m);
  const tempo = Number(/at ([0-9.]+) BPM/.exec(run.stderr)?.[1]);
  assert.ok(Math.abs(tempo - bpm) / bpm < 0.02, run.stderr);
  const written = readWav(readFileSync(clickPath));
  assert.is(written.sampleRate, rate);
  assert.is(written.channels[0]!.length, samples);
  const figure = readFileSync(join(dir, 'beats.svg'), 'utf8');
  assert.is([...figure.matchAll(/stroke-dasharray="4 3"\/>/g)].length, times.length + 1, 'a dashed line per beat, and one in the legend');
  assert.ok(figure.includes('>time (s)</text>') && figure.includes('>onsets</text>') && readFileSync(join(dir, 'beats.png')).length > 1000, 'axes, legend and PNG');
});

test('--n-mels and --n-mfcc take whole numbers from 1 to 512', () => {
  assert.is(melBandsFlag('40'), 40);
  for (const bad of ['0', '513', '4.5', 'x']) assert.throws(() => melBandsFlag(bad), /Expected a whole number from 1 to 512/);
  assert.throws(() => mfccCountFlag('0'), /from 1 to 512/);
});

test.run();
