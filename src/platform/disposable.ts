/**
 * Disposable helpers in the style of VS Code's own `lifecycle.ts`, free of any `vscode` import so pure
 * code (engine client, CLI) can use them too.
 */

/** Anything that can be disposed. Structurally compatible with `vscode.Disposable`. */
export interface IDisposable {
  dispose(): void;
}

/** Base class that owns child disposables and disposes them (in reverse order) with itself. */
export abstract class Disposable implements IDisposable {
  private readonly _children: IDisposable[] = [];
  private _isDisposed = false;

  /** True once {@link dispose} has run. */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Registers a child to dispose with this object; disposes it at once if this is already disposed. */
  protected _register<T extends IDisposable>(child: T): T {
    if (this._isDisposed) {
      child.dispose();
    } else {
      this._children.push(child);
    }
    return child;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    disposeAll(this._children.splice(0).reverse());
  }
}

/** Holds at most one disposable; setting a new value disposes the previous one. */
export class MutableDisposable<T extends IDisposable> implements IDisposable {
  private _value: T | undefined;
  private _isDisposed = false;

  get value(): T | undefined {
    return this._value;
  }

  set value(next: T | undefined) {
    if (this._isDisposed) {
      next?.dispose();
      return;
    }
    if (next === this._value) {
      return;
    }
    const previous = this._value;
    this._value = next;
    previous?.dispose();
  }

  /** Disposes the held value and forgets it. */
  clear(): void {
    this.value = undefined;
  }

  dispose(): void {
    this._isDisposed = true;
    const previous = this._value;
    this._value = undefined;
    previous?.dispose();
  }
}

/** Disposes every item, continuing past failures, and rethrows the first failure at the end. */
export function disposeAll(items: Iterable<IDisposable>): void {
  let first: unknown;
  for (const item of items) {
    try {
      item.dispose();
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) {
    throw first;
  }
}

/** Wraps a function as a disposable. */
export function toDisposable(fn: () => void): IDisposable {
  let done = false;
  return {
    dispose(): void {
      if (!done) {
        done = true;
        fn();
      }
    },
  };
}
