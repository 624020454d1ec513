// Chord vocabularies (chords/vocabularies.ts): their sizes and order, majmin equal to the
// 25-class vocabulary the models train on, templates that spell each chord's notes, Harte
// labels mapped into each vocabulary (inversions, extensions, reductions to a triad, labels
// a vocabulary cannot say), and the labels out as Harte that read back to their class.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chordIndex, chordTemplates, chordVocabulary, encodeChord, vocabulary, vocabularyLabel, vocabularyNames } from '../src/chords/index.ts';

test('sizes, order and templates; majmin is the models\' 25-class vocabulary', () => {
  assert.equal(vocabularyNames.map((name) => chordVocabulary(name).labels.length), [25, 61, 133]);
  const majmin = chordVocabulary('majmin');
  assert.equal([...majmin.labels], [...vocabulary]);
  assert.equal(majmin.templates.map((row) => [...row]), chordTemplates());
  const sevenths = chordVocabulary('sevenths');
  assert.is(sevenths.labels[2 * 12 + 7], 'G:7');
  assert.is(sevenths.noChord, 60);
  // G:7 is G B D F; A:min7 A C E G; N has no notes.
  const notes = (template: readonly number[]): number[] => template.flatMap((bit, pc) => (bit ? [pc] : []));
  assert.equal(notes(sevenths.templates[sevenths.indexOf('G:7')]!), [2, 5, 7, 11]);
  assert.equal(notes(sevenths.templates[sevenths.indexOf('A:min7')]!), [0, 4, 7, 9]);
  assert.equal(notes(sevenths.templates[sevenths.noChord]!), []);
  const full = chordVocabulary('full');
  assert.equal(notes(full.templates[full.indexOf('B:dim')]!), [2, 5, 11]);
  assert.equal(notes(full.templates[full.indexOf('D:sus2')]!), [2, 4, 9]);
  // C:maj6 holds A:min7's notes: two classes with one template, told apart only by the root.
  assert.equal(notes(full.templates[full.indexOf('C:maj6')]!), [0, 4, 7, 9]);
  assert.equal(notes(full.templates[full.indexOf('C:min6')]!), [0, 3, 7, 9]);
  assert.is.not(full.indexOf('C:maj6'), full.indexOf('A:min7'));
  assert.is(full.labels[full.noChord - 1], 'B:min6');
});

test('Harte labels in: inversions, extensions and triad reductions; what a vocabulary cannot say is −1', () => {
  const [majmin, sevenths, full] = vocabularyNames.map(chordVocabulary);
  const cases: [string, string | null, string | null, string | null][] = [
    // label, its class in majmin, sevenths, full (null: −1)
    ['C:maj/3', 'C:maj', 'C:maj', 'C:maj'],
    ['Db:min7/b7', 'C#:min', 'C#:min7', 'C#:min7'],
    ['G:9', 'G:maj', 'G:7', 'G:7'],
    ['A:min6', 'A:min', 'A:min', 'A:min6'],
    ['Eb:maj6/5', 'D#:maj', 'D#:maj', 'D#:maj6'],
    ['B:dim', null, null, 'B:dim'],
    ['F:hdim7', null, null, 'F:dim'],
    ['E:sus4', null, null, 'E:sus4'],
    ['C:5', null, null, null],
    ['N', 'N', 'N', 'N'],
    ['X', null, null, null],
  ];
  for (const [label, ...expected] of cases) {
    [majmin, sevenths, full].forEach((vocab, v) => {
      const index = vocab!.indexOf(label);
      assert.is(index === -1 ? null : vocab!.labels[index], expected[v], `${label} in ${vocab!.name}`);
    });
  }
  // majmin agrees with chordIndex, the models' mapping, on every case.
  for (const [label] of cases) assert.is(majmin!.indexOf(label), chordIndex(label), label);
});

test('labels out are Harte and read back to their own class; −1 is X; a bad class is an error naming the vocabulary', () => {
  for (const name of vocabularyNames) {
    const vocab = chordVocabulary(name);
    vocab.labels.forEach((label, index) => {
      encodeChord(label);
      assert.is(vocab.indexOf(vocabularyLabel(vocab, index)), index, `${name} ${label}`);
    });
  }
  assert.is(vocabularyLabel(chordVocabulary('full'), -1), 'X');
  assert.throws(() => vocabularyLabel(chordVocabulary('sevenths'), 61), /61 is not a class of the sevenths vocabulary \(0–60/);
  assert.throws(() => chordVocabulary('jazz' as 'full'), /must be one of majmin, sevenths, full, not 'jazz'/);
});

test.run();
