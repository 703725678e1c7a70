/**
 * Which `V:` voice owns each character of a tune's text, worked out from the text itself.
 *
 * abcjs lays a multi-voice tune out as printed lines of staves, and when one voice runs over more
 * lines than the voice before it, it puts the extra lines on the first staff of a new printed line:
 * by position they look like voice 1. The reader therefore assigns each abcjs element stream to the
 * voice that owns its first character in the text, not to its position on the printed line.
 */

/** A voice switch: from `pos` on, music belongs to voice `id`. */
interface Switch {
  pos: number;
  id: string;
}

const VOICE_LINE = /^V:[ \t]*([^\s\]%]+)/;
const INLINE_VOICE = /\[V:[ \t]*([^\]\s]+)[^\]]*\]/g;

/** Voice owners of one tune's text. */
export class VoiceOwners {
  private readonly _switches: Switch[];
  /** The voice of music written before any `V:` switch. */
  readonly defaultId: string;

  constructor(tuneText: string) {
    const switches: Switch[] = [];
    let firstHeaderVoice: string | undefined;
    let inHeader = true;
    let pos = 0;
    for (const line of tuneText.split('\n')) {
      const next = pos + line.length + 1;
      const whole = VOICE_LINE.exec(line);
      if (inHeader && line.startsWith('K:')) {
        inHeader = false;
      } else if (whole && inHeader) {
        firstHeaderVoice ??= whole[1];
      } else if (whole) {
        switches.push({ pos: next, id: whole[1] });
      } else if (!inHeader && !line.startsWith('%')) {
        INLINE_VOICE.lastIndex = 0;
        let m: RegExpExecArray | null;
        while ((m = INLINE_VOICE.exec(line)) !== null) {
          switches.push({ pos: pos + m.index, id: m[1] });
        }
      }
      pos = next;
    }
    this.defaultId = firstHeaderVoice ?? '1';
    this._switches = switches;
  }

  /** True when the tune switches voices at all. */
  get hasVoices(): boolean {
    return this._switches.length > 0;
  }

  /** The voice that owns character `pos` of the tune text. */
  ownerAt(pos: number): string {
    const sw = this._switches;
    let lo = 0;
    let hi = sw.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sw[mid].pos <= pos) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? this.defaultId : sw[found].id;
  }
}

/** The first character offset abcjs reports among a stream's elements, if any. */
export function firstCharOf(elements: readonly { startChar?: number }[] | undefined): number | undefined {
  for (const el of elements ?? []) {
    if (typeof el?.startChar === 'number') {
      return el.startChar;
    }
  }
  return undefined;
}
