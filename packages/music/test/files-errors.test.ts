// Bad files, one kind per row: each must raise a FileFormatError (AudioFileError for
// audio) whose message names the file and the reason, and whose `field` names the culprit
// where there is one. Complements the random fuzz (files-fuzz.test.ts) with the cases
// issue 15 lists by name, and checks the boundaries that must still load.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { zipSync } from 'fflate';
import * as T from '@theorbo/graph';
import { AudioFileError, decodeAudio, encodeWav, resample, type Audio } from '../src/audio/index.ts';
import { FileFormatError } from '../src/files/file-format-error.ts';
import { assignSavedWeights, decodeModel, decodeNpz, encodeNpy, encodeNpz, type NamedArrays } from '../src/train/index.ts';
import { buildModel, type ModelConfig } from '../src/model/registry.ts';
import { checkModelConfig } from '../src/model/config-schema.ts';

interface Expected { file: string; reason: RegExp; field?: string; audio?: boolean }

async function expectFileError(action: () => unknown, expected: Expected, label: string): Promise<void> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof FileFormatError, `${label}: expected a FileFormatError, got ${String(caught)}`);
  const error = caught as FileFormatError;
  if (expected.audio) assert.ok(error instanceof AudioFileError, `${label}: an AudioFileError`);
  assert.ok(error.message.includes(expected.file), `${label}: "${error.message}" names ${expected.file}`);
  assert.match(error.message, expected.reason, label);
  if (expected.field !== undefined) assert.is(error.field, expected.field, `${label}: field`);
}

// ---- audio ---------------------------------------------------------------------------

const tone = (channels: number, frames: number, sampleRate: number): Audio =>
  ({ sampleRate, channels: Array.from({ length: channels }, () => Float32Array.from({ length: frames }, (_, i) => 0.5 * Math.sin(i / 3))) });

/** A WAV with its rate field (byte 24) set to `rate`. */
function wavAtRate(rate: number): Uint8Array {
  const bytes = encodeWav(tone(1, 64, 8000));
  bytes.writeUInt32LE(rate, 24);
  return bytes;
}

/** A float32 stereo WAV with `value` at frame 3 of channel 1. */
function floatWavWith(value: number): Uint8Array {
  const audio = tone(2, 16, 8000);
  audio.channels[1]![3] = value;
  return encodeWav(audio, { sampleFormat: 'float' });
}

test('audio: rates outside 1–768 kHz and non-finite or absurd samples are refused, naming the file', async () => {
  const cases: [string, Uint8Array, RegExp, string][] = [
    ['rate-999.wav', wavAtRate(999), /sample rate of 999 Hz; rates from 1000 to 768000 Hz/, 'sampleRate'],
    ['rate-768001.wav', wavAtRate(768_001), /sample rate of 768001 Hz/, 'sampleRate'],
    ['rate-4e9.wav', wavAtRate(0xffffffff), /sample rate of 4294967295 Hz/, 'sampleRate'],
    ['nan.wav', floatWavWith(Number.NaN), /a NaN sample at frame 3 of channel 1/, 'samples'],
    ['inf.wav', floatWavWith(-Infinity), /an infinite sample at frame 3 of channel 1/, 'samples'],
    ['huge.wav', floatWavWith(1e30), /a sample of 1\.0\d*e\+30 at frame 3 of channel 1/, 'samples'],
  ];
  for (const [name, bytes, reason, field] of cases) await expectFileError(() => decodeAudio(bytes, name), { file: name, reason, field, audio: true }, name);
  // The boundaries load.
  assert.is((await decodeAudio(wavAtRate(1000), 'low.wav')).sampleRate, 1000);
  assert.is((await decodeAudio(wavAtRate(768_000), 'high.wav')).sampleRate, 768_000);
  assert.is((await decodeAudio(floatWavWith(1e6), 'loud.wav')).channels[1]![3], 1e6);
});

test('audio: a data chunk that claims more than the file holds, and one cut mid-frame, are errors', async () => {
  const good = encodeWav(tone(2, 32, 8000));
  const lying = Buffer.from(good);
  lying.writeUInt32LE(0xfffffff0, 40); // the data chunk's size
  await expectFileError(() => decodeAudio(lying, 'lying.wav'), { file: 'lying.wav', reason: /truncated: its data chunk declares 4294967280 bytes but only 128 remain/, audio: true }, 'lying');
  const chunkSizeLie = Buffer.from(good);
  chunkSizeLie.writeUInt32LE(0xffffffff, 16); // the fmt chunk's size
  await expectFileError(() => decodeAudio(chunkSizeLie, 'fmt-size.wav'), { file: 'fmt-size.wav', reason: /truncated: it ends inside its 'fmt ' chunk/, audio: true }, 'fmt size');
});

test('resample: a tiny input at an odd rate pair costs no large filter table; bad input is refused', () => {
  // 767 333 → 22 050 Hz reduces to 3150/109619, which once built 3150 × 4460 filter taps
  // for any input (1.8 s for these 3 samples; 22 ms now, through the cached fine table).
  const started = performance.now();
  const out = resample(new Float32Array([0.5, -0.25, 0.125]), 767_333, 22_050);
  const ms = performance.now() - started;
  assert.is(out.length, 1);
  assert.ok(ms < 300, `took ${ms.toFixed(0)} ms for 3 samples`);
  assert.throws(() => resample(Float32Array.from([0, Number.NaN]), 8000, 22050), /sample 1 is NaN/);
  assert.throws(() => resample(new Float32Array(4), 10, 22050), /at most 768/);
});

// ---- npz -----------------------------------------------------------------------------

const weights = (): NamedArrays => ({ w: T.array(new Float32Array([1, 2, 3, 4]), { shape: [2, 2] }) });
/** The offset of the central directory entry's field `at` (bytes past its signature) in a one-member zip. */
const centralField = (zip: Uint8Array, at: number): number => Buffer.from(zip).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + at;

test('npz: CRC, sizes, bombs, duplicates and absurd shapes are refused, naming the member', async () => {
  const stored = Buffer.from(encodeNpz(weights()));
  const dataAt = stored.indexOf(Buffer.from(new Float32Array([1, 2]).buffer));
  const flipped = Buffer.from(stored);
  flipped[dataAt]! ^= 0x40;
  const deflated = Buffer.from(encodeNpz(weights(), { compress: true }));
  const bomb = Buffer.from(deflated);
  bomb.writeUInt32LE(2 ** 31, centralField(bomb, 24)); // uncompressed size
  const shortSize = Buffer.from(deflated);
  shortSize.writeUInt32LE(shortSize.readUInt32LE(centralField(shortSize, 24)) - 1, centralField(shortSize, 24));
  const member = encodeNpy(weights().w!);
  const twice = Buffer.from(zipSync({ 'w.npy': [member, { level: 0 }], 'v.npy': [member, { level: 0 }] }));
  twice.write('w', twice.indexOf('v.npy'), 'latin1');
  twice.write('w', twice.lastIndexOf('v.npy'), 'latin1');
  const hugeShape = Buffer.from(zipSync({ 'w.npy': [Buffer.from(Buffer.from(member).toString('latin1').replace('(2, 2)', '(2, 2199023255552)'), 'latin1'), { level: 0 }] }));
  const cases: [string, Uint8Array, RegExp, string | undefined][] = [
    ['crc.npz', flipped, /member 'w\.npy' whose CRC-32 is 0x[0-9a-f]{8}, not the 0x[0-9a-f]{8} recorded/, 'w.npy'],
    ['bomb.npz', bomb, /claims to inflate \d+ bytes to 2147483648, more than deflate can/, 'w.npy'],
    ['short.npz', shortSize, /inflates to \d+ bytes, not the \d+ it declares/, 'w.npy'],
    ['twice.npz', twice, /holds the member 'w\.npy' twice/, 'w.npy'],
    ['shape.npz', hugeShape, /\(member 'w\.npy'\) has an npy shape \(2, 2199023255552\) holding 2199023255552, not a size below 2\^31/, 'w.npy'],
    ['cut.npz', stored.subarray(0, stored.length - 30), /not an npz file \(not a zip archive|truncated/, undefined],
    ['empty.npz', new Uint8Array(0), /not an npz file/, undefined],
  ];
  for (const [name, bytes, reason, field] of cases) await expectFileError(() => decodeNpz(bytes, name), { file: name, reason, field }, name);
  assert.equal([...decodeNpz(deflated, 'ok.npz').arrays.w!.data], [1, 2, 3, 4]);
});

// ---- model folders -------------------------------------------------------------------

const feature = { sampleRate: 8000, hop: 256, nFft: 512, fmin: 110, nBins: 24, binsPerOctave: 12, dftGain: 1, cqtGain: 100 };
const names = { config: 'm/config.json', weights: 'm/weights.npz' };

function folder(config: ModelConfig, edit: (weights: NamedArrays) => void = () => {}): { config: Uint8Array; weights: Uint8Array; text: string } {
  const model = buildModel(config);
  const arrays: NamedArrays = {};
  for (const param of model.params) arrays[param.name!] = param.get();
  edit(arrays);
  const params = model.params.map((param) => ({ name: param.name!, dtype: param.dtype, shape: [...(param.shape as number[])] }));
  const text = JSON.stringify({ format: 'theorbo-model', version: 1, params, config });
  return { config: new TextEncoder().encode(text), weights: encodeNpz(arrays), text };
}

const load = (bytes: { config: Uint8Array; weights: Uint8Array }, allowNonFinite = false): void => {
  const saved = decodeModel(bytes, names, { validateConfig: checkModelConfig, allowNonFinite });
  assignSavedWeights(buildModel(saved.config).params, saved);
};

test('model folders: NaN weights are refused unless allowed, naming the file and the parameter', async () => {
  const network: ModelConfig = { kind: 'network', feature, hidden: [8], seed: 1 };
  const nan = folder(network, (arrays) => { arrays.weights0!.data[5] = Number.NaN; });
  const name = JSON.parse(nan.text).params[0].name as string;
  assert.is(name, 'weights0');
  await expectFileError(() => load(nan), { file: names.weights, reason: /holds NaN at element 5 of 'weights0'.*allowNonFinite: true/, field: 'weights0' }, 'NaN');
  const inf = folder(network, (arrays) => { arrays.bias0!.data[0] = Infinity; });
  await expectFileError(() => load(inf), { file: names.weights, reason: /holds Infinity at element 0 of 'bias0'/, field: 'bias0' }, 'inf');
  load(nan, true); // asked for: loads
});

test('model folders: config.json is checked field by field against its schema', async () => {
  const cnn: ModelConfig = { kind: 'cnn', feature, seed: 2, cnn: { radius: 1, convolutions: [{ filters: 2, kernel: [3, 3] }], hidden: [4] } };
  const good = folder(cnn);
  load(good);
  const edited = (edit: (record: { config: Record<string, any>; params: Record<string, any>[]; [key: string]: unknown }) => void): { config: Uint8Array; weights: Uint8Array } => {
    const record = JSON.parse(good.text);
    edit(record);
    return { config: new TextEncoder().encode(JSON.stringify(record)), weights: good.weights };
  };
  const cases: [string, { config: Uint8Array; weights: Uint8Array }, RegExp, string | undefined][] = [
    ['not JSON', { config: new TextEncoder().encode('{"format": "theorbo-model", '), weights: good.weights }, /is not valid UTF-8 JSON/, undefined],
    ['format', edited((r) => { r.format = 'keras'; }), /'format' is "keras", not 'theorbo-model'/, 'format'],
    ['version', edited((r) => { r.version = 2; }), /has 'version' 2; this Theorbo reads version 1/, 'version'],
    ['params shape', edited((r) => { r.params[0]!.shape = [-1]; }), /has params\[0\]\.shape \[-1\], not a list/, 'params[0].shape'],
    ['params twice', edited((r) => { r.params[1]!.name = r.params[0]!.name; }), /lists the parameter 'conv0_filters' twice/, 'params[1].name'],
    ['kind', edited((r) => { r.config.kind = 'transformer'; }), /config\.kind = "transformer", not one of 'hand-chroma'/, 'config.kind'],
    ['no feature', edited((r) => { delete r.config.feature; }), /config\.feature missing/, 'config.feature'],
    ['nFft', edited((r) => { r.config.feature.nFft = 1000; }), /config\.feature\.nFft = 1000, not a power of two/, 'config.feature.nFft'],
    ['rate', edited((r) => { r.config.feature.sampleRate = 100; }), /config\.feature\.sampleRate = 100, not an integer from 1000 to 768000/, 'config.feature.sampleRate'],
    ['nyquist', edited((r) => { r.config.feature.nBins = 70; }), /top CQT bin at .* past the Nyquist frequency 4000 Hz/, 'config.feature'],
    ['gain 0', edited((r) => { r.config.feature.cqtGain = 0; }), /config\.feature\.cqtGain = 0, not a positive number/, 'config.feature.cqtGain'],
    ['pool', edited((r) => { r.config.cnn.convolutions[0].pool = [1, 30]; }), /config\.cnn\.convolutions\[0\]\.pool that pools the 24 CQT bins down to none/, 'config.cnn.convolutions[0].pool'],
    ['cnn size', edited((r) => { r.config.cnn = { radius: 256, convolutions: [{ filters: 1024, kernel: [1, 1] }], hidden: [16384] }; }), /config\.cnn that makes a cnn on 24 CQT bins of \d+ weights; at most 16777216/, 'config.cnn'],
    ['crnn size', edited((r) => { r.config.kind = 'crnn'; delete r.config.cnn; r.config.crnn = { cnn: { radius: 1, convolutions: [], hidden: [8] }, gru: 4000, bidirectional: true, chunk: 32, hop: 96 }; }), /config\.crnn that makes a crnn on 24 CQT bins of \d+ weights/, 'config.crnn'],
    ['fir size', edited((r) => { r.config = { kind: 'fir', feature: { ...r.config.feature, sampleRate: 22050, nFft: 2048, nBins: 64, fmin: 5 } }; }), /config\.feature\.fmin = 5 Hz, which with 64 bins makes a fir bank of 128 filters of \d+ taps/, 'config.feature.fmin'],
    ['hidden', edited((r) => { r.config.cnn.hidden = [-1]; }), /config\.cnn\.hidden\[0\] = -1, not an integer from 1/, 'config.cnn.hidden[0]'],
    ['kernel', edited((r) => { r.config.cnn.convolutions[0].kernel = [5, 3]; }), /kernel that spans 5 frames, but only 3 remain/, 'config.cnn.convolutions[0].kernel'],
    ['typo', edited((r) => { r.config.hiden = [8]; }), /config\.hiden, which is not a field of config/, 'config.hiden'],
    ['dropout', edited((r) => { r.config.dropout = 1; }), /config\.dropout = 1, not a rate from 0 to 0\.99/, 'config.dropout'],
    ['string size', edited((r) => { r.config.feature.hop = '256'; }), /config\.feature\.hop = "256", not an integer/, 'config.feature.hop'],
  ];
  for (const [label, bytes, reason, field] of cases) await expectFileError(() => load(bytes), { file: names.config, reason, field }, label);
  // A config whose model the weights do not fit: the rebuilt model is compared before any weight is set.
  await expectFileError(() => load(edited((r) => { r.config.cnn.hidden = [5]; })), { file: names.config, reason: /parameter 'dense0_weights' is float32\[\d+,5\], but m\/weights\.npz holds float32\[\d+,4\]/, field: 'dense0_weights' }, 'other shape');
  const other = folder({ kind: 'learned-chroma', feature });
  await expectFileError(() => load({ config: good.config, weights: other.weights }), { file: names.weights, reason: /lacks the parameter 'conv0_filters'/, field: 'conv0_filters' }, 'other weights');
});

test.run();
