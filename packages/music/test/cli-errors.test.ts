// The theorbo CLI refusing what it cannot run, as a user meets it (a child process
// through tsx): each bad flag exits with code 2 and one line naming the flag, before any
// device is acquired; `train` refuses to replace a run without --force, refuses a folder
// locked by a live run (naming its pid), takes over a dead run's lock, and --resume with
// more epochs continues a finished run. Training runs are tiny (3 clips, 1–2 epochs, on
// the reference device), and the tests, each in its own folder, all start at once to
// keep the file fast.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { clipsFlag, epochsFlag, hiddenFlag, oddFrames, oneOf, openProbability, probability, seedFlag, sourceFlag, synthClipsFlag } from '../src/cli/flags.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'theorbo-cli-errors-'));

interface Outcome { code: number; stdout: string; stderr: string }
const cli = (...args: string[]): Promise<Outcome> => new Promise((resolve) => {
  execFile(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'packages/music/src/cli/theorbo.ts'), ...args], { cwd: dir, encoding: 'utf8' }, (error, stdout, stderr) => {
    resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
  });
});
/** Starts a test's body now, so that all bodies run at once; the test awaits its own. */
function concurrentTest(title: string, body: () => Promise<void>): void {
  const running = body();
  running.catch(() => {}); // reported by the test that awaits it, not as an unhandled rejection
  test(title, () => running);
}
const tiny = ['--device', 'reference', '--model', 'learned-chroma', '--clips', '3', '--source', 'additive'];

// [arguments, the flag the message must name]: one child process each, so the list keeps
// to one case per kind of refusal; the parsers' ranges are checked in-process below.
const badFlags: [string[], string][] = [
  [['synth', '--clips', '1e20'], '--clips'],
  [['train', '--out', 'never', '--clips', '0'], '--clips'],
  [['train', '--out', 'never', '--hidden', '0'], '--hidden'],
  [['train', '--out', 'never', '--epochs', '-3'], '--epochs'],
  [['demo', '--epochs', '1.5'], '--epochs'],
  [['eval', '--source', 'bogus'], '--source'],
  [['train', '--out', 'never', '--model', 'bogus'], '--model'],
  [['train', '--device', 'tpu', '--out', 'never'], '--device'],
  [['train'], '--out'],
  [['train', '--out', 'never', '--resume', '--force'], '--force'],
];

test('the flag parsers accept plain whole numbers in range and the listed words, and nothing else', () => {
  const refused = (parse: (value: string) => unknown, value: string): void => {
    assert.throws(() => parse(value), (error: Error) => error instanceof InvalidArgumentError, `'${value}' was accepted`);
  };
  for (const value of ['0', '2', '-1', '1.5', '3.0', '1e3', '0x10', '', ' ', 'ten', '100001', '1e20']) refused(clipsFlag, value);
  assert.is(clipsFlag('3'), 3);
  assert.is(clipsFlag('100000'), 100_000);
  assert.is(synthClipsFlag('1'), 1);
  for (const value of ['0', '-3', '1.5', 'Infinity']) refused(epochsFlag, value);
  assert.is(epochsFlag('1'), 1);
  refused(seedFlag, '-1');
  refused(seedFlag, String(2 ** 32));
  assert.is(seedFlag('0'), 0);
  for (const value of ['0', '256,0', '256,x', '256,,64', '', '70000']) refused(hiddenFlag, value);
  assert.equal(hiddenFlag('256,64'), [256, 64]);
  for (const value of ['bogus', 'Additive', '']) refused(sourceFlag, value);
  assert.is(sourceFlag('both'), 'both');
  refused(oneOf(['gpu', 'reference']), 'tpu');
  // Probabilities as plain decimals: open (0, 1) for Viterbi's self-transition, closed [0, 1] for N's share.
  for (const value of ['0', '1', '1.0', '-0.5', '1.5', '9e-1', '', 'half', '.']) refused(openProbability, value);
  assert.is(openProbability('0.9'), 0.9);
  assert.is(openProbability('.95'), 0.95);
  for (const value of ['-0.1', '1.01', '2', '1e-1', '']) refused(probability, value);
  assert.equal(['0', '1', '0.25', '1.0'].map(probability), [0, 1, 0.25, 1]);
  for (const value of ['0', '4', '-1', '1.5', '10003']) refused(oddFrames, value);
  assert.is(oddFrames('9'), 9);
});

concurrentTest('each bad flag exits with code 2 and one line naming the flag, before acquiring a device', async () => {
  const outcomes = await Promise.all(badFlags.map(([args]) => cli(...args)));
  outcomes.forEach(({ code, stdout, stderr }, i) => {
    const [args, flag] = badFlags[i]!;
    const what = `theorbo ${args.join(' ')}: exit ${code}, stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)}`;
    assert.is(code, 2, what);
    assert.ok(stderr.includes(flag), what);
    assert.is(stderr.trim().split('\n').length, 1, what);
    assert.not.match(stderr, /\n\s+at /, what);
    assert.not.match(stderr, /THEORBO_DEVICE/, what);
    assert.is(stdout, '', what); // no "device: …" line: the device was never acquired
  });
  assert.not.ok(existsSync(join(dir, 'never')), 'a refused train created its --out');});

concurrentTest('train refuses to replace a run without --force, and replaces it with --force', async () => {
  const out = join(dir, 'forced');
  const first = await cli('train', ...tiny, '--epochs', '1', '--out', out);
  assert.is(first.code, 0, first.stderr);
  const again = await cli('train', ...tiny, '--epochs', '1', '--out', out);
  assert.is(again.code, 2, again.stderr);
  assert.match(again.stderr, /already holds a run \(config\.json, weights\.npz, checkpoint/);
  assert.match(again.stderr, /--force/);
  assert.is(again.stdout, '');
  const forced = await cli('train', ...tiny, '--epochs', '1', '--out', out, '--force');
  assert.is(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /trained 1 epochs;/);
  assert.not.ok(existsSync(join(out, 'train.lock')), 'the lock outlived its run');});

concurrentTest('a folder locked by a live run is refused with its pid; a dead run\'s lock is taken over', async () => {
  const out = join(dir, 'locked');
  mkdirSync(out);
  writeFileSync(join(out, 'train.lock'), `${process.pid}\n`);
  const refused = await cli('train', ...tiny, '--epochs', '1', '--out', out);
  assert.is(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, new RegExp(`in use by another train run \\(pid ${process.pid}, lock file .*train\\.lock\\)`));
  assert.is(refused.stdout, '');
  assert.is(readFileSync(join(out, 'train.lock'), 'utf8').trim(), String(process.pid), 'the refused run touched the live lock');

  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  writeFileSync(join(out, 'train.lock'), `${dead}\n`);
  const tookOver = await cli('train', ...tiny, '--epochs', '1', '--out', out);
  assert.is(tookOver.code, 0, tookOver.stderr);
  assert.match(tookOver.stderr, new RegExp(`taking over .*train\\.lock, left by pid ${dead}, which is no longer running`));
  assert.not.ok(existsSync(join(out, 'train.lock')));});

concurrentTest('two runs started together on one --out: one trains, the other is refused naming the holder', async () => {
  const out = join(dir, 'raced');
  const outcomes = await Promise.all([cli('train', ...tiny, '--epochs', '1', '--out', out), cli('train', ...tiny, '--epochs', '1', '--out', out)]);
  const codes = outcomes.map(({ code }) => code).sort();
  // The loser either finds the winner's lock (1) or, if the winner already finished, its run (2).
  assert.is(codes[0], 0, JSON.stringify(outcomes));
  assert.ok(codes[1] === 1 || codes[1] === 2, JSON.stringify(outcomes));
  const loser = outcomes.find(({ code }) => code !== 0)!;
  assert.match(loser.stderr, /in use by another train run \(pid \d+|already holds a run/);});

concurrentTest('--resume with more epochs than the finished run continues it', async () => {
  const out = join(dir, 'resumed');
  const first = await cli('train', ...tiny, '--epochs', '1', '--out', out);
  assert.is(first.code, 0, first.stderr);
  const record = () => JSON.parse(readFileSync(join(out, 'checkpoint', 'checkpoint.json'), 'utf8')) as { epochsDone: number; finished: boolean; history: unknown[] };
  assert.is(record().epochsDone, 1);
  const more = await cli('train', ...tiny, '--epochs', '2', '--out', out, '--resume');
  assert.is(more.code, 0, more.stderr);
  assert.match(more.stdout, /trained 2 epochs \(1 in this run\)/);
  assert.is(record().epochsDone, 2);
  assert.is(record().history.length, 2);
  assert.ok(record().finished);
  // Resuming with no more epochs than were run changes nothing.
  const same = await cli('train', ...tiny, '--epochs', '2', '--out', out, '--resume');
  assert.match(same.stdout, /trained 2 epochs \(0 in this run\)/);});

test.run();
