// --wav-format: the WAV files the CLI writes (synth --out, beats --click) in the encoding
// the user names. pcm16 and pcm24 are opened by Python's wave module (Debian's python3,
// the strictest common reader: plain PCM only) with the right sample width and frames;
// float is checked in its header (format tag 3, 32 bits, no WAVE_FORMAT_EXTENSIBLE).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav, readWav, wavFormats } from '../src/audio/index.ts';
import { readLab } from '../src/chords/index.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'theorbo-wav-format-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const python = '/usr/bin/python3';
// The reference device: synthesis needs no kernels, so the test pays for no device start.
const synth = (out: string, ...flags: string[]) => {
  const result = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'packages/music/src/cli/main.ts'), '--device', 'reference', 'synth', '--clips', '1', '--source', 'additive', '--out', out, ...flags], { cwd: dir, encoding: 'utf8' });
  assert.is(result.status, 0, result.stdout + result.stderr);
  return result.stdout;
};

test('synth --out --wav-format pcm16|pcm24: Python\'s wave opens each clip with the chosen width and all its frames', () => {
  if (!existsSync(python)) throw new Error(`${python} is missing: scripts/setup.sh installs it (apt-get install python3); this test needs its wave module.`);
  const script = 'import json, sys, wave\nout = []\nfor p in sys.argv[1:]:\n    with wave.open(p, "rb") as w:\n        out.append([w.getcomptype(), w.getsampwidth(), w.getnchannels(), w.getframerate(), w.getnframes(), len(w.readframes(w.getnframes()))])\nprint(json.dumps(out))';
  for (const [format, width] of [['pcm16', 2], ['pcm24', 3]] as const) {
    const out = join(dir, format);
    assert.match(synth(out, '--wav-format', format), new RegExp(`wrote 1 clip to .*${format}`));
    const wavs = readdirSync(out).filter((name) => name.endsWith('.wav'));
    assert.is(wavs.length, 1, `one clip: ${readdirSync(out).join(', ')}`);
    const path = join(out, wavs[0]!);
    const ours = readWav(path);
    const [compression, sampleWidth, channels, rate, frames, bytes] = (JSON.parse(execFileSync(python, ['-c', script, path], { encoding: 'utf8' })) as [string, number, number, number, number, number][])[0]!;
    assert.equal([compression, sampleWidth, channels, rate], ['NONE', width, 1, ours.sampleRate], format);
    assert.is(frames, ours.channels[0]!.length, `${format}: Python reads every frame`);
    assert.is(bytes, frames * width);
    assert.ok(frames > ours.sampleRate, `${format}: a clip of more than a second (${frames} frames)`);
    // The clip's .lab lies beside it and covers its duration.
    const lab = readLab(path.replace(/\.wav$/, '.lab'));
    assert.ok(lab.length > 0 && Math.abs(lab[lab.length - 1]!.end - frames / ours.sampleRate) < 0.05, `${format}: the .lab ends with the audio (${lab[lab.length - 1]?.end} s)`);
  }
  const [sixteen, twentyFour] = ['pcm16', 'pcm24'].map((format) => readWav(join(dir, format, readdirSync(join(dir, format)).find((n) => n.endsWith('.wav'))!)).channels[0]!);
  let worst = 0;
  for (let i = 0; i < sixteen!.length; i++) worst = Math.max(worst, Math.abs(sixteen![i]! - twentyFour![i]!));
  assert.ok(worst <= 1 / 2 ** 15, `the same clip in both widths, to 16-bit precision (worst ${worst})`);
});

test('--wav-format float: a plain header with format tag 3 and 32-bit samples', () => {
  const bytes = encodeWav({ sampleRate: 22050, channels: [Float32Array.from([0.5, -0.25, 1.5])] }, wavFormats.float);
  assert.is(bytes.toString('latin1', 12, 16), 'fmt ');
  assert.equal([bytes.readUInt32LE(16), bytes.readUInt16LE(20), bytes.readUInt16LE(22), bytes.readUInt16LE(34)], [16, 3, 1, 32], 'fmt chunk of 16 bytes, IEEE float, mono, 32 bits');
  assert.equal([bytes.readFloatLE(44), bytes.readFloatLE(48), bytes.readFloatLE(52)], [0.5, -0.25, 1.5], 'samples stored as given');
  const pcm24 = encodeWav({ sampleRate: 22050, channels: [new Float32Array(2), new Float32Array(2)] }, wavFormats.pcm24);
  assert.equal([pcm24.readUInt16LE(20), pcm24.readUInt16LE(22), pcm24.readUInt16LE(34)], [1, 2, 24], 'stereo pcm24: plain PCM header too');
});

test('a bad --wav-format is refused before anything runs, naming the choices', () => {
  const result = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'packages/music/src/cli/main.ts'), 'synth', '--wav-format', 'pcm8', '--out', join(dir, 'never')], { cwd: dir, encoding: 'utf8' });
  assert.is(result.status, 2, result.stderr);
  assert.match(result.stderr, /--wav-format.*pcm16, pcm24, float/);
  assert.not.ok(existsSync(join(dir, 'never')));
});

test.run();
