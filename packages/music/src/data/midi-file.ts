// A writer for format-0 Standard MIDI Files (one track): tempo, program change, control
// change, pitch bend, note on and note off, enough to make FluidSynth play chord clips.
// Events are written in tick order (stable), with the order at equal ticks fixed so that
// set-up messages come first and a note released and struck again on the same tick is
// released before it is struck. Every channel message carries its status byte.
// Left out: reading MIDI, running status, formats 1 and 2, SMPTE time division, sysex,
// text and other meta events besides tempo and end of track.

export type MidiEvent =
  | { tick: number; type: 'tempo'; microsecondsPerQuarter: number }
  | { tick: number; type: 'programChange'; channel: number; program: number }
  | { tick: number; type: 'controlChange'; channel: number; controller: number; value: number }
  /** value in -8192..8191; 0 is no bend. */
  | { tick: number; type: 'pitchBend'; channel: number; value: number }
  | { tick: number; type: 'noteOff'; channel: number; note: number; velocity?: number }
  | { tick: number; type: 'noteOn'; channel: number; note: number; velocity: number };

export interface MidiFile {
  /** Ticks per quarter note (the header's time division), 1..32767. */
  ticksPerQuarter: number;
  events: readonly MidiEvent[];
}

/** Order of events that share a tick: tempo and set-up, then releases, then attacks. */
const orderAtTick: Record<MidiEvent['type'], number> = {
  tempo: 0, programChange: 1, controlChange: 1, pitchBend: 1, noteOff: 2, noteOn: 3,
};

/** A variable-length quantity: 7 bits a byte, most significant first, high bit = more. */
export function variableLengthQuantity(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0x0fffffff) {
    throw new Error(`data/midi-file: a delta time or length of ${value} cannot be written as a MIDI variable-length quantity (it must be an integer in 0..268435455).`);
  }
  const bytes = [value & 0x7f];
  for (let rest = value >>> 7; rest > 0; rest >>>= 7) bytes.unshift((rest & 0x7f) | 0x80);
  return bytes;
}

function checkRange(event: MidiEvent, field: string, value: number, low: number, high: number): number {
  if (!Number.isInteger(value) || value < low || value > high) {
    throw new Error(`data/midi-file: ${event.type} at tick ${event.tick} has ${field} ${value}; it must be an integer in ${low}..${high}.`);
  }
  return value;
}

function eventBytes(event: MidiEvent): number[] {
  if (event.type === 'tempo') {
    const tempo = checkRange(event, 'microsecondsPerQuarter', event.microsecondsPerQuarter, 1, 0xffffff);
    return [0xff, 0x51, 0x03, (tempo >>> 16) & 0xff, (tempo >>> 8) & 0xff, tempo & 0xff];
  }
  const channel = checkRange(event, 'channel', event.channel, 0, 15);
  switch (event.type) {
    case 'programChange':
      return [0xc0 | channel, checkRange(event, 'program', event.program, 0, 127)];
    case 'controlChange':
      return [0xb0 | channel, checkRange(event, 'controller', event.controller, 0, 127), checkRange(event, 'value', event.value, 0, 127)];
    case 'pitchBend': {
      const unsigned = checkRange(event, 'value', event.value, -8192, 8191) + 8192;
      return [0xe0 | channel, unsigned & 0x7f, unsigned >>> 7];
    }
    case 'noteOff':
      return [0x80 | channel, checkRange(event, 'note', event.note, 0, 127), checkRange(event, 'velocity', event.velocity ?? 0, 0, 127)];
    case 'noteOn':
      // Velocity 0 would mean note off to every reader, so it is refused here.
      return [0x90 | channel, checkRange(event, 'note', event.note, 0, 127), checkRange(event, 'velocity', event.velocity, 1, 127)];
  }
}

/** The bytes of a format-0 Standard MIDI File holding the given events. */
export function writeMidiFile(file: MidiFile): Uint8Array {
  if (!Number.isInteger(file.ticksPerQuarter) || file.ticksPerQuarter < 1 || file.ticksPerQuarter > 0x7fff) {
    throw new Error(`data/midi-file: ticksPerQuarter is ${file.ticksPerQuarter}; it must be an integer in 1..32767 (SMPTE time division is not supported).`);
  }
  for (const event of file.events) checkRange(event, 'tick', event.tick, 0, 0x0fffffff);
  const sorted = file.events
    .map((event, position) => ({ event, position }))
    .sort((a, b) => a.event.tick - b.event.tick
      || orderAtTick[a.event.type] - orderAtTick[b.event.type]
      || a.position - b.position)
    .map(({ event }) => event);

  const track: number[] = [];
  let previousTick = 0;
  for (const event of sorted) {
    track.push(...variableLengthQuantity(event.tick - previousTick), ...eventBytes(event));
    previousTick = event.tick;
  }
  track.push(0x00, 0xff, 0x2f, 0x00); // end of track, right after the last event

  const header = [
    0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, // "MThd", header length 6
    0, 0, 0, 1, // format 0, one track
    (file.ticksPerQuarter >>> 8) & 0x7f, file.ticksPerQuarter & 0xff,
  ];
  const length = track.length;
  const trackHeader = [0x4d, 0x54, 0x72, 0x6b, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff];
  return Uint8Array.from([...header, ...trackHeader, ...track]);
}
