/**
 * Sheet music in the view: abcjs draws the tune (or a candidate's new bars) as SVG. The page's
 * Content-Security-Policy allows no inline styles, and abcjs writes a few `style` attributes
 * (a hidden measuring SVG, small tspans): while it draws, those go through the CSSOM
 * (`element.style.cssText`), which the policy allows. It also puts a `<style>` element into every
 * SVG, only for dragging notes (not used here): that one becomes an inert `<metadata>` element,
 * so the policy has nothing to refuse. No eval, no injected stylesheet.
 *
 * A click on a note selects its bar (the piece's performed bar, first pass of a repeat); the
 * selected bars are highlighted with a CSS class on their SVG elements. During playback the bar
 * playing and, within it, the note playing get classes of their own (`bar-playing`,
 * `note-playing`), for the tune and for a candidate's new bars.
 */

import { renderAbc } from 'abcjs';
import type { AbcElem, AbcVisualParams, TuneObject } from 'abcjs';
import type { NotationPayload } from '../src/protocol/messages';
import { h } from './dom';
import { barAtChar, inRanges, rangesOfBars, withoutHeaderText } from './notationMap';
import { barEvents, eventAt, noteEvents, wholeNoteBpm } from './noteTimeline';
import type { NoteEvent, TimingLike } from './noteTimeline';

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Runs `draw` with `setAttribute('style', v)` applied as `style.cssText = v`, and SVG `<style>`
 * elements made as `<metadata>` (CSP-safe).
 */
function withCssomStyles<T>(draw: () => T): T {
  const proto = Element.prototype;
  const original = proto.setAttribute;
  const doc = Document.prototype;
  const createNs = doc.createElementNS;
  doc.createElementNS = function (this: Document, ns: string | null, name: string, options?: string | ElementCreationOptions): Element {
    return createNs.call(this, ns, ns === SVG_NS && name === 'style' ? 'metadata' : name, options as ElementCreationOptions);
  } as typeof doc.createElementNS;
  proto.setAttribute = function (this: Element, name: string, value: string): void {
    const styled = this as Element & { style?: CSSStyleDeclaration };
    if (name.toLowerCase() === 'style' && styled.style) {
      styled.style.cssText = String(value);
      return;
    }
    original.call(this, name, value);
  };
  try {
    return draw();
  } finally {
    proto.setAttribute = original;
    doc.createElementNS = createNs;
  }
}

/**
 * Draws `abc` into `target` (replacing what was there). Returns the tune object, or undefined
 * when abcjs drew nothing; throws what abcjs throws.
 */
export function drawAbc(target: HTMLElement, abc: string, params: AbcVisualParams): TuneObject | undefined {
  target.replaceChildren();
  const tunes = withCssomStyles(() => renderAbc(target, abc, { add_classes: true, responsive: 'resize', ...params }));
  return tunes[0];
}

/** The text colour of the theme, for abcjs's `foregroundColor`. */
export function themeForeground(): string {
  return getComputedStyle(document.body).getPropertyValue('--vscode-editor-foreground').trim() || getComputedStyle(document.body).color || '#000';
}

interface VoiceElement {
  readonly startChar?: number;
  readonly endChar?: number;
  readonly abselem?: { readonly elemset?: readonly (Element | null)[] };
}

/** Every drawn element of a tune with its character range. */
function drawnElements(tune: TuneObject): { start: number; end: number; nodes: Element[] }[] {
  const out: { start: number; end: number; nodes: Element[] }[] = [];
  for (const line of tune.lines ?? []) {
    for (const staff of line.staff ?? []) {
      for (const voice of (staff as unknown as { voices?: VoiceElement[][] }).voices ?? []) {
        for (const el of voice) {
          const nodes = (el.abselem?.elemset ?? []).filter((n): n is Element => n instanceof Element);
          if (typeof el.startChar === 'number' && typeof el.endChar === 'number' && nodes.length > 0) {
            out.push({ start: el.startChar, end: el.endChar, nodes });
          }
        }
      }
    }
  }
  return out;
}

/** CSS class of the note (or chord) sounding now. */
export const NOTE_PLAYING = 'note-playing';

/**
 * The note events of a drawn tune (abcjs's timing, taken once, on first use) and the one marked
 * as playing.
 */
export class PlayingNote {
  private _events: NoteEvent<Element>[] | undefined;
  private _marked: Element[] = [];

  constructor(private readonly _tune: TuneObject) {}

  /** The tune's note events on a clock of whole notes from its first note. */
  get events(): readonly NoteEvent<Element>[] {
    if (!this._events) {
      let timings: readonly TimingLike<unknown>[] = [];
      try {
        const beat = typeof this._tune.getBeatLength === 'function' ? this._tune.getBeatLength() : 0.25;
        this._tune.setTiming(wholeNoteBpm(beat), 0);
        timings = (this._tune as unknown as { noteTimings?: readonly TimingLike<unknown>[] }).noteTimings ?? [];
      } catch {
        timings = [];
      }
      this._events = noteEvents<unknown>(timings).map((ev) => ({ ...ev, elements: ev.elements.filter((e): e is Element => e instanceof Element) }));
    }
    return this._events;
  }

  /** Marks these elements as playing (none: clears the mark). */
  mark(elements: readonly Element[]): void {
    if (elements.length === this._marked.length && elements.every((e, k) => e === this._marked[k])) {
      return;
    }
    for (const el of this._marked) {
      el.classList.remove(NOTE_PLAYING);
    }
    this._marked = [...elements];
    for (const el of this._marked) {
      el.classList.add(NOTE_PLAYING);
    }
  }

  /** Marks the event sounding `at` whole notes into `events` (a list of this tune's, or a bar's). */
  markAt(events: readonly NoteEvent<Element>[], at: number | undefined): void {
    const k = at === undefined ? -1 : eventAt(events, at);
    this.mark(k >= 0 ? events[k].elements : []);
  }
}

/** The piece's notation, kept in step with the bar selection. */
export class NotationView {
  /** The container to place in the page. */
  readonly element = h('div', { className: 'notation', attrs: { role: 'img', 'aria-label': 'The tune as sheet music' } });
  private readonly _message = h('p', { className: 'hint' });
  private readonly _sheet = h('div', { className: 'sheet' });
  private _payload: NotationPayload | undefined;
  private _drawn: { abc: string; colour: string; width: number } | undefined;
  private _tune: TuneObject | undefined;
  private _selected: number[] = [];
  private _playing = -1;
  private _note: PlayingNote | undefined;
  /** Note events of written bars on their first pass, by the bar's first character. */
  private readonly _barEvents = new Map<number, NoteEvent<Element>[]>();

  constructor(private readonly _onBar: (bar: number) => void) {
    this.element.append(this._sheet, this._message);
  }

  /** Number of SVG drawings on show (0 when none). */
  get svgCount(): number {
    return this._sheet.querySelectorAll('svg').length;
  }

  /** Shows a piece's notation (drawn again only when its text, the colour or the width changed). */
  show(payload: NotationPayload | undefined, width: number): void {
    this._payload = payload;
    if (!payload) {
      this._drawn = undefined;
      this._setTune(undefined);
      this._sheet.replaceChildren();
      this._message.textContent = 'Notation is shown for ABC tunes up to 60,000 characters.';
      return;
    }
    const colour = themeForeground();
    const w = Math.max(280, Math.round(width));
    if (this._drawn && this._drawn.abc === payload.abc && this._drawn.colour === colour && Math.abs(this._drawn.width - w) < 40) {
      this.highlight(this._selected);
      return;
    }
    try {
      this._setTune(undefined);
      const tune = drawAbc(this._sheet, withoutHeaderText(payload.abc), {
        foregroundColor: colour,
        staffwidth: w - 30,
        paddingleft: 0,
        paddingright: 0,
        clickListener: (elem: AbcElem) => this._clicked(elem),
      });
      this._setTune(tune);
      this._drawn = { abc: payload.abc, colour, width: w };
      this._message.textContent = '';
    } catch (e) {
      this._setTune(undefined);
      this._drawn = undefined;
      this._sheet.replaceChildren();
      this._message.textContent = `The notation could not be drawn: ${e instanceof Error ? e.message : String(e)}`;
    }
    this.highlight(this._selected);
    const playing = this._playing;
    this._playing = -1;
    this.playing(playing);
  }

  private _setTune(tune: TuneObject | undefined): void {
    this._note?.mark([]);
    this._tune = tune;
    this._note = tune ? new PlayingNote(tune) : undefined;
    this._barEvents.clear();
  }

  /** Highlights the written bars of these performed bars. */
  highlight(bars: readonly number[]): void {
    this._selected = [...bars];
    this._mark('bar-selected', bars);
  }

  /**
   * Marks the bar playing now (performed bar; -1 for none) and, given how far into the bar the
   * playback is (whole notes), the note playing in it.
   */
  playing(bar: number, offset?: number): void {
    if (bar !== this._playing) {
      this._playing = bar;
      this._mark('bar-playing', bar >= 0 ? [bar] : []);
    }
    const note = this._note;
    const payload = this._payload;
    if (!note || !payload) {
      return;
    }
    if (bar < 0 || bar >= payload.barStart.length || payload.barStart[bar] < 0 || offset === undefined) {
      note.mark([]);
      return;
    }
    const start = payload.barStart[bar];
    let events = this._barEvents.get(start);
    if (!events) {
      events = barEvents(note.events, start, payload.barEnd[bar]);
      this._barEvents.set(start, events);
    }
    note.markAt(events, offset);
  }

  private _mark(className: string, bars: readonly number[]): void {
    const tune = this._tune;
    const payload = this._payload;
    for (const el of Array.from(this._sheet.querySelectorAll(`.${className}`))) {
      el.classList.remove(className);
    }
    if (!tune || !payload || bars.length === 0) {
      return;
    }
    const ranges = rangesOfBars(payload, bars);
    for (const drawn of drawnElements(tune)) {
      if (inRanges(ranges, drawn.start, drawn.end)) {
        for (const node of drawn.nodes) {
          node.classList.add(className);
        }
      }
    }
  }

  private _clicked(elem: AbcElem): void {
    const payload = this._payload;
    const start = (elem as { startChar?: number }).startChar;
    if (!payload || typeof start !== 'number') {
      return;
    }
    const bar = barAtChar(payload, start);
    if (bar >= 0) {
      this._onBar(bar);
    }
  }
}

/**
 * Draws a candidate's new bars (a small tune) into `target`; a message instead when it cannot.
 * Returns what marks its playing note, when drawn.
 */
export function drawCandidateNotation(target: HTMLElement, abc: string, width: number): PlayingNote | undefined {
  try {
    const tune = drawAbc(target, abc, {
      foregroundColor: themeForeground(),
      staffwidth: Math.max(200, Math.round(width) - 20),
      paddingleft: 0,
      paddingright: 0,
      paddingtop: 0,
      paddingbottom: 0,
    });
    return tune ? new PlayingNote(tune) : undefined;
  } catch (e) {
    target.replaceChildren(h('p', { className: 'hint' }, `The notation could not be drawn: ${e instanceof Error ? e.message : String(e)}`));
    return undefined;
  }
}
