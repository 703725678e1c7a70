/**
 * A leading-and-trailing throttle for progress messages: the first value goes out at once,
 * later ones at most every `intervalMs`, and the last value of a burst is never lost (it goes
 * out when the interval ends, or at {@link Throttle.flush}).
 *
 * Pure TypeScript with an injectable clock and timer, so tests need no real time.
 */

/** The clock and timer a {@link Throttle} uses (defaults: `Date.now`, `setTimeout`). */
export interface ThrottleTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: ThrottleTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Passes values to `emit` at most once per interval, keeping the newest pending value. */
export class Throttle<T> {
  private _last = Number.NEGATIVE_INFINITY;
  private _pending: { value: T } | undefined;
  private _timer: unknown;
  private _disposed = false;

  constructor(
    private readonly _emit: (value: T) => void,
    private readonly _intervalMs: number,
    private readonly _timers: ThrottleTimers = realTimers,
  ) {}

  /** Offers a value: emitted now if the interval has passed, else kept as the pending one. */
  push(value: T): void {
    if (this._disposed) {
      return;
    }
    const now = this._timers.now();
    if (this._timer === undefined && now - this._last >= this._intervalMs) {
      this._last = now;
      this._emit(value);
      return;
    }
    this._pending = { value };
    if (this._timer === undefined) {
      const wait = Math.max(0, this._intervalMs - (now - this._last));
      this._timer = this._timers.setTimeout(() => {
        this._timer = undefined;
        this.flush();
      }, wait);
    }
  }

  /** Emits the pending value now, if any. */
  flush(): void {
    if (this._timer !== undefined) {
      this._timers.clearTimeout(this._timer);
      this._timer = undefined;
    }
    const pending = this._pending;
    this._pending = undefined;
    if (pending && !this._disposed) {
      this._last = this._timers.now();
      this._emit(pending.value);
    }
  }

  /** Drops any pending value and stops. */
  dispose(): void {
    this._disposed = true;
    this._pending = undefined;
    if (this._timer !== undefined) {
      this._timers.clearTimeout(this._timer);
      this._timer = undefined;
    }
  }
}
