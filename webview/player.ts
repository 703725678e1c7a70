/** Playback with a moving playhead on a piano roll's overlay (or none, for a card without a roll). */

import { drawPlayhead } from './draw';
import { tickToX } from './layout';
import type { RollLayout } from './layout';
import { playheadTick } from './schedule';
import type { PlaybackPlan } from './schedule';
import type { RollPayload } from '../src/protocol/messages';
import { Synth } from './synth';
import type { Theme } from './theme';

/** What to play, and where its playhead goes. */
export interface PlayTarget {
  readonly roll: RollPayload;
  readonly plan: PlaybackPlan;
  readonly overlay?: HTMLCanvasElement;
  layout(): RollLayout | undefined;
  /** Called each frame with the tick playing (undefined when playback ends). */
  onTick?(tick: number | undefined): void;
}

/** One playback at a time. */
export class Player {
  private readonly _synth = new Synth();
  private _playing: PlayTarget | undefined;
  private _frame = 0;

  constructor(
    private readonly _theme: () => Theme,
    private readonly _status: (text: string, isError?: boolean) => void,
  ) {}

  /** What is playing. */
  get playing(): PlayTarget | undefined {
    return this._playing;
  }

  /** Plays a target, stopping what played before. */
  async start(target: PlayTarget): Promise<void> {
    this.stop();
    if (target.plan.notes.length === 0) {
      this._status('Nothing to play there.');
      return;
    }
    const programs = target.roll.tracks.map((t) => t.program);
    const ok = await this._synth.play(target.plan, programs, () => {
      if (this._playing === target) {
        this._playing = undefined;
        this._clear(target);
      }
    });
    if (!ok) {
      this._status('Audio could not start: click Play in the view once to allow sound.', true);
      return;
    }
    this._playing = target;
    const frame = (): void => {
      if (this._playing !== target) {
        return;
      }
      const elapsed = this._synth.elapsed;
      const layout = target.layout();
      const tick = elapsed !== undefined ? playheadTick(target.roll, target.plan, elapsed) : undefined;
      target.onTick?.(tick);
      const ctx = target.overlay?.getContext('2d');
      if (ctx && layout && target.overlay) {
        const dpr = target.overlay.width / Math.max(1, layout.width);
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        drawPlayhead(ctx, layout.width, layout.height, tick !== undefined ? tickToX(layout, target.roll.barStarts, tick) : undefined, this._theme());
      }
      this._frame = requestAnimationFrame(frame);
    };
    this._frame = requestAnimationFrame(frame);
  }

  /** Stops playback and clears the playhead. */
  stop(): void {
    const playing = this._playing;
    this._playing = undefined;
    cancelAnimationFrame(this._frame);
    this._synth.stop();
    if (playing) {
      this._clear(playing);
    }
  }

  private _clear(target: PlayTarget): void {
    target.onTick?.(undefined);
    if (target.overlay) {
      target.overlay.getContext('2d')?.clearRect(0, 0, target.overlay.width, target.overlay.height);
    }
  }
}
