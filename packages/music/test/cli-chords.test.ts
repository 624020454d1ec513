// `theorbo chords` decoding, run as a user runs it (child processes through tsx, on the
// cpu device): four decaying triads with silence between them. Viterbi (the default)
// writes one segment per chord and per silence, in order, with no two neighbouring
// segments alike; `--vocab full --decode-on device --model templates` (Viterbi as a graph
// on the cpu device) writes labels of that vocabulary, runs merged (decodeChordFrames and
// viterbiGraph themselves are tested in eval-viterbi.test.ts); inverted chords with their bass
// degree ('C:maj/3') by default, in root position with --no-inversions; `theorbo transitions`
// counts .lab files and `--transitions` decodes with them, on the host and on the device;
// flags that cannot apply are refused with exit code 2 before any device.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWav } from '../src/audio/index.ts';
import { chordVocabulary, parseLab } from '../src/chords/index.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'theorbo-chords-'));
const run = (...args: string[]) =>
  spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'packages/music/src/cli/theorbo.ts'), '--device', 'cpu', ...args], { cwd: dir, encoding: 'utf8' });

/** C, A:min, F, G (or `chords`, MIDI notes): each 1.6 s of a decaying chord, then 0.4 s of silence. */
function progression(path: string, chords: readonly (readonly number[])[] = [[60, 64, 67], [57, 60, 64], [53, 57, 60], [55, 59, 62]]): void {
  const rate = 22050;
  const samples = new Float32Array(rate * 2 * chords.length);
  chords.forEach((notes, c) => {
    for (const midi of notes) {
      const f = 440 * 2 ** ((midi - 69) / 12);
      for (let i = c * 2 * rate; i < (c * 2 + 1.6) * rate; i++) {
        for (let h = 1; h <= 4; h++) samples[i]! += (0.15 / h) * Math.sin((2 * Math.PI * f * h * i) / rate) * Math.exp(-(i - c * 2 * rate) / rate);
      }
    }
  });
  writeWav(path, { sampleRate: rate, channels: [samples] });
}

const audio = join(dir, 'song.wav');
progression(audio);

test('Viterbi (the default) gives one segment per chord and per silence; --vocab full --decode-on device labels from that vocabulary; runs merged', () => {
  const viterbi = run('chords', audio);
  assert.is(viterbi.status, 0, viterbi.stderr);
  const segments = parseLab(readFileSync(join(dir, 'song.lab'), 'utf8'));
  assert.equal(segments.map((s) => s.label), ['C:maj', 'N', 'A:min', 'N', 'F:maj', 'N', 'G:maj', 'N']);
  segments.forEach((segment, i) => {
    if (i % 2 === 0) assert.ok(Math.abs(segment.start - i) < 0.1 && Math.abs(segment.end - (i + 1.6)) < 0.1, `chord ${i / 2} runs ${segment.start}–${segment.end} s`);
  });
  assert.is(segments[segments.length - 1]!.end, 8);
  // --vocab full, Viterbi as a graph on the device: Harte labels from the 133-class vocabulary, C's chord first.
  const full = run('chords', audio, '--vocab', 'full', '--decode-on', 'device', '--model', 'templates', '--out', join(dir, 'full.lab'));
  assert.is(full.status, 0, full.stderr);
  const fullSegments = parseLab(readFileSync(join(dir, 'full.lab'), 'utf8'));
  // A chord of the vocabulary, with its bass degree where the bass is not the root ('F:maj7/3': the templates' reading of A, C, E over A).
  for (const segment of fullSegments) assert.ok(chordVocabulary('full').labels.includes(segment.label.split('/')[0]!), segment.label);
  assert.match(fullSegments[0]!.label, /^C:/);
  for (const lab of [segments, fullSegments]) lab.forEach((segment, i) => i > 0 && assert.is.not(segment.label, lab[i - 1]!.label, `segments ${i - 1} and ${i} are both ${segment.label}`));
});

test('inversions: C/E, F/C, A:min/C and G are written with their bass degree by default, in root position with --no-inversions', () => {
  const inverted = join(dir, 'inverted.wav');
  progression(inverted, [[52, 60, 67, 72], [48, 53, 57, 65], [48, 57, 64, 69], [43, 55, 59, 62]]);
  const withBass = run('chords', inverted);
  assert.is(withBass.status, 0, withBass.stderr);
  assert.equal(parseLab(readFileSync(join(dir, 'inverted.lab'), 'utf8')).map((s) => s.label), ['C:maj/3', 'N', 'F:maj/5', 'N', 'A:min/b3', 'N', 'G:maj', 'N']);
  const rootPosition = run('chords', inverted, '--no-inversions', '--out', join(dir, 'root.lab'));
  assert.is(rootPosition.status, 0, rootPosition.stderr);
  assert.equal(parseLab(readFileSync(join(dir, 'root.lab'), 'utf8')).map((s) => s.label), ['C:maj', 'N', 'F:maj', 'N', 'A:min', 'N', 'G:maj', 'N']);
});

test('theorbo transitions counts a folder of .lab files; chords --transitions decodes with them (host and device); another vocabulary is refused naming both', () => {
  const labs = join(dir, 'labs');
  mkdirSync(labs, { recursive: true });
  writeFileSync(join(labs, 'a.lab'), '0.0 2.0 C:maj\n2.0 4.0 A:min/b3\n4.0 6.0 F:maj7\n6.0 8.0 G:7\n8.0 8.5 N\n');
  writeFileSync(join(labs, 'b.lab'), '0.0 3.0 G:maj\n3.0 5.0 C:maj\n');
  // Without --vocab, the shipped model's (sevenths), so that chords takes the file as it is.
  const counted = run('transitions', labs, '--out', join(dir, 'sevenths.json'));
  assert.is(counted.status, 0, counted.stderr);
  assert.match(counted.stdout, /2 files, .* sevenths \(61 classes\)/);
  const file = JSON.parse(readFileSync(join(dir, 'sevenths.json'), 'utf8'));
  assert.is(file.format, 'theorbo-chord-transitions');
  const labels = chordVocabulary('sevenths').labels;
  const at = (from: string, to: string) => file.counts[labels.indexOf(from)][labels.indexOf(to)];
  assert.is(at('C:maj', 'A:min'), 1);
  assert.is(at('A:min', 'F:maj7'), 1);
  assert.is(at('G:maj', 'C:maj'), 1);
  assert.is(at('C:maj', 'G:maj'), 0);
  assert.ok(at('C:maj', 'C:maj') > 100, `C:maj stays ${at('C:maj', 'C:maj')} frames`);
  for (const extra of [[], ['--decode-on', 'device']]) {
    const out = join(dir, `learned${extra.length}.lab`);
    const decoded = run('chords', audio, '--transitions', join(dir, 'sevenths.json'), '--out', out, ...extra);
    assert.is(decoded.status, 0, decoded.stderr);
    assert.equal(parseLab(readFileSync(out, 'utf8')).map((s) => s.label), ['C:maj', 'N', 'A:min', 'N', 'F:maj', 'N', 'G:maj', 'N'], extra.join(' '));
  }
  // Transitions that never enter N (counted 0 into N, 1e300 into every chord): no N is written, and host and device agree.
  const classes = labels.length;
  writeFileSync(join(dir, 'no-n.json'), JSON.stringify({ ...file, counts: Array.from({ length: classes }, () => Array.from({ length: classes }, (_, k) => (k === classes - 1 ? 0 : 1e300))) }));
  const withoutN = [[], ['--decode-on', 'device']].map((extra) => {
    const out = join(dir, `no-n${extra.length}.lab`);
    const decoded = run('chords', audio, '--transitions', join(dir, 'no-n.json'), '--no-inversions', '--out', out, ...extra);
    assert.is(decoded.status, 0, decoded.stderr);
    const segments = parseLab(readFileSync(out, 'utf8'));
    assert.ok(segments.every((segment) => segment.label !== 'N'), `${extra.join(' ')}: ${segments.map((segment) => segment.label).join(' ')}`);
    assert.match(segments[0]!.label, /^C:maj/);
    return segments;
  });
  assert.equal(withoutN[1], withoutN[0]);
  for (const extra of [[], ['--decode-on', 'device']]) {
    const mismatch = run('chords', audio, '--vocab', 'majmin', '--transitions', join(dir, 'sevenths.json'), '--out', join(dir, 'x.lab'), ...extra);
    assert.is(mismatch.status, 2, mismatch.stderr);
    assert.match(mismatch.stderr, /--transitions .*sevenths\.json: chord transitions: the counts are over the sevenths vocabulary, the decoder's is majmin/);
    assert.not.match(mismatch.stderr, /device:/);
  }
  writeFileSync(join(dir, 'broken.json'), '{"format": "theorbo-chord-transitions", "version": 7}');
  const broken = run('chords', audio, '--transitions', join(dir, 'broken.json'));
  assert.is(broken.status, 2);
  assert.match(broken.stderr, /--transitions .*broken\.json: chord transitions of version 7/);
  const missing = run('chords', audio, '--transitions', join(dir, 'none.json'));
  assert.is(missing.status, 2);
  assert.match(missing.stderr, /cannot read .*none\.json: ENOENT/);
});

test('decoding flags that cannot apply are refused with exit code 2, naming the flag', () => {
  for (const [args, message] of [
    [['--self-transition', '1'], /--self-transition.*strictly between 0 and 1/],
    [['--decode', 'none', '--self-transition', '0.9'], /--self-transition is Viterbi's parameter; it means nothing with --decode none/],
    [['--decode', 'median', '--decode-on', 'device'], /--decode-on device runs Viterbi as a graph; --decode median runs on the host only/],
    [['--decode', 'median', '--transitions', 'x.json'], /--transitions are Viterbi's; they mean nothing with --decode median/],
    [['--self-transition', '0.95', '--transitions', 'x.json'], /--transitions replaces that matrix/],
  ] as const) {
    const result = run('chords', audio, ...args);
    assert.is(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.not.match(result.stderr, /device:/);
  }
});

test.run();
