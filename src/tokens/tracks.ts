/**
 * Score tracks <-> track-role tokens.
 *
 * Each track of a piece gets one role of `TRACK_ROLES`, different from every other track's
 * role, so a token sequence can tell the tracks apart. A track's preferred role comes from:
 *
 * 1. its drum flag: `drums`;
 * 2. its name (case-insensitive): `bridge`; `melody`/`lead`/`vocal`/`soprano`/`tune`/`S` -> `melody`;
 *    `alto`/`A` -> `alto`; `tenor`/`T` -> `tenor`; `bass`/`B` -> `bass`;
 *    `piano`/`accomp`/`chord`/`keys`/`guitar`/`organ`/`harmony` -> `piano`;
 * 3. its General MIDI program, when the name says nothing: 32-39 -> `bass`, 0-31 (pianos,
 *    organs, guitars) -> `piano` when the piece has a track already preferring `melody`.
 *
 * Tracks with no preference (unnamed, `Track 2`, ABC voices `1`, `2`): exactly four of them
 * (a chorale) become melody, alto, tenor, bass in track order; otherwise the first becomes
 * `melody` and the others `other`. A role already taken falls back to the first free role of
 * `other, bridge, alto, tenor, piano, bass, melody`; more than 7 pitched tracks (or a second
 * drum track beyond them) is an error.
 *
 * Decoding makes one track per declared role, named after the role (`Melody`, `Piano`...),
 * program 0 (32 for bass), channel = track number skipping 9, drums on channel 9.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { MusicInputError } from '../music/score';
import type { Track } from '../music/score';
import { TRACK_ROLES } from './vocab';
import type { TrackRole } from './vocab';

const FALLBACK: readonly TrackRole[] = ['other', 'bridge', 'alto', 'tenor', 'piano', 'bass', 'melody'];

function roleFromName(name: string): TrackRole | undefined {
  const n = name.trim().toLowerCase();
  if (n === 's') {
    return 'melody';
  }
  if (n === 'a') {
    return 'alto';
  }
  if (n === 't') {
    return 'tenor';
  }
  if (n === 'b') {
    return 'bass';
  }
  if (n.includes('bridge')) {
    return 'bridge';
  }
  if (/melod|lead|vocal|sopran|tune|treble/.test(n)) {
    return 'melody';
  }
  if (n.includes('alto')) {
    return 'alto';
  }
  if (n.includes('tenor')) {
    return 'tenor';
  }
  if (n.includes('bass')) {
    return 'bass';
  }
  if (/piano|accomp|chord|keys|guitar|organ|harmon/.test(n)) {
    return 'piano';
  }
  if (/drum|percussion|kit/.test(n)) {
    return 'drums';
  }
  return undefined;
}

/**
 * The roles of the given tracks (`tracks[indices[k]]` gets `result[k]`), all different.
 * Throws `MusicInputError('tokens-too-many-tracks')` for more tracks than roles.
 */
export function assignTrackRoles(tracks: readonly Track[], indices: readonly number[]): TrackRole[] {
  if (indices.length > TRACK_ROLES.length) {
    throw new MusicInputError(
      'tokens-too-many-tracks',
      `The piece has ${indices.length} tracks with notes; the tokenizer handles at most ${TRACK_ROLES.length}.`,
    );
  }
  const preferred: (TrackRole | undefined)[] = indices.map((i) => {
    const t = tracks[i];
    if (t === undefined) {
      return undefined;
    }
    if (t.isDrum) {
      return 'drums';
    }
    const byName = roleFromName(t.name);
    return byName === 'drums' ? undefined : byName;
  });
  const anyMelody = preferred.includes('melody');
  for (let k = 0; k < indices.length; k++) {
    const t = tracks[indices[k]];
    if (preferred[k] === undefined && t !== undefined) {
      if (t.program >= 32 && t.program <= 39) {
        preferred[k] = 'bass';
      } else if (anyMelody && t.program >= 0 && t.program <= 31) {
        preferred[k] = 'piano';
      }
    }
  }
  const unknown = preferred.flatMap((p, k) => (p === undefined ? [k] : []));
  if (unknown.length === 4 && indices.length === 4) {
    const satb: TrackRole[] = ['melody', 'alto', 'tenor', 'bass'];
    unknown.forEach((k, j) => {
      preferred[k] = satb[j];
    });
  } else if (unknown.length > 0 && !preferred.includes('melody')) {
    preferred[unknown[0]] = 'melody';
  }
  const taken = new Set<TrackRole>();
  const out: TrackRole[] = new Array<TrackRole>(indices.length);
  // Tracks with a preference claim first, in track order; then the rest.
  const order = [...indices.keys()].sort((a, b) => Number(preferred[a] === undefined) - Number(preferred[b] === undefined) || a - b);
  for (const k of order) {
    const want = preferred[k];
    let role: TrackRole | undefined = want !== undefined && !taken.has(want) ? want : undefined;
    if (role === undefined) {
      role = FALLBACK.find((r) => !taken.has(r));
    }
    if (role === undefined) {
      throw new MusicInputError(
        'tokens-too-many-tracks',
        `No track role left for track ${indices[k] + 1}: the tokenizer handles at most 7 pitched tracks and 1 drum track.`,
      );
    }
    taken.add(role);
    out[k] = role;
  }
  return out;
}

/** Display name of a role's track in a decoded score (`'Melody'`). */
export function roleTrackName(role: TrackRole): string {
  return role.charAt(0).toUpperCase() + role.slice(1);
}

/** The track a decoded score gets for a role, as the `index`-th track. */
export function trackForRole(role: TrackRole, index: number): Track {
  if (role === 'drums') {
    return { name: roleTrackName(role), channel: 9, program: 0, isDrum: true };
  }
  const channel = index >= 9 ? index + 1 : index;
  return { name: roleTrackName(role), channel: Math.min(15, channel), program: role === 'bass' ? 32 : 0, isDrum: false };
}
