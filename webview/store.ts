/**
 * The view's one state store: the UI state (see `state.ts`), changed only through
 * {@link Store.update}, saved with the webview's `setState` (debounced) and announced to the
 * components that render from it.
 */

import type { UiState } from './state';

/** Holds the state; components subscribe to changes. */
export class Store {
  private _state: UiState;
  private _saveTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly _listeners: ((state: UiState, previous: UiState) => void)[] = [];

  constructor(
    initial: UiState,
    private readonly _save: (state: UiState) => void,
  ) {
    this._state = initial;
  }

  /** The current state. */
  get state(): UiState {
    return this._state;
  }

  /** Replaces the state (a new object or a function of the old one), saves it soon and notifies. */
  update(next: UiState | ((state: UiState) => UiState)): void {
    const previous = this._state;
    const value = typeof next === 'function' ? next(previous) : next;
    if (value === previous) {
      return;
    }
    this._state = value;
    if (this._saveTimer === undefined) {
      this._saveTimer = setTimeout(() => {
        this._saveTimer = undefined;
        this._save(this._state);
      }, 100);
    }
    for (const listener of this._listeners) {
      listener(value, previous);
    }
  }

  /** Calls `listener` after every change. */
  subscribe(listener: (state: UiState, previous: UiState) => void): void {
    this._listeners.push(listener);
  }
}
