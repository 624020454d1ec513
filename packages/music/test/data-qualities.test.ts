// Synthesized clips beyond major/minor (data/voicings.ts, data/clip-plan.ts): with the
// full vocabulary's qualities, every chord segment's notes are exactly its label's pitch
// classes (a seventh or sixth chord's seventh or sixth added to the pattern's triad), the bass is the root,
// third or fifth its voicing says, every quality is drawn, and the 25-class index is the
// majmin reduction (7 → maj, min6 → min, dim → −1); without qualities, plans are as they always were.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chordIndex, chordVocabulary } from '../src/chords/index.ts';
import { chordQualityNames, defaultPlanSettings, splitTimbreFamilies, splitVoicings } from '../src/data/index.ts';
import { checkPlanSettings, planAdditiveClip } from '../src/data/clip-plan.ts';

const families = splitTimbreFamilies(0, 6).train;
const voicings = splitVoicings(0).train;
const plans = (settings: typeof defaultPlanSettings, count: number) =>
  Array.from({ length: count }, (_, index) => planAdditiveClip({ seed: 5, split: 'train', index }, settings, families, voicings));

test('chords of every quality sound exactly their label\'s notes, with the bass their inversion says', () => {
  const full = chordVocabulary('full');
  const seen = new Set<string>();
  for (const plan of plans({ ...defaultPlanSettings, qualities: chordQualityNames }, 40)) {
    for (const segment of plan.segments) {
      if (segment.label === 'N') continue;
      seen.add(segment.quality!);
      const index = full.indexOf(segment.label);
      assert.ok(index >= 0, `${segment.label} is in the full vocabulary`);
      const expected = full.templates[index]!.flatMap((bit, pc) => (bit ? [pc] : []));
      const sounded = [...new Set(segment.notes.map((note) => note.midi % 12))].sort((a, b) => a - b);
      assert.equal(sounded, expected, `${plan.id} ${segment.label} (${segment.voicing!.id})`);
      const bass = segment.notes[0]!.midi % 12;
      const third = { maj: 4, min: 3, '7': 4, maj7: 4, min7: 3, dim: 3, aug: 4, sus2: 2, sus4: 5, maj6: 4, min6: 3 }[segment.quality!]!;
      const fifth = segment.quality === 'dim' ? 6 : segment.quality === 'aug' ? 8 : 7;
      const interval = { root: 0, first: third, second: fifth }[segment.voicing!.inversion];
      assert.is(bass, (segment.root! + interval) % 12, `${segment.label} ${segment.voicing!.inversion} inversion`);
      assert.is(segment.classIndex, chordIndex(segment.label));
    }
  }
  assert.equal([...seen].sort(), [...chordQualityNames].sort(), 'all qualities drawn');
  assert.is(chordIndex('C:7'), 0);
  assert.is(chordIndex('C:dim'), -1);
  assert.is(chordIndex('C:maj6'), 0);
  assert.is(chordIndex('C:min6'), 12);
});

test('without qualities (or with maj and min) plans are the same as before; bad qualities are refused', () => {
  const before = JSON.stringify(plans(defaultPlanSettings, 6));
  assert.is(JSON.stringify(plans({ ...defaultPlanSettings, qualities: ['maj', 'min'] }, 6)), before);
  for (const plan of plans(defaultPlanSettings, 6)) for (const segment of plan.segments) assert.ok(segment.quality === null || segment.quality === 'maj' || segment.quality === 'min');
  const sevenths = plans({ ...defaultPlanSettings, qualities: ['7', 'maj7', 'min7'] }, 6).flatMap((plan) => plan.segments.filter((s) => s.label !== 'N'));
  assert.throws(() => checkPlanSettings({ ...defaultPlanSettings, qualities: [] }), /qualities \[\] must be one or more of maj, min, 7/);
  assert.throws(() => checkPlanSettings({ ...defaultPlanSettings, qualities: ['maj', 'dom9' as 'maj'] }), /qualities \[maj,dom9\]/);
  assert.ok(sevenths.every((segment) => /:(7|maj7|min7)$/.test(segment.label) && segment.notes.length >= 4), sevenths.map((s) => s.label).join(' '));
});

test.run();
