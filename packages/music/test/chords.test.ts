// Chords: Harte parsing against mir_eval's encodings (hand-derived), the majmin mapping to
// the 25-class vocabulary, templates, transposition, and .lab reading/writing.
import { test } from 'uvu';
import { expectError } from '@theorbo/graph/testing';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chordIndex, chordLabel, chordTemplates, encodeChord, formatLab, parseLab, pitchClasses, pitchClassOf, readLab,
  transposeChord, vocabulary, writeLab,
} from '../src/chords/index.ts';
import type { Segment } from '../src/chords/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'theorbo-chords-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));


/** A bitmap from the semitones it contains. */
const bits = (...semitones: number[]): number[] => Array.from({ length: 12 }, (_, i) => (semitones.includes(i) ? 1 : 0));

test('vocabulary: 12 majors, 12 minors, then N, with the agreed spellings', () => {
  assert.is(vocabulary.length, 25);
  assert.is(vocabulary[0], 'C:maj');
  assert.is(vocabulary[11], 'B:maj');
  assert.is(vocabulary[12], 'C:min');
  assert.is(vocabulary[21], 'A:min');
  assert.is(vocabulary[24], 'N');
  assert.equal([...pitchClasses], ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B']);
  vocabulary.forEach((label, index) => assert.is(chordIndex(label), index, label));
  vocabulary.forEach((label, index) => assert.is(chordLabel(index), label));
  assert.is(chordLabel(-1), 'X');
});

test('pitch classes: naturals, sharps, flats, doubles and enharmonics wrap around', () => {
  const cases: [string, number][] = [['C', 0], ['C#', 1], ['Db', 1], ['E#', 5], ['Fb', 4], ['Cb', 11], ['B#', 0], ['Gbb', 5], ['A##', 11], ['Bb', 10]];
  for (const [spelling, semitone] of cases) assert.is(pitchClassOf(spelling), semitone, spelling);
  expectError(() => pitchClassOf('H'), "'H'", 'not a pitch class');
  expectError(() => pitchClassOf('C#b'), "'C#b'");
});

test("Harte labels encode as mir_eval's chord.encode does", () => {
  const cases: [string, number, number[], number][] = [
    ['C', 0, bits(0, 4, 7), 0],
    ['C:maj', 0, bits(0, 4, 7), 0],
    ['A:min', 9, bits(0, 3, 7), 0],
    ['Db:maj7', 1, bits(0, 4, 7, 11), 0],
    ['G:7', 7, bits(0, 4, 7, 10), 0],
    ['E:min7', 4, bits(0, 3, 7, 10), 0],
    ['B:hdim7', 11, bits(0, 3, 6, 10), 0],
    ['F#:dim', 6, bits(0, 3, 6), 0],
    ['Ab:aug', 8, bits(0, 4, 8), 0],
    ['D:sus4', 2, bits(0, 5, 7), 0],
    ['D:sus2', 2, bits(0, 2, 7), 0],
    ['C:9', 0, bits(0, 4, 7, 10), 0], // the 9th is past the octave and dropped
    ['C:maj/3', 0, bits(0, 4, 7), 4],
    ['C:maj/b7', 0, bits(0, 4, 7, 10), 10], // the bass joins the bitmap
    ['C:min(*5)', 0, bits(0, 3), 0],
    ['C:maj(*3,b3)', 0, bits(0, 3, 7), 0],
    ['C:(3,5)', 0, bits(0, 4, 7), 0],
    ['C:(b3,5)/b3', 0, bits(0, 3, 7), 3],
    ['C:(3,#5)/#5', 0, bits(0, 4, 8), 8], // sharpened degrees (a '#' after an empty 'b*' once read as NaN)
    ['C:maj(#4)/#4', 0, bits(0, 4, 6, 7), 6],
    ['C:min7/bb7', 0, bits(0, 3, 7, 9, 10), 9],
    ['E#:min', 5, bits(0, 3, 7), 0],
    ['G:5', 7, bits(0, 7), 0],
    ['G:1', 7, bits(0), 0],
  ];
  for (const [label, root, semitones, bass] of cases) {
    const encoded = encodeChord(label);
    assert.equal({ ...encoded, semitones: [...encoded.semitones] }, { root, semitones, bass }, label);
  }
  assert.equal([...encodeChord('N').semitones], bits());
  assert.is(encodeChord('N').root, -1);
  assert.equal([...encodeChord('X').semitones], new Array(12).fill(-1));
});

test('malformed Harte labels are errors that quote the label', () => {
  for (const label of ['H:maj', 'C:foo', 'c:maj', 'C:', 'C:maj(', 'C/3/5', 'C(3)', 'Cmaj', 'C:maj(3', 'C:maj(14)', '']) {
    expectError(() => chordIndex(label), `'${label}'`);
  }
  expectError(() => chordIndex('C:foo'), "unknown quality 'foo'");
});

test("chordIndex reduces as mir_eval's majmin rule compares", () => {
  const cases: [string, number][] = [
    ['C', 0], ['C:maj', 0], ['Db:maj', 1], ['C#:maj', 1], ['B:maj', 11],
    ['C:maj7', 0], ['G:7', 7], ['A:min7', 21], ['A:min', 21], ['E:minmaj7', 16], ['C:maj6', 0], ['D:min6', 14],
    ['C:9', 0], ['C:min11', 12], ['C:13', 0],
    ['E#:maj', 5], ['Fb:min', 16], ['Cb:maj', 11],
    ['C:maj/3', 0], ['A:min/b3', 21], ['C:maj/5', 0], ['C:maj/b7', 0],
    ['C:maj/2', -1], // mir_eval adds the bass to the notes, so D in the bass breaks the triad
    ['C:(3,5)', 0], ['C:(b3,5)', 12], ['C:maj(*5)', -1], ['C:(*3)', -1],
    ['C:dim', -1], ['C:aug', -1], ['C:sus4', -1], ['C:sus2', -1], ['C:hdim7', -1], ['C:dim7', -1], ['C:aug7', -1],
    ['C:5', -1], ['C:1', -1],
    ['N', 24], ['X', -1],
  ];
  for (const [label, index] of cases) assert.is(chordIndex(label), index, label);
});

test('chordTemplates: triads in vocabulary order, N all zeros', () => {
  const templates = chordTemplates();
  assert.is(templates.length, 25);
  assert.equal(templates[0], bits(0, 4, 7));
  assert.equal(templates[9], bits(9, 1, 4)); // A major: A C# E
  assert.equal(templates[12], bits(0, 3, 7));
  assert.equal(templates[23], bits(11, 2, 6)); // B minor: B D F#
  assert.equal(templates[24], bits());
  // Each template is its chord's encoding rotated to the root.
  vocabulary.slice(0, 24).forEach((label, index) => {
    const { root, semitones } = encodeChord(label);
    assert.equal(templates[index], Array.from({ length: 12 }, (_, pc) => semitones[(pc - root + 12) % 12]), label);
  });
});

test('transposeChord shifts roots within their quality; N and −1 stay', () => {
  assert.is(transposeChord(0, 2), 2); // C → D
  assert.is(transposeChord(11, 1), 0); // B → C
  assert.is(transposeChord(12, -1), 23); // C:min → B:min
  assert.is(transposeChord(21, 3), 12); // A:min → C:min
  assert.is(transposeChord(24, 5), 24);
  assert.is(transposeChord(-1, 5), -1);
  for (let index = 0; index < 24; index++) {
    for (const shift of [-13, -5, 0, 7, 12, 25]) {
      const moved = transposeChord(index, shift);
      // Transposing the templates' pitch classes must give the moved chord's template.
      const templates = chordTemplates();
      const rotated = Array.from({ length: 12 }, (_, pc) => templates[index]![(((pc - shift) % 12) + 12) % 12]);
      assert.equal(templates[moved], rotated, `${vocabulary[index]} by ${shift}`);
    }
  }
  expectError(() => transposeChord(25, 1), 'transposeChord', '25');
  expectError(() => transposeChord(3, 0.5), 'transposeChord', '0.5');
});

test('.lab: parse, format and write round-trip exactly', () => {
  const segments: Segment[] = [
    { start: 0, end: 0.1 + 0.2, label: 'N' },
    { start: 0.1 + 0.2, end: 2.612267, label: 'E:min7' },
    { start: 2.612267, end: 512 / 22050 * 300, label: 'Db:maj/3' },
    { start: 512 / 22050 * 300, end: 1e-7 + 10, label: 'X' },
  ];
  assert.equal(parseLab(formatLab(segments)), segments);
  const path = join(dir, 'song.lab');
  writeLab(path, segments);
  assert.equal(readLab(path), segments);
  assert.equal(readdirSync(dir), ['song.lab']);
});

test('.lab: tabs, extra spaces, CRLF, blank lines and comments are accepted', () => {
  const text = '# Isophonics style\r\n0.000000\t1.500000\tC\r\n\r\n  1.5   3.25  A:min  \r\n3.25 4 N\n';
  assert.equal(parseLab(text), [
    { start: 0, end: 1.5, label: 'C' },
    { start: 1.5, end: 3.25, label: 'A:min' },
    { start: 3.25, end: 4, label: 'N' },
  ]);
});

test('.lab errors name the file and the line', () => {
  const write = (name: string, text: string): string => { writeFileSync(join(dir, name), text); return join(dir, name); };
  expectError(() => readLab(write('fields.lab', '0 1 C\n1 2\n')), 'fields.lab', 'line 2', '3 fields');
  expectError(() => readLab(write('number.lab', '0 1 C\n\n1 two G\n')), 'number.lab', 'line 3', "'two'");
  expectError(() => readLab(write('order.lab', '2 1 C\n')), 'order.lab', 'line 1', 'before it starts');
  expectError(() => readLab(write('label.lab', '0 1 C\n1 2 C:foo\n')), 'label.lab', 'line 2', "'C:foo'");
  expectError(() => readLab(join(dir, 'absent.lab')), 'absent.lab', 'does not exist');
  expectError(() => parseLab('0 1 C extra'), 'the .lab text', 'line 1');
  expectError(() => formatLab([{ start: 1, end: 0, label: 'C' }]), 'formatLab', 'segment 0');
  expectError(() => formatLab([{ start: 0, end: 1, label: 'C maj' }]), 'formatLab', 'whitespace');
  expectError(() => writeLab(join(dir, 'missing-dir', 'x.lab'), []), 'writeLab', 'missing-dir');
});

test.run();
