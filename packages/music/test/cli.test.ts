// The theorbo CLI, run as a user runs it (a child process through tsx): chords and
// chroma of a synthesized C major triad, training a model for one epoch with a
// checkpoint, evaluating and plotting it, and a bad file's error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWav } from '../src/audio/index.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'theorbo-cli-'));
const cli = (...args: string[]): string =>
  execFileSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'packages/music/src/cli/theorbo.ts'), ...args], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function triad(path: string): void {
  const rate = 22050;
  const samples = new Float32Array(rate * 2);
  for (const midi of [60, 64, 67]) {
    const f = 440 * 2 ** ((midi - 69) / 12);
    for (let i = 0; i < samples.length; i++) for (let h = 1; h <= 4; h++) samples[i]! += (0.15 / h) * Math.sin((2 * Math.PI * f * h * i) / rate);
  }
  writeWav(path, { sampleRate: rate, channels: [samples] });
}

test('chords and chroma of a C major triad', () => {
  const audio = join(dir, 'triad.wav');
  triad(audio);
  const chordsOut = cli('chords', audio);
  assert.match(chordsOut, /device: /);
  const lab = readFileSync(join(dir, 'triad.lab'), 'utf8');
  assert.match(lab, /C:maj/, lab);
  cli('chroma', audio, '--out', join(dir, 'triad-chroma'));
  const csv = readFileSync(join(dir, 'triad-chroma.csv'), 'utf8').trim().split('\n');
  assert.is(csv[0], 'time,C,Db,D,Eb,E,F,Gb,G,Ab,A,Bb,B'); // no '#': numpy reads it as a comment
  // numpy's genfromtxt with the header as field names, as a user would read it.
  const columns = execFileSync('/usr/bin/python3', ['-c', 'import numpy, sys; a = numpy.genfromtxt(sys.argv[1], delimiter=",", names=True); print(",".join(a.dtype.names), len(a), float(a["C"].max()))', join(dir, 'triad-chroma.csv')], { encoding: 'utf8' }).trim().split(' ');
  assert.equal(columns, [csv[0]!, String(csv.length - 1), '1.0'], 'numpy sees every column and frame; the max norm puts the strongest pitch class at 1');
  const middle = csv[Math.floor(csv.length / 2)]!.split(',').slice(1).map(Number);
  const top3 = middle.map((v, k) => [v, k] as const).sort((a, b) => b[0] - a[0]).slice(0, 3).map(([, k]) => k).sort((a, b) => a - b);
  assert.equal(top3, [0, 4, 7]);
  assert.ok(existsSync(join(dir, 'triad-chroma.png')));
});

test('train one epoch with a checkpoint, then eval and plot the saved model', () => {
  const out = join(dir, 'model');
  const trained = cli('train', '--model', 'learned-chroma', '--epochs', '1', '--clips', '24', '--source', 'additive', '--out', out);
  assert.match(trained, /trained 1 epochs/);
  assert.ok(existsSync(join(out, 'weights.npz')) && existsSync(join(out, 'config.json')) && existsSync(join(out, 'checkpoint', 'checkpoint.npz')));
  assert.match(trained, /loss curve: .*loss\.svg/);
  const curve = readFileSync(join(out, 'loss.svg'), 'utf8');
  assert.ok(curve.includes('>epoch</text>') && curve.includes('>loss</text>') && curve.includes('>validation loss</text>') && existsSync(join(out, 'loss.png')), 'the loss curve beside the weights: axes, legend, PNG');
  const evaluated = cli('eval', '--model', out, '--clips', '24', '--source', 'additive');
  assert.match(evaluated, /learned-chroma on \d+ test clips, majmin vocabulary: majmin \d+\.\d%/);
  const plotted = cli('plot', join(out, 'weights.npz'), '--out', join(dir, 'plots'));
  assert.match(plotted, /chroma_weights\.png \(float32\[84,12\]\)/);
});

test('a missing audio file is an error naming it', () => {
  try {
    cli('chords', join(dir, 'missing.wav'));
    assert.unreachable('the CLI accepted a missing file');
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? error);
    assert.match(stderr, /missing\.wav/);
  }
});

test.run();
