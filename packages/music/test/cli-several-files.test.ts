// Several files or a folder per call (`theorbo chords dir/`, `theorbo chroma a.wav b.wav`,
// mfcc and mel):
// one device for all (its line printed once), outputs beside each input or in --out DIR,
// and a file that cannot be read reported with its path while the others are written,
// the exit status 1. Two short synthesized triads of different lengths, so the graph
// compiled at the first file also runs the second (with Viterbi decoded on the device).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWav } from '../src/audio/index.ts';
import { expandInputs, outputPaths } from '../src/cli/input-files.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'theorbo-several-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const run = (...args: string[]) => {
  const result = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'packages/music/src/cli/main.ts'), ...args], { cwd: dir, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, all: result.stdout + result.stderr };
};

const input = join(dir, 'in');
mkdirSync(input);
const rate = 22050;
const triad = (name: string, notes: readonly number[], seconds: number): string => {
  const samples = new Float32Array(Math.round(rate * seconds));
  for (const midi of notes) {
    const f = 440 * 2 ** ((midi - 69) / 12);
    for (let i = 0; i < samples.length; i++) for (let h = 1; h <= 3; h++) samples[i]! += (0.15 / h) * Math.sin((2 * Math.PI * f * h * i) / rate);
  }
  const path = join(input, `${name}.wav`);
  writeWav(path, { sampleRate: rate, channels: [samples] });
  return path;
};
const cMajor = triad('c-major', [60, 64, 67], 1);
const aMinor = triad('a-minor', [57, 60, 64], 1.5);
writeFileSync(join(input, 'broken.wav'), 'not audio at all');
writeFileSync(join(input, 'notes.txt'), 'not an audio name: left out of the folder');

test('chords on a folder: one device, every readable file\'s .lab in --out, the broken one named, exit 1', () => {
  const out = join(dir, 'labs');
  const result = run('chords', input, '--model', 'templates', '--decode-on', 'device', '--out', out);
  assert.is(result.status, 1, result.all);
  assert.is(result.all.match(/device: /g)?.length, 1, `one device for all files:\n${result.all}`);
  assert.match(result.stderr, /theorbo chords: .*broken\.wav/, 'the unreadable file is named');
  assert.match(result.stderr, /1 of 3 files could not be processed/);
  assert.match(readFileSync(join(out, 'c-major.lab'), 'utf8'), /^0\S* 1\S* C:maj$/m);
  assert.match(readFileSync(join(out, 'a-minor.lab'), 'utf8'), /^0\S* 1\.5\S* A:min$/m, 'the second, longer file ran through the same compiled graph');
  assert.not.ok(existsSync(join(out, 'broken.lab')) || existsSync(join(out, 'notes.lab')));
});

test('chroma on two files: outputs beside each input, exit 0', () => {
  const result = run('chroma', cMajor, aMinor);
  assert.is(result.status, 0, result.all);
  for (const name of ['c-major', 'a-minor']) {
    const csv = readFileSync(join(input, `${name}.csv`), 'utf8').trim().split('\n');
    assert.is(csv[0], 'time,C,Db,D,Eb,E,F,Gb,G,Ab,A,Bb,B');
    assert.ok(existsSync(join(input, `${name}.png`)) && existsSync(join(input, `${name}.svg`)), name);
  }
  const rows = (name: string) => readFileSync(join(input, `${name}.csv`), 'utf8').trim().split('\n').length - 1;
  assert.ok(rows('a-minor') > rows('c-major'), 'each file its own frames');
});

test('mfcc on two files writes a CSV for each into --out DIR; mel on two without --out is refused (stdout holds one)', () => {
  const out = join(dir, 'mfcc');
  const result = run('mfcc', cMajor, aMinor, '--out', out);
  assert.is(result.status, 0, result.all);
  assert.is(result.stderr.match(/device: /g)?.length, 1, result.stderr);
  const rows = (name: string) => readFileSync(join(out, `${name}.csv`), 'utf8').trim().split('\n');
  assert.match(rows('c-major')[0]!, /^time,mfcc0,mfcc1,/);
  assert.ok(rows('a-minor').length > rows('c-major').length, 'each file its own frames');
  const refused = run('mel', cMajor, aMinor);
  assert.is(refused.status, 2, refused.all);
  assert.match(refused.stderr, /mel: with several audio files, --out DIR names the folder/);
});

test('inputs: a folder is its audio files, sorted; outputs that would collide are refused', () => {
  assert.equal(expandInputs('chroma', [input]), { files: ['a-minor.wav', 'broken.wav', 'c-major.wav'].map((name) => join(input, name)), several: true });
  assert.equal(expandInputs('chroma', [cMajor]), { files: [cMajor], several: false });
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  assert.throws(() => expandInputs('chroma', [empty]), /chroma: the folder .*empty holds no audio files/);
  assert.equal(outputPaths('chords', [cMajor], false, undefined, '.lab'), [join(input, 'c-major.lab')]);
  assert.equal(outputPaths('chords', [cMajor], false, join(dir, 'x.lab'), '.lab'), [join(dir, 'x.lab')]);
  assert.throws(() => outputPaths('chords', [cMajor, join(dir, 'c-major.mp3')], true, join(dir, 'o'), '.lab'), /c-major\.wav and .*c-major\.mp3 would both write .*c-major\.lab/);
});

test.run();
