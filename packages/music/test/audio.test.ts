// Audio in and out: WAV in every encoding we read (written by our writer and, separately,
// built byte by byte), each malformed-file error, the compressed decoders on embedded
// fixtures, mixing to mono, and the resampler's frequency response.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Audio, WavWriteOptions } from '../src/audio/index.ts';
import { encodeWav, loadMono, readAudio, readWav, resample, toMono, writeWav } from '../src/audio/index.ts';
import { flacStereo8k, mp3Mono8k, mp3Stereo8k, oggMono8k } from './audio-fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'theorbo-audio-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => join(dir, name);

const sine = (frequency: number, sampleRate: number, length: number, amplitude = 1): Float32Array =>
  Float32Array.from({ length }, (_, i) => amplitude * Math.sin((2 * Math.PI * frequency * i) / sampleRate));

/** Amplitude of the `frequency` component of y[from..to), by a least-squares sine + cosine fit. */
function amplitudeAt(y: Float32Array, frequency: number, sampleRate: number, from = 0, to = y.length): number {
  let ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
  for (let i = from; i < to; i++) {
    const s = Math.sin((2 * Math.PI * frequency * i) / sampleRate);
    const c = Math.cos((2 * Math.PI * frequency * i) / sampleRate);
    ss += s * s; cc += c * c; sc += s * c; ys += y[i]! * s; yc += y[i]! * c;
  }
  const det = ss * cc - sc * sc;
  return Math.hypot((ys * cc - yc * sc) / det, (yc * ss - ys * sc) / det);
}

const rms = (y: Float32Array, from = 0, to = y.length): number => {
  let sum = 0;
  for (let i = from; i < to; i++) sum += y[i]! ** 2;
  return Math.sqrt(sum / (to - from));
};

/** Expects `action` to throw an error whose message contains every fragment. */
async function expectError(action: () => unknown, ...fragments: string[]): Promise<void> {
  let message: string | undefined;
  try {
    await action();
  } catch (error) {
    message = (error as Error).message;
  }
  assert.ok(message !== undefined, `expected an error mentioning ${fragments.join(', ')}`);
  for (const fragment of fragments) assert.ok(message!.includes(fragment), `error "${message}" should mention "${fragment}"`);
}

// ---- WAV through our writer ----------------------------------------------------------

/** Values exactly representable at `bits` (k / 2^(bits-1)), so the round trip must be exact. */
function gridAudio(bits: number, channelCount: number, frames: number, sampleRate: number): Audio {
  const full = 2 ** Math.min(bits - 1, 23); // float32 holds 24 significant bits
  const channels = Array.from({ length: channelCount }, (_, c) =>
    Float32Array.from({ length: frames }, (_, i) => Math.round(Math.sin(i * 0.37 + c) * 0.9 * full) / full));
  if (frames > 2) { channels[0]![0] = -1; channels[0]![1] = (full - 1) / full; } // both extremes
  return { sampleRate, channels };
}

const encodings: [string, WavWriteOptions, number][] = [
  ['8-bit PCM', { bitDepth: 8 }, 8],
  ['16-bit PCM (default)', {}, 16],
  ['24-bit PCM', { bitDepth: 24 }, 24],
  ['32-bit PCM', { bitDepth: 32 }, 32],
  ['32-bit float', { sampleFormat: 'float' }, 32],
  ['64-bit float', { sampleFormat: 'float', bitDepth: 64 }, 64],
  ['16-bit PCM, WAVE_FORMAT_EXTENSIBLE', { extensible: true }, 16],
  ['32-bit float, plain header', { sampleFormat: 'float', extensible: false }, 32],
];
for (const [name, options, bits] of encodings) {
  for (const [channelCount, sampleRate] of [[1, 8000], [2, 44100], [6, 96000]] as const) {
    test(`WAV round trip: ${name}, ${channelCount} channel(s) at ${sampleRate} Hz`, () => {
      const audio = gridAudio(bits, channelCount, 301, sampleRate);
      const path = file(`grid-${bits}-${channelCount}-${name.length}.wav`);
      writeWav(path, audio, options);
      const back = readWav(path);
      assert.is(back.sampleRate, sampleRate);
      assert.is(back.channels.length, channelCount);
      back.channels.forEach((channel, c) => assert.equal(Array.from(channel), Array.from(audio.channels[c]!), `channel ${c}`));
    });
  }
}

test('WAV PCM quantization: values off the grid come back within half a step, and clip', () => {
  const values = Float32Array.from([0.3, -0.7, 0.123456, 1.5, -2, 0.99999]);
  for (const bits of [8, 16, 24] as const) {
    const back = readWav(encodeWav({ sampleRate: 1000, channels: [values] }, { bitDepth: bits })).channels[0]!;
    const step = 1 / 2 ** (bits - 1);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(back[i]! - values[i]!) <= step / 2 + 1e-9, `${bits}-bit sample ${i}`);
    assert.is(back[3], 1 - step, `${bits}-bit clips +1.5 to the largest step`);
    assert.is(back[4], -1, `${bits}-bit clips -2 to -1`);
  }
});

test('WAV header fields: 16-bit stereo, 24-bit mono and float plain; six channels extensible', () => {
  const plain = encodeWav({ sampleRate: 44100, channels: [new Float32Array(10), new Float32Array(10)] });
  assert.is(plain.length, 44 + 40);
  assert.is(plain.readUInt16LE(20), 1); // PCM
  assert.is(plain.readUInt32LE(28), 44100 * 4); // byte rate
  assert.is(plain.readUInt16LE(32), 4); // block align
  assert.is(plain.readUInt32LE(40), 40); // data bytes
  const twentyFour = encodeWav({ sampleRate: 22050, channels: [new Float32Array(3)] }, { bitDepth: 24 });
  assert.is(twentyFour.readUInt16LE(20), 1); // PCM, not WAVE_FORMAT_EXTENSIBLE
  assert.is(twentyFour.readUInt16LE(34), 24);
  assert.is(twentyFour.length, 44 + 9 + 1); // odd data length gets a pad byte
  const float = encodeWav({ sampleRate: 22050, channels: [new Float32Array(3), new Float32Array(3)] }, { sampleFormat: 'float' });
  assert.is(float.readUInt16LE(20), 3); // IEEE float
  const six = encodeWav({ sampleRate: 22050, channels: Array.from({ length: 6 }, () => new Float32Array(3)) }, { bitDepth: 24 });
  assert.is(six.readUInt16LE(20), 0xfffe);
  assert.is(six.readUInt16LE(44), 1); // subformat: PCM
  assert.is(readWav(six).channels[5]!.length, 3);
});

// Python's standard wave module (Debian's python3) reads plain PCM only: it is the
// strictest common reader, so a file it opens opens in the others.
const python = '/usr/bin/python3';
test('Python\'s wave module opens written 16- and 24-bit PCM files and reads back the same frames', () => {
  if (!existsSync(python)) throw new Error(`${python} is missing: scripts/setup.sh installs it (apt-get install python3); this test needs its wave module.`);
  const script = [
    'import json, sys, wave',
    'out = []',
    'for path in sys.argv[1:]:',
    '    with wave.open(path, "rb") as w:',
    '        n, width, channels = w.getnframes(), w.getsampwidth(), w.getnchannels()',
    '        raw = w.readframes(n)',
    '        values = [int.from_bytes(raw[i:i + width], "little", signed=True) for i in range(0, len(raw), width)]',
    '        out.append({"rate": w.getframerate(), "channels": channels, "width": width, "frames": n, "values": values})',
    'print(json.dumps(out))',
  ].join('\n');
  const cases = [[16, 1, 8000], [16, 2, 44100], [24, 1, 22050], [24, 2, 48000]] as const;
  const paths = cases.map(([bits, channelCount, sampleRate]) => {
    const path = file(`python-${bits}-${channelCount}.wav`);
    writeWav(path, gridAudio(bits, channelCount, 257, sampleRate), { bitDepth: bits });
    return path;
  });
  const read = JSON.parse(execFileSync(python, ['-c', script, ...paths], { encoding: 'utf8' })) as { rate: number; channels: number; width: number; frames: number; values: number[] }[];
  cases.forEach(([bits, channelCount, sampleRate], i) => {
    const audio = gridAudio(bits, channelCount, 257, sampleRate);
    const got = read[i]!;
    assert.equal([got.rate, got.channels, got.width, got.frames], [sampleRate, channelCount, bits / 8, 257], `${bits}-bit, ${channelCount} channel(s)`);
    const interleaved = Array.from({ length: 257 * channelCount }, (_, k) => Math.round(audio.channels[k % channelCount]![Math.floor(k / channelCount)]! * 2 ** (bits - 1)));
    assert.equal(got.values, interleaved, `${bits}-bit, ${channelCount} channel(s): the frames`);
  });
});

test('writeWav writes atomically: no temporary files are left, an existing file is replaced', () => {
  const path = file('atomic.wav');
  writeFileSync(path, 'old contents');
  writeWav(path, { sampleRate: 8000, channels: [sine(440, 8000, 100, 0.5)] });
  assert.is(readWav(path).channels[0]!.length, 100);
  assert.equal(readdirSync(dir).filter((name) => name.includes('atomic')), ['atomic.wav']);
});

test('writeWav refuses bad options and audio, naming the problem', async () => {
  const audio = { sampleRate: 8000, channels: [new Float32Array(4)] };
  await expectError(() => writeWav(file('x.wav'), audio, { bitDepth: 12 as 16 }), 'writeWav', '12');
  await expectError(() => writeWav(file('x.wav'), audio, { sampleFormat: 'float', bitDepth: 16 }), 'float', '16');
  await expectError(() => writeWav(file('x.wav'), { sampleRate: 44100.5, channels: [new Float32Array(4)] }), '44100.5');
  await expectError(() => writeWav(file('x.wav'), { sampleRate: 8000, channels: [new Float32Array(4), new Float32Array(3)] }), 'channel 1');
  await expectError(() => writeWav(join(dir, 'no-such-dir', 'x.wav'), audio), 'writeWav', 'no-such-dir', 'does not exist');
});

// ---- WAV built by hand, independent of the writer ---------------------------------------

/** A RIFF/WAVE file from raw chunks, each [id, body]; bodies of odd length get a pad byte. */
function riff(chunks: [string, Buffer][], type = 'WAVE'): Buffer {
  const parts = chunks.map(([id, body]) => {
    const header = Buffer.alloc(8);
    header.write(id, 0, 'latin1');
    header.writeUInt32LE(body.length, 4);
    return Buffer.concat([header, body, Buffer.alloc(body.length % 2)]);
  });
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(4 + parts.reduce((sum, part) => sum + part.length, 0), 4);
  head.write(type, 8, 'latin1');
  return Buffer.concat([head, ...parts]);
}

function fmt(formatCode: number, channels: number, sampleRate: number, bits: number): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt16LE(formatCode, 0);
  body.writeUInt16LE(channels, 2);
  body.writeUInt32LE(sampleRate, 4);
  body.writeUInt32LE((sampleRate * channels * bits) / 8, 8);
  body.writeUInt16LE((channels * bits) / 8, 12);
  body.writeUInt16LE(bits, 14);
  return body;
}

function fmtExtensible(subformat: number, channels: number, sampleRate: number, bits: number): Buffer {
  const body = Buffer.alloc(40);
  fmt(0xfffe, channels, sampleRate, bits).copy(body);
  body.writeUInt16LE(22, 16);
  body.writeUInt16LE(bits, 18);
  body.writeUInt32LE(3, 20);
  body.writeUInt16LE(subformat, 24);
  Buffer.from('000000001000800000aa00389b71', 'hex').copy(body, 26);
  return body;
}

test('hand-built WAVs: 8-bit unsigned, 16-bit stereo interleaving, 24-bit sign extension, float in EXTENSIBLE', () => {
  const eight = readWav(riff([['fmt ', fmt(1, 1, 11025, 8)], ['data', Buffer.from([0, 64, 128, 192, 255])]]));
  assert.is(eight.sampleRate, 11025);
  assert.equal(Array.from(eight.channels[0]!), [-1, -0.5, 0, 0.5, 127 / 128]);

  const stereo = Buffer.alloc(8);
  [16384, -32768, -8192, 32767].forEach((value, i) => stereo.writeInt16LE(value, 2 * i));
  const sixteen = readWav(riff([['fmt ', fmt(1, 2, 48000, 16)], ['data', stereo]]));
  assert.equal(Array.from(sixteen.channels[0]!), [0.5, -0.25]);
  assert.equal(Array.from(sixteen.channels[1]!), [-1, 32767 / 32768]);

  const bytes24 = Buffer.from([0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0x00, 0x00, 0x40]); // -2^23, -1, 2^22
  const twentyFour = readWav(riff([['fmt ', fmt(1, 1, 8000, 24)], ['data', bytes24]]));
  assert.equal(Array.from(twentyFour.channels[0]!), [-1, -1 / 8388608, 0.5]);

  const floats = Buffer.alloc(12);
  [0.25, -0.75, 1.5].forEach((value, i) => floats.writeFloatLE(value, 4 * i));
  const float = readWav(riff([['fmt ', fmtExtensible(3, 3, 22050, 32)], ['data', floats]]));
  assert.equal(float.channels.map((channel) => channel[0]), [0.25, -0.75, 1.5]);

  const doubles = Buffer.alloc(16);
  doubles.writeDoubleLE(0.1, 0);
  doubles.writeDoubleLE(-0.5, 8);
  assert.equal(Array.from(readWav(riff([['fmt ', fmt(3, 1, 8000, 64)], ['data', doubles]])).channels[0]!), [Math.fround(0.1), -0.5]);
});

test('hand-built WAV: odd-sized chunks before and after fmt are skipped with their pad byte', () => {
  const data = Buffer.alloc(4);
  data.writeInt16LE(-16384, 0);
  data.writeInt16LE(8192, 2);
  const bytes = riff([['JUNK', Buffer.from('abc')], ['fmt ', fmt(1, 1, 8000, 16)], ['LIST', Buffer.from('INFOisft')], ['data', data]]);
  assert.equal(Array.from(readWav(bytes).channels[0]!), [-0.5, 0.25]);
  // The same file in memory at an odd byte offset (16-bit samples not aligned to a typed view).
  const shifted = Buffer.concat([Buffer.from([7]), bytes]).subarray(1);
  assert.is(shifted.byteOffset % 2, 1);
  assert.equal(Array.from(readWav(shifted).channels[0]!), [-0.5, 0.25]);
});

// ---- WAV errors ----------------------------------------------------------------------

test('WAV errors name the file and the problem', async () => {
  const good = encodeWav({ sampleRate: 8000, channels: [sine(440, 8000, 1000, 0.5)] });
  const write = (name: string, bytes: Uint8Array | string): string => { writeFileSync(file(name), bytes); return file(name); };
  const cases: [string, string, string[]][] = [
    ['missing', file('missing.wav'), ['missing.wav', 'does not exist']],
    ['empty', write('empty.wav', ''), ['empty.wav', 'empty']],
    ['text', write('text.wav', 'hello, this is not audio'), ['text.wav', 'not a RIFF/WAVE file']],
    ['AVI', write('avi.wav', riff([['hdrl', Buffer.alloc(4)]], 'AVI ')), ['avi.wav', 'not a RIFF/WAVE file', 'AVI']],
    ['cut in RIFF header', write('cut-riff.wav', good.subarray(0, 8)), ['cut-riff.wav', 'truncated', 'RIFF header']],
    ['cut in fmt chunk', write('cut-fmt.wav', good.subarray(0, 30)), ['cut-fmt.wav', 'truncated', "'fmt '"]],
    ['cut in data chunk', write('cut-data.wav', good.subarray(0, good.length - 100)), ['cut-data.wav', 'truncated', '2000 bytes', '1900']],
    ['cut in chunk header', write('cut-chunk.wav', good.subarray(0, 40)), ['cut-chunk.wav', 'truncated', 'chunk header']],
    ['A-law', write('alaw.wav', riff([['fmt ', fmt(6, 1, 8000, 8)], ['data', Buffer.alloc(10)]])), ['alaw.wav', 'unsupported encoding', '0x0006', 'A-law']],
    ['μ-law', write('ulaw.wav', riff([['fmt ', fmt(7, 1, 8000, 8)], ['data', Buffer.alloc(10)]])), ['ulaw.wav', '0x0007', 'μ-law']],
    ['IMA ADPCM', write('adpcm.wav', riff([['fmt ', fmt(0x11, 1, 8000, 4)], ['data', Buffer.alloc(10)]])), ['adpcm.wav', '0x0011', 'IMA ADPCM']],
    ['μ-law in EXTENSIBLE', write('ext-ulaw.wav', riff([['fmt ', fmtExtensible(7, 1, 8000, 8)], ['data', Buffer.alloc(10)]])), ['ext-ulaw.wav', '0x0007']],
    ['12-bit PCM', write('pcm12.wav', riff([['fmt ', fmt(1, 1, 8000, 12)], ['data', Buffer.alloc(10)]])), ['pcm12.wav', '12-bit PCM']],
    ['data before fmt', write('order.wav', riff([['data', Buffer.alloc(4)], ['fmt ', fmt(1, 1, 8000, 16)]])), ['order.wav', "before any 'fmt '"]],
    ['no data chunk', write('nodata.wav', riff([['fmt ', fmt(1, 1, 8000, 16)]])), ['nodata.wav', "no 'data' chunk"]],
    ['partial frame', write('partial.wav', riff([['fmt ', fmt(1, 2, 8000, 16)], ['data', Buffer.alloc(6)]])), ['partial.wav', '6 bytes', '4-byte frames']],
  ];
  for (const [name, path, fragments] of cases) {
    await expectError(() => readWav(path), 'readWav', ...fragments);
    if (name !== 'text') await expectError(() => readAudio(path), ...fragments); // text is not any known format
  }
  await expectError(() => readAudio(file('text.wav')), 'text.wav', 'not a WAV, FLAC, Ogg Vorbis or MP3 file');
  await expectError(() => readWav(Buffer.alloc(0), 'an in-memory clip'), 'an in-memory clip', 'empty');
});

// ---- compressed formats --------------------------------------------------------------

test('readAudio decodes FLAC losslessly (stereo, 8 kHz, the fixture\'s exact samples)', async () => {
  writeFileSync(file('tone.flac'), flacStereo8k);
  const audio = await readAudio(file('tone.flac'));
  assert.is(audio.sampleRate, 8000);
  assert.is(audio.channels.length, 2);
  assert.is(audio.channels[0]!.length, 2000);
  // The source was Python's round(amplitude · 32767 · sin(2π·440·i/8000)) as 16-bit PCM;
  // Python rounds halves to even (sample 50 is −16383.5 → −16384).
  const roundHalfEven = (x: number): number => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));
  audio.channels.forEach((channel, c) => {
    const amplitude = c === 0 ? 0.5 : 0.25;
    for (let i = 0; i < 2000; i++) {
      const expected = roundHalfEven(amplitude * 32767 * Math.sin((2 * Math.PI * 440 * i) / 8000)) / 32768;
      if (Math.abs(channel[i]! - expected) > 1e-7) assert.unreachable(`channel ${c} sample ${i}: ${channel[i]} vs ${expected}`);
    }
  });
});

test('readAudio decodes Ogg Vorbis (mono, 8 kHz, a 440 Hz tone at amplitude 0.5)', async () => {
  writeFileSync(file('tone.ogg'), oggMono8k);
  const audio = await readAudio(file('tone.ogg'));
  assert.is(audio.sampleRate, 8000);
  assert.is(audio.channels.length, 1);
  assert.is(audio.channels[0]!.length, 2000);
  const middle = [500, 1500] as const;
  const amplitude = amplitudeAt(audio.channels[0]!, 440, 8000, ...middle);
  assert.ok(Math.abs(amplitude - 0.5) < 0.05, `440 Hz amplitude ${amplitude}`);
  assert.ok(amplitudeAt(audio.channels[0]!, 880, 8000, ...middle) < 0.02, 'no energy at 880 Hz');
});

test('readAudio decodes MP3, mono and stereo, keeping the stream\'s channel count', async () => {
  writeFileSync(file('mono.mp3'), mp3Mono8k);
  writeFileSync(file('stereo.mp3'), mp3Stereo8k);
  const mono = await readAudio(file('mono.mp3'));
  const stereo = await readAudio(file('stereo.mp3'));
  assert.is(mono.channels.length, 1);
  assert.is(stereo.channels.length, 2);
  for (const audio of [mono, stereo]) {
    assert.is(audio.sampleRate, 8000);
    // MP3 adds the encoder's delay and padding: at least the 2000 source frames, whole 576-sample frames.
    assert.ok(audio.channels[0]!.length >= 2000 && audio.channels[0]!.length % 576 === 0, `length ${audio.channels[0]!.length}`);
  }
  // Find the tone by its energy rather than by position, since the delay shifts it.
  const left = amplitudeAt(stereo.channels[0]!, 440, 8000);
  const right = amplitudeAt(stereo.channels[1]!, 440, 8000);
  assert.ok(Math.abs(right / left - 0.5) < 0.1, `right/left amplitude ${right / left}`);
  assert.ok(amplitudeAt(mono.channels[0]!, 440, 8000) > 10 * amplitudeAt(mono.channels[0]!, 1000, 8000), 'mono has its energy at 440 Hz');
});

test('compressed-format errors name the file and the problem', async () => {
  const write = (name: string, bytes: Uint8Array): string => { writeFileSync(file(name), bytes); return file(name); };
  await expectError(() => readAudio(write('cut.flac', flacStereo8k.subarray(0, 300))), 'readAudio', 'cut.flac', 'FLAC', 'truncated or corrupt');
  await expectError(() => readAudio(write('cut.ogg', oggMono8k.subarray(0, 200))), 'readAudio', 'cut.ogg', 'Ogg Vorbis', 'truncated or corrupt');
  await expectError(() => readAudio(write('junk.mp3', Buffer.concat([Buffer.from('ID3\x03\x00\x00\x00\x00\x00\x00'), Buffer.alloc(64, 7)]))), 'readAudio', 'junk.mp3', 'MP3');
  const opus = Buffer.concat([Buffer.from('OggS'), Buffer.alloc(24), Buffer.from('OpusHead'), Buffer.alloc(11)]);
  await expectError(() => readAudio(write('voice.opus', opus)), 'voice.opus', 'Opus', 'only Ogg Vorbis');
  await expectError(() => readAudio(file('absent.flac')), 'absent.flac', 'does not exist');
});

// ---- mono and resampling -------------------------------------------------------------

test('toMono averages the channels and hands back a mono channel as it is', () => {
  const left = Float32Array.from([1, 0.5, -1]);
  const right = Float32Array.from([0, 0.5, 1]);
  assert.equal(Array.from(toMono({ sampleRate: 1, channels: [left, right] })), [0.5, 0.5, 0]);
  assert.is(toMono({ sampleRate: 1, channels: [left] }), left);
});

test('loadMono reads, mixes down and resamples to 22050 Hz by default', async () => {
  const left = sine(1000, 44100, 4410, 0.8);
  const right = new Float32Array(4410);
  writeWav(file('stereo44k.wav'), { sampleRate: 44100, channels: [left, right] }, { sampleFormat: 'float' });
  const mono = await loadMono(file('stereo44k.wav'));
  assert.is(mono.length, 2205);
  const amplitude = amplitudeAt(mono, 1000, 22050, 500, 1700);
  assert.ok(Math.abs(amplitude - 0.4) < 1e-3, `amplitude ${amplitude}`);
  assert.is((await loadMono(file('stereo44k.wav'), 16000)).length, Math.ceil((4410 * 16000) / 44100));
});

// [from, to] pairs: exact polyphase (L = 1, L = 147, L = 441) and the interpolated-table path.
const ratePairs: [number, number][] = [[44100, 22050], [48000, 22050], [16000, 22050], [44100, 22051], [22050, 8000.5]];
for (const [from, to] of ratePairs) {
  test(`resample ${from} → ${to} Hz: length, passband within 0.1 dB, stopband ≥ 60 dB down`, () => {
    const length = Math.round(from * 0.4);
    const nyquist = Math.min(from, to) / 2;
    const passed = resample(sine(0.8 * nyquist, from, length), from, to);
    assert.is(passed.length, Math.ceil((length * to) / from));
    const middle = [Math.floor(passed.length * 0.3), Math.floor(passed.length * 0.7)] as const;
    for (const fraction of [0.1, 0.5, 0.8, 0.9]) {
      const out = resample(sine(fraction * nyquist, from, length), from, to);
      const gainDb = 20 * Math.log10(amplitudeAt(out, fraction * nyquist, to, ...middle));
      assert.ok(Math.abs(gainDb) <= 0.1, `${fraction} of Nyquist: gain ${gainDb.toFixed(4)} dB`);
    }
    if (to < from) {
      // Tones between the new Nyquist and the old must not alias into the output.
      for (const fraction of [1.0, 1.05, 1.5]) {
        const frequency = fraction * nyquist * (fraction === 1 ? 1.001 : 1);
        if (frequency >= from / 2) continue;
        const out = resample(sine(frequency, from, length), from, to);
        const attenuationDb = 20 * Math.log10(rms(out, ...middle) * Math.SQRT2);
        assert.ok(attenuationDb <= -60, `${frequency.toFixed(0)} Hz leaks at ${attenuationDb.toFixed(1)} dB`);
      }
    } else {
      // Upsampling must not create the image at (input rate − f).
      const frequency = 0.5 * nyquist;
      const out = resample(sine(frequency, from, length), from, to);
      const imageDb = 20 * Math.log10(amplitudeAt(out, from - frequency, to, ...middle));
      assert.ok(imageDb <= -60, `image at ${from - frequency} Hz is at ${imageDb.toFixed(1)} dB`);
    }
  });
}

test('resample: the WebAssembly polyphase sums equal the JS ones, value for value, on this signal (down, up, odd ratios, an odd length; the sums differ only in order, so another signal could show one-ulp differences)', () => {
  const length = 60001;
  const signal = new Float32Array(length);
  let seed = 1;
  for (let i = 0; i < length; i++) { seed = (seed * 16807) % 2147483647; signal[i] = seed / 2147483647 - 0.5; }
  for (const [from, to] of [[44100, 22050], [48000, 22050], [22050, 44100], [16000, 22050], [8000, 22050]] as const) {
    const wasm = resample(signal, from, to);
    const js = resample(signal, from, to, { wasm: false });
    assert.is(wasm.length, js.length, `${from} → ${to}: length`);
    let differing = 0;
    for (let i = 0; i < js.length; i++) if (wasm[i] !== js[i]) differing++;
    assert.is(differing, 0, `${from} → ${to}: ${differing} of ${js.length} outputs differ`);
  }
});

test('resample: equal rates copy, empty stays empty, bad rates are refused', async () => {
  const signal = Float32Array.from([1, 2, 3]);
  const same = resample(signal, 8000, 8000);
  assert.equal(Array.from(same), [1, 2, 3]);
  assert.is.not(same, signal);
  assert.is(resample(new Float32Array(0), 44100, 22050).length, 0);
  await expectError(() => resample(signal, 0, 8000), 'resample', 'fromRate');
  await expectError(() => resample(signal, 8000, Number.NaN), 'resample', 'toRate');
});

test.run();
