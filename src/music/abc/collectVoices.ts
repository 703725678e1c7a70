/** Gathering each ABC voice's abcjs element streams across the printed lines, into voice builders. */
import type { RawElement, RawStaff, RawTune } from './abcjsElements';
import type { VoiceBuilder } from './voiceBuilder';
import { VoiceOwners, firstCharOf } from './voiceOwners';

/** A voice being read: where it sits (staff, voice in staff), the `V:` id that owns it, its builder. */
export interface VoiceEntry {
  staff: number;
  voice: number;
  owner: string;
  builder: VoiceBuilder;
}

/** Feeds one abcjs element stream to a voice builder. */
function feedElements(b: VoiceBuilder, staff: RawStaff, elements: readonly RawElement[] | undefined): void {
  b.lineStart(staff);
  for (const el of elements ?? []) {
    switch (el?.el_type) {
      case 'note':
        b.note(el);
        break;
      case 'bar':
        b.barLine(el);
        break;
      case 'key':
        b.key(el);
        break;
      case 'meter':
        b.meter(el);
        break;
      case 'tempo':
        b.tempo(el);
        break;
      case 'part':
        b.part(el);
        break;
      default:
        break;
    }
  }
}

/**
 * Gathers each voice's element streams across abcjs's printed lines. A stream belongs to the `V:`
 * voice that owns its first character in the text (see {@link VoiceOwners}); a second stream of the
 * same voice on one staff is an `&` overlay, read as a voice of its own. A voice keeps the staff
 * position of its first appearance.
 */
export function collectVoices(
  tune: RawTune,
  abcText: string,
  newBuilder: () => VoiceBuilder,
): { builders: Map<string, VoiceEntry>; titles: Map<number, string> } {
  const owners = new VoiceOwners(abcText);
  const builders = new Map<string, VoiceEntry>();
  const titles = new Map<number, string>();
  const taken = new Set<string>();
  const lastKeyAt = new Map<string, string>();
  let extraStaff = 1000;
  for (const line of tune.lines ?? []) {
    (Array.isArray(line.staff) ? line.staff : []).forEach((staff, s) => {
      if (!staff || !Array.isArray(staff.voices)) {
        return;
      }
      const seen = new Map<string, number>();
      staff.voices.forEach((elements, v) => {
        const first = firstCharOf(elements);
        const owner = first === undefined ? undefined : owners.ownerAt(first);
        let key = lastKeyAt.get(`${s}:${v}`) ?? `${owners.defaultId}@${s}:${v}`;
        if (owner !== undefined) {
          const n = seen.get(owner) ?? 0;
          seen.set(owner, n + 1);
          key = n === 0 ? owner : `${owner}&${n}`;
        }
        lastKeyAt.set(`${s}:${v}`, key);
        let entry = builders.get(key);
        if (!entry) {
          const free = !taken.has(`${s}:${v}`);
          entry = { staff: free ? s : extraStaff++, voice: free ? v : 0, owner: owner ?? owners.defaultId, builder: newBuilder() };
          taken.add(`${entry.staff}:${entry.voice}`);
          builders.set(key, entry);
        }
        const title = staff.title?.[0];
        if (v === 0 && !titles.has(entry.staff) && typeof title === 'string' && title.trim() !== '') {
          titles.set(entry.staff, title.trim());
        }
        feedElements(entry.builder, staff, elements);
      });
    });
  }
  return { builders, titles };
}
