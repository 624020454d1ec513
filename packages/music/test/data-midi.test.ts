// The format-0 MIDI writer against bytes worked out by hand from the Standard MIDI File
// spec, the variable-length quantities against the spec's own table, and its refusals.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type MidiEvent, writeMidiFile } from '../src/data/index.ts';
import { variableLengthQuantity } from '../src/data/midi-file.ts';

test('variable-length quantities match the SMF specification table', () => {
  const table: [number, number[]][] = [
    [0x00, [0x00]], [0x40, [0x40]], [0x7f, [0x7f]], [0x80, [0x81, 0x00]], [0x2000, [0xc0, 0x00]],
    [0x3fff, [0xff, 0x7f]], [0x4000, [0x81, 0x80, 0x00]], [0x100000, [0xc0, 0x80, 0x00]],
    [0x1fffff, [0xff, 0xff, 0x7f]], [0x200000, [0x81, 0x80, 0x80, 0x00]], [0x0fffffff, [0xff, 0xff, 0xff, 0x7f]],
  ];
  for (const [value, bytes] of table) assert.equal(variableLengthQuantity(value), bytes, `VLQ of 0x${value.toString(16)}`);
});

test('a tiny file: header, sorted events, same-tick release before attack, end of track', () => {
  // Given out of order on purpose; at tick 96 note 60 is released and 62 struck.
  const events: MidiEvent[] = [
    { tick: 300, type: 'noteOff', channel: 1, note: 64 },
    { tick: 96, type: 'noteOn', channel: 0, note: 62, velocity: 80 },
    { tick: 96, type: 'noteOff', channel: 0, note: 60 },
    { tick: 0, type: 'noteOn', channel: 0, note: 60, velocity: 100 },
    { tick: 0, type: 'noteOn', channel: 1, note: 64, velocity: 90 },
    { tick: 0, type: 'programChange', channel: 0, program: 19 },
    { tick: 0, type: 'pitchBend', channel: 0, value: 4096 },
    { tick: 0, type: 'tempo', microsecondsPerQuarter: 500_000 },
    { tick: 200, type: 'noteOff', channel: 0, note: 62 },
  ];
  const expected = [
    0x4d, 0x54, 0x68, 0x64, 0x00, 0x00, 0x00, 0x06, // MThd, length 6
    0x00, 0x00, 0x00, 0x01, 0x00, 0x60, // format 0, 1 track, 96 ticks per quarter
    0x4d, 0x54, 0x72, 0x6b, 0x00, 0x00, 0x00, 0x2a, // MTrk, 42 bytes
    0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20, // tempo 500000 µs = 0x07A120
    0x00, 0xc0, 0x13, // program 19 on channel 0
    0x00, 0xe0, 0x00, 0x60, // bend +4096: 8192 + 4096 = 0x3000, LSB 0x00, MSB 0x60
    0x00, 0x90, 0x3c, 0x64, // note on 60, velocity 100
    0x00, 0x91, 0x40, 0x5a, // note on 64 on channel 1, velocity 90
    0x60, 0x80, 0x3c, 0x00, // +96: note off 60
    0x00, 0x90, 0x3e, 0x50, // note on 62, velocity 80
    0x68, 0x80, 0x3e, 0x00, // +104 (tick 200): note off 62
    0x64, 0x81, 0x40, 0x00, // +100 (tick 300): note off 64 on channel 1
    0x00, 0xff, 0x2f, 0x00, // end of track
  ];
  assert.equal(Array.from(writeMidiFile({ ticksPerQuarter: 96, events })), expected);
});

test('a delta time above 127 ticks takes two bytes', () => {
  const bytes = Array.from(writeMidiFile({ ticksPerQuarter: 480, events: [
    { tick: 0, type: 'noteOn', channel: 2, note: 48, velocity: 1 },
    { tick: 204, type: 'noteOff', channel: 2, note: 48, velocity: 64 },
  ] }));
  // 204 = 1·128 + 76: 0x81 0x4C.
  assert.equal(bytes.slice(14), [0x4d, 0x54, 0x72, 0x6b, 0, 0, 0, 13, 0x00, 0x92, 0x30, 0x01, 0x81, 0x4c, 0x82, 0x30, 0x40, 0x00, 0xff, 0x2f, 0x00]);
});

test('out-of-range values are refused with a sentence naming the event', () => {
  const write = (event: MidiEvent) => () => writeMidiFile({ ticksPerQuarter: 96, events: [event] });
  assert.throws(write({ tick: 0, type: 'noteOn', channel: 0, note: 60, velocity: 0 }), /noteOn at tick 0 has velocity 0; it must be an integer in 1\.\.127/);
  assert.throws(write({ tick: 0, type: 'programChange', channel: 16, program: 0 }), /channel 16/);
  assert.throws(write({ tick: 0, type: 'pitchBend', channel: 0, value: 8192 }), /value 8192/);
  assert.throws(write({ tick: -1, type: 'noteOff', channel: 0, note: 60 }), /tick -1/);
  assert.throws(() => writeMidiFile({ ticksPerQuarter: 0x8000, events: [] }), /ticksPerQuarter/);
});

test.run();
