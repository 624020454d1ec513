// Textures (PlanSettings.textures, data/clip-plan.ts): strummed and arpeggiated chords,
// a melody and drums on top, drawn from a stream of their own, so a textured plan has the
// plain plan's chords, voicings and times; every time lies in its segment on the plans'
// 1/882 s grid; a strum starts the notes in order a few ms apart; an arpeggio sounds every
// note, one voice per note; a melody lies within an octave above the chord; the additive
// renderer plays a note only at its times, and the MIDI file has one note-on per time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultPlanSettings, defaultTextures, splitGmPrograms, splitTimbreFamilies, splitVoicings, clipMidi, renderAdditiveClip } from '../src/data/index.ts';
import { checkPlanSettings, planAdditiveClip, planFluidsynthClip, ticksPerSecond, type AdditiveClipPlan } from '../src/data/clip-plan.ts';

const families = splitTimbreFamilies(0, 6).train;
const programs = splitGmPrograms(0).train;
const voicings = splitVoicings(0).train;
const textured = { ...defaultPlanSettings, textures: defaultTextures };
const identity = (index: number) => ({ seed: 11, split: 'train' as const, index });
const onGrid = (seconds: number) => Math.abs(seconds * ticksPerSecond - Math.round(seconds * ticksPerSecond)) < 1e-6;

test('a textured plan keeps the plain plan\'s chords, voicings, times and clip settings', () => {
  for (let index = 0; index < 30; index++) {
    const plain = planAdditiveClip(identity(index), defaultPlanSettings, families, voicings);
    const rich = planAdditiveClip(identity(index), textured, families, voicings);
    assert.equal(rich.segments.map((s) => [s.start, s.end, s.label, s.notes.map((n) => n.midi)]), plain.segments.map((s) => [s.start, s.end, s.label, s.notes.map((n) => n.midi)]));
    assert.equal([rich.tuningCents, rich.snrDb, rich.renderSeed, rich.timbre], [plain.tuningCents, plain.snrDb, plain.renderSeed, plain.timbre]);
    assert.ok(plain.segments.every((s) => s.texture === undefined && s.melody === undefined && s.notes.every((n) => n.times === undefined)));
  }
});

test('textures: times in their segment on the grid, strums in order, arpeggios sounding every note once at a time, melodies above the chord, drums inside', () => {
  const seen = new Set<string>();
  let melodies = 0, drummed = 0;
  // Default segments, and short ones (0.1–0.25 s) where an arpeggio must speed up to strike every note.
  const short = { ...textured, segmentSeconds: [0.1, 0.25] as const };
  for (let index = 0; index < 120; index++) {
    const plan = planFluidsynthClip(identity(index), index < 60 ? textured : short, programs, voicings);
    for (const segment of plan.segments) {
      if (segment.label === 'N') { assert.is(segment.texture, undefined); continue; }
      seen.add(segment.texture!);
      for (const note of [...segment.notes, ...(segment.melody ?? [])]) {
        for (const [from, to] of note.times ?? [[segment.start, segment.end]]) {
          assert.ok(from >= segment.start - 1e-9 && to <= segment.end + 1e-9 && from < to, `${plan.id} ${segment.label}: ${from}–${to} outside ${segment.start}–${segment.end}`);
          assert.ok(onGrid(from) && onGrid(to), `${from}, ${to} on the grid`);
        }
      }
      if (segment.texture === 'strummed') {
        const onsets = segment.notes.map((note) => note.times![0]![0]);
        const sorted = [...onsets].sort((a, b) => a - b);
        assert.ok(onsets.join() === sorted.join() || onsets.join() === [...sorted].reverse().join(), `strum order ${onsets}`);
        assert.ok(sorted[sorted.length - 1]! - sorted[0]! <= 0.2, `strum spread ${onsets}`);
      }
      if (segment.texture === 'arpeggio') {
        for (const note of segment.notes) {
          assert.ok(note.times!.length >= 1, `${plan.id} ${segment.label}: every note of an arpeggio is struck`);
          note.times!.forEach(([, to], j) => j + 1 < note.times!.length && assert.ok(to <= note.times![j + 1]![0] + 1e-9, 'one voice per note'));
        }
        assert.is(segment.notes.filter((note) => Math.abs(note.times![0]![0] - segment.start) < 1e-9).length, 1, `${plan.id} ${segment.label}: one note starts the arpeggio`);
      }
      const top = segment.notes[segment.notes.length - 1]!.midi;
      for (const note of segment.melody ?? []) assert.ok(note.midi > top && note.midi <= top + 12, `melody ${note.midi} over ${top}`);
      if ((segment.melody?.length ?? 0) > 0) melodies++;
      if (segment.hits.length > 0) { drummed++; for (const hit of segment.hits) assert.ok(hit.time >= segment.start && hit.time < segment.end); }
    }
    // The MIDI file strikes each note once per time.
    const strikes = plan.segments.reduce((sum, s) => sum + [...s.notes, ...(s.melody ?? [])].reduce((n, note) => n + (note.times?.length ?? 1), 0) + s.hits.length, 0);
    const midi = clipMidi(plan);
    let noteOns = 0;
    for (let i = 0; i + 2 < midi.length; i++) if ((midi[i]! & 0xf0) === 0x90 && midi[i + 2]! > 0 && midi[i + 1]! < 128) noteOns++;
    assert.ok(noteOns >= strikes, `${plan.id}: ${noteOns} note-on bytes for ${strikes} strikes`);
  }
  assert.equal([...seen].sort(), ['arpeggio', 'held', 'strummed']);
  assert.ok(melodies > 10 && drummed > 10, `${melodies} melodies, ${drummed} drummed segments`);
});

test('the additive renderer plays a note only at its times', () => {
  const plan = planAdditiveClip(identity(0), defaultPlanSettings, families, voicings);
  const first = plan.segments[0]!;
  const alone: AdditiveClipPlan = { ...plan, snrDb: 200, segments: [{ ...first, notes: [{ ...first.notes[0]!, times: [[first.start + 0.2, first.start + 0.3]] }], hits: [] }] };
  const rate = 22050;
  const audio = renderAdditiveClip(alone, rate);
  const energy = (from: number, to: number) => audio.subarray(Math.round(from * rate), Math.round(to * rate)).reduce((sum, v) => sum + v * v, 0);
  assert.is(energy(0, first.start + 0.2), 0);
  assert.ok(energy(first.start + 0.2, first.start + 0.3) > 0);
});

test('texture chances outside [0, 1] are refused, naming the setting', () => {
  assert.throws(() => checkPlanSettings({ ...defaultPlanSettings, textures: { ...defaultTextures, melody: 1.5 } }), /textures .* must give chances in \[0, 1\]/);
});

test.run();
