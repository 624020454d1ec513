// The rhythm data's FluidSynth kits (data/rhythm-fluidsynth.ts): a hit sounds from the
// block-aligned sample it is labelled at (nothing before it, its sound within that block),
// in every slot of one FluidSynth call, drum and melodic kits alike, so the cut at the slots
// matches the MIDI timing; GM families are never in two splits; labelled onsets of a
// gm-drums and a gm-melodic track are found by librosa's detector; the cache gives back the
// render; a track renders the same alone and after others (the priming slot).
// FluidSynth missing is a failure, not a skip: scripts/setup.sh installs it. (~10 s)
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkFluidsynth, defaultSoundfont } from '../src/data/fluidsynth.ts';
import { drawGmKit, gmBlock, gmDrumFamilies, gmMelodicFamilies, gmTracks, renderGmTracks, type GmHit, type GmKit, type GmTrackPlan } from '../src/data/rhythm-fluidsynth.ts';
import { rhythmSplits, synthesizeRhythmDataset, synthesizeRhythmTrack } from '../src/data/rhythm-tracks.ts';
import { onsetScores } from '../src/eval/index.ts';
import { framesToTime, onsetDetect, onsetStrengthHost } from '../src/rhythm/index.ts';

const scratch = mkdtempSync(join(tmpdir(), 'theorbo-rhythm-gm-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const sampleRate = 22050;
const hit = (kit: GmKit, sample: number, voice: number, level: number): GmHit => ({ sample, note: kit.notes[voice]![0]!, level, length: Math.round(0.1 * sampleRate) });

// A test, not a before-hook: uvu reports a throwing hook as 0 passed with exit status 0.
test('FluidSynth and the GM soundfont are installed', async () => {
  try {
    await checkFluidsynth({ executable: 'fluidsynth', soundfont: defaultSoundfont, gain: 0.5 });
  } catch (error) {
    throw new Error(`FluidSynth is needed for the 'gm-drums' rhythm kits and these tests; run scripts/setup.sh as root to install it. (${(error as Error).message})`);
  }
});

test('one FluidSynth call, one hit per slot: each sounds from its labelled block, nothing before it', () => {
  // One kit of each family, each hit at another position in the block grid (and in the second).
  const kits = [...gmDrumFamilies.map((family) => drawGmKit(7, 'drums', family.name, family.programs[0])), ...gmMelodicFamilies.map((family) => drawGmKit(7, 'melodic', family.name, family.programs[0]))];
  const plans: GmTrackPlan[] = kits.map((kit, i) => ({ kit: { ...kit, reverbSend: i * 5 }, frames: sampleRate, sampleRate, hits: [hit(kit, gmBlock * (40 + 29 * i), i % 3, 0.9)] }));
  const tracks = renderGmTracks(plans);
  tracks.forEach((audio, i) => {
    const { sample } = plans[i]!.hits[0]!;
    let peak = 0;
    for (const value of audio) peak = Math.max(peak, Math.abs(value));
    assert.ok(peak > 0.01, `slot ${i} (${plans[i]!.kit.family}) is silent: peak ${peak}`);
    // FluidSynth's float output carries ~1e-8 of noise where nothing plays; a drum sample starts
    // from its first sample with a ramp of 1e-8 → 1e-5 over ~30 samples (measured in FluidR3_GM).
    let before = 0, firstBlock = 0;
    for (let n = 0; n < sample; n++) before = Math.max(before, Math.abs(audio[n]!));
    for (let n = sample; n < sample + gmBlock; n++) firstBlock = Math.max(firstBlock, Math.abs(audio[n]!));
    assert.ok(before <= 1e-6, `slot ${i} (${plans[i]!.kit.family}) sounds ${before.toExponential(1)} before its hit at sample ${sample}`);
    assert.ok(firstBlock >= 1e-5, `slot ${i} (${plans[i]!.kit.family}): nothing (${firstBlock.toExponential(1)}) in the block the hit is labelled at; a block late?`);
  });
});

test('GM families are dealt whole: no family in two splits, one of each kind in validation and in test', () => {
  const dealt = rhythmSplits(7);
  for (const [kind, families] of [['drums', gmDrumFamilies], ['melodic', gmMelodicFamilies]] as const) {
    const familiesOf = (split: 'train' | 'validation' | 'test') => new Set(dealt[split].kits.flatMap((kit) => (kit.gm?.kind === kind ? [kit.gm.family] : [])));
    const [train, validation, heldOut] = [familiesOf('train'), familiesOf('validation'), familiesOf('test')];
    assert.is(validation.size, 1, `${kind}: validation families ${[...validation]}`);
    assert.is(heldOut.size, 1, `${kind}: test families ${[...heldOut]}`);
    assert.is(train.size + validation.size + heldOut.size, families.length);
    for (const family of heldOut) assert.not.ok(train.has(family) || validation.has(family), `${family} is in two splits`);
  }
});

test('gm-drums and gm-melodic tracks: onsets on the block grid, found by librosa\'s detector; the cache gives the render back', () => {
  const cacheDir = join(scratch, 'cache');
  const options = { duration: 6, cacheDir };
  const tracks = synthesizeRhythmDataset({ seed: 7, tracks: { test: 5 }, ...options }).slice(3);
  assert.equal(tracks.map((track) => track.kit.replace(/-\d+$/, '')), ['gm-drums', 'gm-melodic']);
  for (const track of tracks) {
    for (const onset of track.onsets) assert.ok(Math.abs(((onset * sampleRate) / gmBlock) - Math.round((onset * sampleRate) / gmBlock)) < 1e-6, `onset ${onset} is off the block grid`);
    const detected = framesToTime(onsetDetect(onsetStrengthHost(track.audio).data));
    const f = onsetScores(track.onsets, detected).fMeasure;
    assert.ok(f >= 0.75, `librosa's onset detector scores F ${f.toFixed(3)} on ${track.kit}`);
  }
  assert.is(readdirSync(join(cacheDir, 'clips', 'rhythm-fluidsynth'), { recursive: true }).filter((name) => String(name).endsWith('.wav')).length, 2);
  const again = synthesizeRhythmTrack(7, 'test', 4, options);
  assert.ok(again.audio.every((value, i) => value === tracks[1]!.audio[i]), 'the cached track differs from the rendered one');
});

test('a rendered batch is cut where the MIDI put each track: slots give back their own hits', () => {
  const plan = (kit: GmKit, first: number): GmTrackPlan => ({
    kit: { ...kit, reverbSend: 0 }, frames: sampleRate, sampleRate, hits: [0, 1, 2].map((k) => hit(kit, gmBlock * (first + 100 * k), k, 1)),
  });
  const plans = [plan(drawGmKit(3, 'drums', 'test', 0), 10), plan(drawGmKit(3, 'melodic', 'piano', 0), 30), plan(drawGmKit(3, 'drums', 'test', 40), 50)];
  const tracks = gmTracks(plans, null);
  tracks.forEach((audio, i) => {
    const { sample } = plans[i]!.hits[0]!;
    let first = 0;
    while (Math.abs(audio[first]!) <= 1e-6) first++;
    assert.ok(first >= sample && first < sample + gmBlock, `slot ${i}: first sound at sample ${first}, first hit at ${sample}`);
  });
});

test('a track renders the same alone and after others in one call (the priming slot), to 3% of its peak', () => {
  const plan = (program: number): GmTrackPlan => {
    const kit = { ...drawGmKit(7, 'drums', 'test', program), reverbSend: 0 };
    return { kit, frames: 3 * sampleRate, sampleRate, hits: Array.from({ length: 6 }, (_, k) => hit(kit, gmBlock * (30 + 150 * k + ((7 * k) % 13)), k % 3, 0.9)) };
  };
  const alone = renderGmTracks([plan(40)])[0]!;
  const after = renderGmTracks([plan(40), plan(0), plan(40)])[2]!;
  let peak = 0, difference = 0;
  alone.forEach((value, n) => { peak = Math.max(peak, Math.abs(value)); difference = Math.max(difference, Math.abs(value - after[n]!)); });
  // Measured: 0.07% of the peak with the priming slot, 6.8% (a hi-hat's first hit) without it.
  assert.ok(difference <= 0.03 * peak, `alone and after two other tracks differ by ${(100 * difference / peak).toFixed(2)}% of the peak`);
});

test.run();
