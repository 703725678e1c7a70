/**
 * The candidate cards: each shows what it adds in words ("follows the form: 82%", "close to the
 * style of the training tunes", raw figures in the tooltip), its new bars as notation and as the
 * exact ABC Insert writes (ABC pieces) or as a piano roll (MIDI), a small SSM, and Insert / Play.
 * Stale candidates (the piece changed since) stay visible with Insert disabled and the reason.
 */

import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { CandidateView } from '../src/protocol/messages';
import { button, h } from './dom';
import { drawHeatmap, drawRoll, fitCanvas } from './draw';
import { createRollLayout } from './layout';
import { drawCandidateNotation } from './notation';
import type { PlayingNote } from './notation';
import { ticksToWholeNotes } from './noteTimeline';
import type { Theme } from './theme';
import { candidateWords, metricsTooltip } from './words';

/** What the cards ask of the view. */
export interface CandidateActions {
  insert(candidate: CandidateView, button: VscodeButton): void;
  play(candidate: CandidateView, overlay: HTMLCanvasElement | undefined): void;
}

const MINI_ROLL_HEIGHT = 80;
const MINI_SSM = 72;

interface Card {
  readonly candidate: CandidateView;
  readonly element: HTMLElement;
  readonly roll?: HTMLCanvasElement;
  readonly overlay?: HTMLCanvasElement;
  readonly ssm: HTMLCanvasElement;
  readonly notation?: HTMLElement;
  /** Marks the note playing in the drawn notation (set once drawn). */
  playingNote?: PlayingNote;
  readonly insert: VscodeButton;
}

/** The candidate list. */
export class CandidateList {
  /** The container to place in the page. */
  readonly element = h('section', { className: 'candidates', attrs: { 'aria-label': 'Candidates' } });
  private _cards: Card[] = [];
  private _stale: string | undefined;
  private _inserting = false;

  constructor(
    private readonly _actions: CandidateActions,
    /** ABC pieces show notation and ABC; MIDI pieces a piano roll. */
    private readonly _format: 'abc' | 'midi' = 'abc',
  ) {
    this.render([], undefined);
  }

  /** The candidates on show. */
  get candidates(): readonly CandidateView[] {
    return this._cards.map((c) => c.candidate);
  }

  /** Why the candidates can no longer be inserted, when they cannot. */
  get stale(): string | undefined {
    return this._stale;
  }

  /** Shows these candidates (stale with a reason, or live). */
  render(candidates: readonly CandidateView[], stale: string | undefined, theme?: Theme): void {
    this._stale = stale;
    this._cards = [];
    this.element.replaceChildren();
    this.element.classList.toggle('stale', stale !== undefined && candidates.length > 0);
    if (candidates.length === 0) {
      const shown = this._format === 'abc' ? 'their new bars as notation and ABC' : 'their new bars as a piano roll';
      this.element.append(h('p', { className: 'hint' }, `Candidates appear here: ${shown}, what they do in words, Insert and Play.`));
      return;
    }
    if (stale !== undefined) {
      this.element.append(h('p', { className: 'stale-note', attrs: { role: 'status' } }, stale));
    }
    for (const c of candidates) {
      this._cards.push(this._card(c));
    }
    for (const card of this._cards) {
      this.element.append(card.element);
    }
    this._updateInsert();
    if (theme) {
      this.draw(theme);
    }
  }

  /** Marks the candidates stale: Insert is disabled with the reason. */
  markStale(reason: string): void {
    if (this._stale !== undefined || this._cards.length === 0) {
      return;
    }
    this.render(this.candidates, reason);
  }

  /** While an insert runs, no other Insert can start. */
  setInserting(inserting: boolean): void {
    this._inserting = inserting;
    this._updateInsert();
  }

  private _updateInsert(): void {
    for (const card of this._cards) {
      card.insert.disabled = this._stale !== undefined || this._inserting;
      card.insert.title = this._stale ?? 'Insert the new bars into the piece (one undo step)';
    }
  }

  private _card(c: CandidateView): Card {
    const words = candidateWords(c);
    const tooltip = metricsTooltip(c);
    const insert = button('Insert', () => this._actions.insert(c, insert), false);
    const isAbc = c.abc !== undefined;
    const roll = isAbc ? undefined : h('canvas', { className: 'mini-roll', attrs: { role: 'img', 'aria-label': `${c.label} piano roll` } });
    const overlay = isAbc ? undefined : h('canvas', { className: 'overlay' });
    const ssm = h('canvas', { className: 'mini-ssm', attrs: { role: 'img', 'aria-label': `${c.label} self-similarity` } });
    const notation = c.notation !== undefined ? h('div', { className: 'mini-notation', attrs: { role: 'img', 'aria-label': `${c.label} new bars as sheet music` } }) : undefined;
    const play = button('Play', () => this._actions.play(c, overlay), true, 'Play the last bar of the piece and the new bars');
    const wordList = h('ul', { className: 'words', title: tooltip });
    for (const w of words.length > 0 ? words : ['no figures for this candidate']) {
      wordList.append(h('li', {}, w));
    }
    const metrics = h('dl', { className: 'metrics', hidden: true });
    for (const m of c.metrics) {
      metrics.append(h('dt', {}, m.name), h('dd', {}, String(m.value)));
    }
    const element = h(
      'article',
      { className: 'card' },
      h('header', {}, h('strong', {}, c.label.replace(/ \(seed \d+\)$/, '')), h('span', { className: 'hint' }, ` +${c.newBars} bars`)),
      h('div', { className: 'card-body' }, ssm, wordList, metrics),
      notation,
      roll && overlay ? h('div', { className: 'mini-roll-wrap' }, roll, overlay) : undefined,
      c.abc !== undefined
        ? h('details', { className: 'abc-text' }, h('summary', {}, 'ABC that Insert writes'), h('pre', { className: 'abc', tabIndex: 0 }, c.abc.replace(/^\r?\n/, '')))
        : undefined,
      h('div', { className: 'card-actions' }, insert, play),
    );
    element.title = c.label;
    return { candidate: c, element, ...(roll ? { roll } : {}), ...(overlay ? { overlay } : {}), ssm, ...(notation ? { notation } : {}), insert };
  }

  /** Draws the cards' canvases and notation (after they are in the page, and on resize or theme change). */
  draw(theme: Theme): void {
    for (const card of this._cards) {
      const c = card.candidate;
      const width = Math.max(160, Math.floor(card.element.clientWidth - 16));
      if (card.roll && card.overlay) {
        const rctx = fitCanvas(card.roll, width, MINI_ROLL_HEIGHT);
        fitCanvas(card.overlay, width, MINI_ROLL_HEIGHT);
        if (rctx) {
          drawRoll(rctx, c.roll, createRollLayout(c.roll, width, MINI_ROLL_HEIGHT), theme, { compact: true, ...(c.roll.firstNewBar !== undefined ? { newFrom: c.roll.firstNewBar } : {}) });
        }
      }
      const sctx = fitCanvas(card.ssm, MINI_SSM, MINI_SSM);
      if (sctx) {
        drawHeatmap(sctx, c.ssm, MINI_SSM, theme, c.newBars > 0 ? { newFrom: c.ssm.bars - c.newBars } : {});
      }
      if (card.notation && c.notation !== undefined) {
        const key = `${width}|${theme.foreground ?? ''}`;
        if (card.notation.dataset.drawn !== key) {
          card.playingNote = drawCandidateNotation(card.notation, c.notation, width);
          card.notation.dataset.drawn = key;
        }
      }
    }
  }

  /**
   * Marks the note of `c`'s notation sounding at `tick` of its roll (undefined: playback over).
   * The notation starts at the first new bar; before it (the lead-in bar) nothing is marked.
   */
  playing(c: CandidateView, tick: number | undefined): void {
    const card = this._cards.find((k) => k.candidate === c);
    const note = card?.playingNote;
    if (!note) {
      return;
    }
    const start = c.roll.barStarts[c.roll.firstNewBar ?? 0] ?? 0;
    note.markAt(note.events, tick !== undefined && tick >= start ? ticksToWholeNotes(tick - start, c.roll.ticksPerQuarter) : undefined);
  }

  /** The mini-roll width the card of `c` drew at (for the playhead), or undefined. */
  rollWidth(overlay: HTMLCanvasElement): number {
    return overlay.width / Math.max(1, Math.min(3, window.devicePixelRatio || 1));
  }
}

export { MINI_ROLL_HEIGHT };
