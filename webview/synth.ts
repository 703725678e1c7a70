/**
 * A small WebAudio synth: one oscillator through a low-pass filter and an ADSR envelope per
 * note, a noise burst or a falling sine per drum hit. Notes are scheduled a little ahead of
 * the clock (a look-ahead loop), so long pieces never create thousands of nodes at once.
 * Nothing is fetched: every sound is made here.
 */

import { midiToHz, notesStartingIn, timbreOf } from './schedule';
import type { PlaybackPlan, ScheduledNote } from './schedule';

/** Seconds of notes scheduled ahead of the clock. */
const LOOKAHEAD_S = 0.35;
/** How often the look-ahead loop runs, in ms. */
const TICK_MS = 60;
/** Most voices sounding at once; later notes are skipped while the synth is full. */
const MAX_VOICES = 48;

interface Voice {
  readonly nodes: AudioScheduledSourceNode[];
  readonly end: number;
}

/** Plays {@link PlaybackPlan}s. One playback at a time: starting another stops the first. */
export class Synth {
  private _ctx: AudioContext | undefined;
  private _out: GainNode | undefined;
  private _noise: AudioBuffer | undefined;
  private _plan: PlaybackPlan | undefined;
  private _programs: readonly number[] = [];
  private _startAt = 0;
  private _next = 0;
  private _timer: ReturnType<typeof setInterval> | undefined;
  private _voices: Voice[] = [];
  private _onEnd: (() => void) | undefined;

  /** Seconds since the playback started, or undefined when nothing plays. */
  get elapsed(): number | undefined {
    if (!this._ctx || !this._plan) {
      return undefined;
    }
    return this._ctx.currentTime - this._startAt;
  }

  /** Whether something is playing. */
  get playing(): boolean {
    return this._plan !== undefined;
  }

  private _context(): AudioContext {
    if (!this._ctx) {
      const ctx = new AudioContext({ latencyHint: 'interactive' });
      const compressor = ctx.createDynamicsCompressor();
      compressor.threshold.value = -12;
      compressor.ratio.value = 4;
      const out = ctx.createGain();
      out.gain.value = 0.6;
      out.connect(compressor);
      compressor.connect(ctx.destination);
      this._ctx = ctx;
      this._out = out;
    }
    return this._ctx;
  }

  /**
   * Starts a plan; `programs` gives each track's General MIDI program. Resolves false when the
   * audio context cannot start (the browser wants a click first).
   */
  async play(plan: PlaybackPlan, programs: readonly number[], onEnd?: () => void): Promise<boolean> {
    this.stop();
    const ctx = this._context();
    if (ctx.state !== 'running') {
      try {
        await ctx.resume();
      } catch {
        return false;
      }
    }
    if (ctx.state !== 'running') {
      return false;
    }
    this._plan = plan;
    this._programs = programs;
    this._next = 0;
    this._startAt = ctx.currentTime + 0.08;
    this._onEnd = onEnd;
    this._pump();
    this._timer = setInterval(() => this._pump(), TICK_MS);
    return true;
  }

  /** Stops at once: every sounding and scheduled note is cut. */
  stop(): void {
    if (this._timer !== undefined) {
      clearInterval(this._timer);
      this._timer = undefined;
    }
    const now = this._ctx?.currentTime ?? 0;
    for (const v of this._voices) {
      for (const node of v.nodes) {
        try {
          node.stop(now);
        } catch {
          // Never started or already stopped.
        }
      }
    }
    this._voices = [];
    const ended = this._plan !== undefined;
    this._plan = undefined;
    const onEnd = this._onEnd;
    this._onEnd = undefined;
    if (ended) {
      onEnd?.();
    }
  }

  private _pump(): void {
    const ctx = this._ctx;
    const plan = this._plan;
    if (!ctx || !plan) {
      return;
    }
    const elapsed = ctx.currentTime - this._startAt;
    this._voices = this._voices.filter((v) => v.end > ctx.currentTime);
    const { first, end } = notesStartingIn(plan, Number.NEGATIVE_INFINITY, elapsed + LOOKAHEAD_S, this._next);
    for (let k = first; k < end; k++) {
      const note = plan.notes[k];
      // Notes whose time has passed (a stalled tab) are skipped rather than played late.
      if (note.start >= elapsed - 0.05 && this._voices.length < MAX_VOICES) {
        this._voice(ctx, note);
      }
    }
    this._next = end;
    if (elapsed > plan.duration + 0.3) {
      this.stop();
    }
  }

  private _voice(ctx: AudioContext, note: ScheduledNote): void {
    const out = this._out;
    if (!out) {
      return;
    }
    const t0 = this._startAt + note.start;
    const t1 = Math.max(t0 + 0.03, this._startAt + note.end);
    const peak = 0.18 * (0.3 + 0.7 * (note.velocity / 127));
    const gain = ctx.createGain();
    gain.connect(out);
    if (note.drum) {
      this._drum(ctx, note, t0, peak, gain);
      return;
    }
    const timbre = timbreOf(this._programs[note.track] ?? 0);
    const osc = ctx.createOscillator();
    osc.type = timbre.wave;
    osc.frequency.setValueAtTime(midiToHz(note.pitch), t0);
    const filter = ctx.createBiquadFilter();
    filter.type = 'lowpass';
    filter.frequency.value = timbre.cutoff;
    osc.connect(filter);
    filter.connect(gain);
    gain.gain.setValueAtTime(0, t0);
    gain.gain.linearRampToValueAtTime(peak, t0 + timbre.attack);
    gain.gain.setTargetAtTime(peak * timbre.sustain, t0 + timbre.attack, Math.max(0.01, timbre.decay / 3));
    gain.gain.setTargetAtTime(0, t1, Math.max(0.01, timbre.release / 3));
    const stopAt = t1 + timbre.release * 2;
    osc.start(t0);
    osc.stop(stopAt);
    osc.onended = () => {
      osc.disconnect();
      filter.disconnect();
      gain.disconnect();
    };
    this._voices.push({ nodes: [osc], end: stopAt });
  }

  private _drum(ctx: AudioContext, note: ScheduledNote, t0: number, peak: number, gain: GainNode): void {
    if (note.pitch === 35 || note.pitch === 36) {
      // Kick: a sine falling from 150 Hz.
      const osc = ctx.createOscillator();
      osc.frequency.setValueAtTime(150, t0);
      osc.frequency.exponentialRampToValueAtTime(45, t0 + 0.12);
      osc.connect(gain);
      gain.gain.setValueAtTime(peak * 1.6, t0);
      gain.gain.exponentialRampToValueAtTime(0.001, t0 + 0.25);
      osc.start(t0);
      osc.stop(t0 + 0.3);
      osc.onended = () => gain.disconnect();
      this._voices.push({ nodes: [osc], end: t0 + 0.3 });
      return;
    }
    // Everything else: filtered noise, higher and shorter for cymbals.
    const cymbal = note.pitch >= 42;
    this._noise ??= this._makeNoise(ctx);
    const src = ctx.createBufferSource();
    src.buffer = this._noise;
    const filter = ctx.createBiquadFilter();
    filter.type = cymbal ? 'highpass' : 'bandpass';
    filter.frequency.value = cymbal ? 7000 : 1800;
    src.connect(filter);
    filter.connect(gain);
    const length = cymbal ? 0.08 : 0.15;
    gain.gain.setValueAtTime(peak, t0);
    gain.gain.exponentialRampToValueAtTime(0.001, t0 + length);
    src.start(t0);
    src.stop(t0 + length + 0.02);
    src.onended = () => gain.disconnect();
    this._voices.push({ nodes: [src], end: t0 + length + 0.02 });
  }

  private _makeNoise(ctx: AudioContext): AudioBuffer {
    const buffer = ctx.createBuffer(1, Math.floor(ctx.sampleRate * 0.3), ctx.sampleRate);
    const data = buffer.getChannelData(0);
    // A fixed linear congruential sequence: the same noise every time, no Math.random needed.
    let x = 12345;
    for (let k = 0; k < data.length; k++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      data[k] = (x / 0xffffffff) * 2 - 1;
    }
    return buffer;
  }

  /** Stops and releases the audio context. */
  dispose(): void {
    this.stop();
    void this._ctx?.close();
    this._ctx = undefined;
  }
}
