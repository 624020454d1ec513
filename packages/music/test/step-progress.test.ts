// The progress line of steps other than training: rate and time left on a terminal,
// cleared at the end; nothing when stderr is not a terminal or progress is turned off.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StepProgress } from '../src/train/index.ts';

const stream = (isTTY: boolean) => {
  const written: string[] = [];
  return { written, isTTY, write: (text: string) => written.push(text) };
};

test('on a terminal: done/total, a rate and an eta, rewritten in place, cleared by finish', () => {
  const terminal = stream(true);
  const progress = new StepProgress('synthesizing', 'clips', { stream: terminal });
  const wait = Date.now() + 20;
  while (Date.now() < wait); // some time passes, so the rate is finite
  progress.update(3, 10);
  progress.update(4, 10); // within 100 ms of the last draw: skipped
  progress.update(10, 10); // the last one is always drawn
  progress.finish();
  assert.is(terminal.written.length, 3, terminal.written.join('|'));
  assert.match(terminal.written[0]!, /^\rsynthesizing 3\/10, [0-9.]+ clips\/s, eta \d+s\x1b\[K$/);
  assert.match(terminal.written[1]!, /^\rsynthesizing 10\/10, .* eta 0s/);
  assert.is(terminal.written[2], '\r\x1b[K');
});

test('silent when the stream is not a terminal, or when disabled (--quiet)', () => {
  const log = stream(false);
  const quiet = stream(true);
  for (const progress of [new StepProgress('features', 'clips', { stream: log }), new StepProgress('features', 'clips', { stream: quiet, enabled: false })]) {
    progress.update(1, 2);
    progress.update(2, 2);
    progress.finish();
  }
  assert.equal([log.written, quiet.written], [[], []]);
});

test.run();
