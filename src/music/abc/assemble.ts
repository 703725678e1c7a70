/**
 * Assembling a Score from the written bars of a tune's voices (the last phases of the ABC
 * reader, `./reader`): repeats and parts expanded into the performed order, tracks per staff,
 * performed bar lengths and starts, the bar list with its meter, key and tempo changes, and the
 * notes with ties merged.
 */
import type { Bar, ChordSymbol, Key, KeyChange, Meter, MeterChange, Note, TempoChange, Track, WrittenBar } from '../score';
import { TPQ, barTicks } from '../score';
import { voiceDeclarations } from './header';
import { expandParts } from './repeats';
import { barLength, sameKey } from './abcjsElements';
import type { VoiceEntry } from './collectVoices';
import { SkipTune } from './skipTune';
import type { VoiceBar } from './voiceBuilder';

/** Ticks per whole note. */
export const WHOLE = TPQ * 4;
/** Default MIDI velocity of ABC notes. */
const VELOCITY = 80;
/** Upper bounds that keep malformed input from producing huge scores. */
const MAX_PERFORMED_BARS = 20000;
const MAX_NOTES = 200000;

/** A voice: its abcjs position (staff, voice in staff) and its written bars. */
export interface VoiceData {
  staff: number;
  voiceInStaff: number;
  bars: VoiceBar[];
  /** Performed order: written bar index per performed slot (multi-bar rests repeat their index). */
  slots: number[];
  hasNotes: boolean;
}

/**
 * The voices that have notes, each with its performed order (parts, repeats and endings
 * expanded, multi-bar rests repeated), sorted by staff then voice. Throws `abc-too-long` past
 * the performed-bar limit and `abc-no-notes` when no voice has a note.
 */
export function performedVoices(builders: Iterable<VoiceEntry>, partOrder: string[] | undefined): VoiceData[] {
  const voices: VoiceData[] = [];
  for (const { staff, voice, builder } of builders) {
    builder.finish();
    const hasNotes = builder.bars.some((b) => b.events.some((e) => e.tones.length > 0));
    if (!hasNotes) {
      continue;
    }
    const { order, capped } = expandParts(builder.bars, partOrder, MAX_PERFORMED_BARS);
    if (capped) {
      throw new SkipTune('abc-too-long', `The tune expands to more than ${MAX_PERFORMED_BARS} bars when its repeats are played.`);
    }
    const slots: number[] = [];
    for (const i of order) {
      const n = builder.bars[i].multiRest ?? 1;
      for (let k = 0; k < n; k++) {
        slots.push(i);
      }
      if (slots.length > MAX_PERFORMED_BARS) {
        throw new SkipTune('abc-too-long', `The tune has more than ${MAX_PERFORMED_BARS} bars when its repeats and rests are played.`);
      }
    }
    voices.push({ staff, voiceInStaff: voice, bars: builder.bars, slots, hasNotes });
  }
  if (voices.length === 0) {
    throw new SkipTune('abc-no-notes', 'The tune has no notes.');
  }
  voices.sort((a, b) => a.staff - b.staff || a.voiceInStaff - b.voiceInStaff);
  return voices;
}

/** The master voice (most performed bars, first on ties): it gives written bars, meters, keys and tempos. */
export function masterVoice(voices: readonly VoiceData[]): VoiceData {
  let master = voices[0];
  for (const v of voices) {
    if (v.slots.length > master.slots.length) {
      master = v;
    }
  }
  return master;
}

/** Tracks: one per staff that has notes, named after the staff's first declared voice. */
export function staffTracks(
  voices: readonly VoiceData[],
  builders: Iterable<VoiceEntry>,
  titles: ReadonlyMap<number, string>,
  tuneText: string,
): { tracks: Track[]; staffs: number[] } {
  const staffs = [...new Set(voices.map((v) => v.staff))].sort((a, b) => a - b);
  const declared = voiceDeclarations(tuneText);
  const allVoiceKeys = [...builders].sort((a, b) => a.staff - b.staff || a.voice - b.voice);
  const tracks: Track[] = staffs.map((s, i) => {
    const owner = allVoiceKeys.find((k) => k.staff === s)?.owner;
    const decl = declared.find((d) => d.id === owner);
    const name = titles.get(s) ?? decl?.name ?? decl?.id ?? 'Melody';
    const channel = i < 9 ? i : Math.min(15, i + 1);
    return { name: staffs.length === 1 && !titles.has(s) && decl?.name === undefined ? 'Melody' : name, channel, program: 0, isDrum: false };
  });
  return { tracks, staffs };
}

/** Written bars of the master voice: their source ranges and first-ending numbers. */
export function writtenBarsOf(master: VoiceData): WrittenBar[] {
  return master.bars.map((b) => {
    const wb: WrittenBar = {};
    if (b.contentStart !== undefined && b.contentEnd !== undefined) {
      wb.source = { start: b.contentStart, end: b.contentEnd };
    }
    if (b.ending !== undefined) {
      wb.ending = Math.min(...b.ending);
    }
    return wb;
  });
}

/**
 * Start tick of each performed bar and the piece's length: each performed bar is as long as
 * the longest content of any voice in that slot. Invisible rests (`x`) take time like any
 * rest: `G6 Hx` fills a 4/4 bar.
 */
export function performedStarts(voices: readonly VoiceData[], slotCount: number): { starts: number[]; length: number } {
  const lens: number[] = [];
  for (let k = 0; k < slotCount; k++) {
    let len = 0;
    for (const v of voices) {
      const idx = v.slots[k];
      if (idx !== undefined) {
        const wb = v.bars[idx];
        len = Math.max(len, wb.multiRest !== undefined ? barLength(wb.meter) : wb.len);
      }
    }
    lens.push(len);
  }
  const starts: number[] = [];
  let acc = 0;
  for (const len of lens) {
    starts.push(Math.round(acc * WHOLE));
    acc += len;
  }
  return { starts, length: Math.round(acc * WHOLE) };
}

/** The performed bars with the meter, key and tempo changes the master voice makes. */
export interface Timeline {
  bars: Bar[];
  meters: MeterChange[];
  keys: KeyChange[];
  tempos: TempoChange[];
}

/**
 * The performed bars of the master voice (short bars around a repeat joined, see
 * {@link joinSplitBars}) with their meter, key and tempo changes; the first meter and key sit
 * at tick 0 (the defaults when the voice gives none).
 */
export function masterTimeline(
  master: VoiceData,
  starts: readonly number[],
  length: number,
  headerTempo: number | undefined,
  defaults: { meter: Meter; key: Key },
): Timeline {
  const slotCount = master.slots.length;
  const bars: Bar[] = [];
  const meters: MeterChange[] = [];
  const keys: KeyChange[] = [];
  const tempos: TempoChange[] = [{ tick: 0, bpm: headerTempo ?? 120 }];
  const pushKey = (tick: number, key: Key): void => {
    const last = keys[keys.length - 1];
    if (last && sameKey(last.key, key)) {
      return;
    }
    if (last && last.tick === tick) {
      keys[keys.length - 1] = { tick, key };
    } else {
      keys.push({ tick, key });
    }
  };
  const pushTempo = (tick: number, bpm: number): void => {
    const last = tempos[tempos.length - 1];
    if (last.tick === tick) {
      last.bpm = bpm;
    } else if (last.bpm !== bpm) {
      tempos.push({ tick, bpm });
    }
  };
  for (let k = 0; k < slotCount; k++) {
    const wbIndex = master.slots[k];
    const wb = master.bars[wbIndex];
    const start = starts[k];
    const duration = Math.round((k + 1 < slotCount ? starts[k + 1] : length) - start);
    if (k === 0 || wbIndex !== master.slots[k - 1]) {
      pushKey(start, wb.keyAtStart);
      for (const kc of wb.keyChanges) {
        pushKey(start + Math.round(kc.offset * WHOLE), kc.key);
      }
      for (const t of wb.tempos) {
        pushTempo(start + Math.round(t.offset * WHOLE), t.bpm);
      }
    }
    if (duration <= 0) {
      continue;
    }
    const lastMeter = meters[meters.length - 1];
    if (!lastMeter || lastMeter.meter.num !== wb.meter.num || lastMeter.meter.den !== wb.meter.den) {
      meters.push({ tick: start, meter: wb.meter });
    }
    bars.push({ start, duration, meter: wb.meter, written: wbIndex });
  }
  joinSplitBars(bars);
  if (meters.length === 0) {
    meters.push({ tick: 0, meter: master.bars[0]?.meter ?? defaults.meter });
  }
  if (keys.length === 0) {
    keys.push({ tick: 0, key: defaults.key });
  }
  meters[0] = { tick: 0, meter: meters[0].meter };
  keys[0] = { tick: 0, key: keys[0].key };
  return { bars, meters, keys, tempos };
}

/**
 * The notes of every voice in performed order, ties merged, and the chord symbols (each onset
 * and name once, sorted by tick). Voice numbers restart at 0 within each track. Throws
 * `abc-too-long` past the note limit and `abc-no-notes` when there is none.
 */
export function performedNotes(
  voices: readonly VoiceData[],
  staffs: readonly number[],
  starts: readonly number[],
): { notes: Note[]; chords: ChordSymbol[] } {
  const slotCount = starts.length;
  const trackOfStaff = new Map(staffs.map((s, i) => [s, i]));
  const notes: Note[] = [];
  const chords: ChordSymbol[] = [];
  const chordSeen = new Set<string>();
  for (const v of voices) {
    const track = trackOfStaff.get(v.staff) ?? 0;
    let pending: { step: number; note: Note }[] = [];
    for (let k = 0; k < v.slots.length && k < slotCount; k++) {
      const wb = v.bars[v.slots[k]];
      if (wb.multiRest !== undefined) {
        pending = [];
        continue;
      }
      const start = starts[k];
      for (const e of wb.events) {
        const onset = start + Math.round(e.offset * WHOLE);
        const end = start + Math.round((e.offset + e.dur) * WHOLE);
        for (const name of e.chords) {
          const id = `${onset}\u0000${name}`;
          if (!chordSeen.has(id)) {
            chordSeen.add(id);
            chords.push({ tick: onset, name, source: e.source });
          }
        }
        const next: { step: number; note: Note }[] = [];
        let first = true;
        for (const t of e.tones) {
          let target: Note | undefined;
          // A tie joins the same pitch in the next note or chord. abcjs marks tie ends by position
          // in the chord, not by pitch, so its endTie flag is not used.
          {
            const found =
              pending.find((p) => p.step === t.step && p.note.onset + p.note.duration === onset) ??
              pending.find((p) => p.note.pitch === t.midi && p.note.onset + p.note.duration === onset);
            if (found) {
              target = found.note;
              pending = pending.filter((p) => p !== found);
              target.duration = end - target.onset;
            }
          }
          if (!target) {
            if (end <= onset) {
              continue;
            }
            target = { pitch: t.midi, onset, duration: end - onset, velocity: VELOCITY, track, voice: v.voiceInStaff, source: e.source };
            if (first && e.graces && e.graces.length > 0) {
              target.graces = [...e.graces];
            }
            first = false;
            notes.push(target);
            if (notes.length > MAX_NOTES) {
              throw new SkipTune('abc-too-long', `The tune has more than ${MAX_NOTES} notes when its repeats are played.`);
            }
          }
          if (t.tieStart) {
            next.push({ step: t.step, note: target });
          }
        }
        pending = next;
      }
    }
  }
  if (notes.length === 0) {
    throw new SkipTune('abc-no-notes', 'The tune has no notes.');
  }
  // Voice numbers restart at 0 within each track.
  const voiceNumber = new Map<string, number>();
  for (const s of staffs) {
    voices.filter((v) => v.staff === s).forEach((v, i) => voiceNumber.set(`${s}:${v.voiceInStaff}`, i));
  }
  for (const n of notes) {
    n.voice = voiceNumber.get(`${staffs[n.track]}:${n.voice}`) ?? 0;
  }
  chords.sort((a, b) => a.tick - b.tick);
  return { notes, chords };
}

/**
 * Joins two adjacent short performed bars that together fill exactly one bar of their shared
 * meter: the short bar that ends a repeated part (`... D2:|`) and the pickup that follows it
 * when the repeat is played (`|:A2|...`). Musically they are one bar; keeping them apart would
 * make every repeated 8-bar part 9 bars long and shift the piece's structure. The joined bar
 * keeps the first one's written bar for editor mapping. The opening pickup stays a short bar.
 */
function joinSplitBars(bars: Bar[]): void {
  let out = 0;
  for (let i = 0; i < bars.length; i++) {
    const b = bars[i];
    const next = bars[i + 1];
    const full = barTicks(b.meter);
    if (
      next !== undefined &&
      b.duration < full &&
      next.duration < full &&
      b.duration + next.duration === full &&
      b.meter.num === next.meter.num &&
      b.meter.den === next.meter.den &&
      next.start === b.start + b.duration
    ) {
      bars[out++] = { ...b, duration: full };
      i++;
    } else {
      bars[out++] = b;
    }
  }
  bars.length = out;
}
