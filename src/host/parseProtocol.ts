/** Messages between `ParseHost` and the parse worker. Plain data only. */

/** A request: read the ABC tune at an offset or with an index, or every piece of a file. */
export type ParseRequest =
  | { id: number; op: 'tuneAt'; text: string; offset: number }
  | { id: number; op: 'tuneByIndex'; text: string; index: number }
  | { id: number; op: 'pieces'; path: string; bytes: Uint8Array };

/** The answer: the value, or the error's code and message. Id 0: the worker is loaded and ready. */
export type ParseResponse =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; code: string; message: string; /** Not a problem of the input: a bug in a reader. */ crash?: boolean };
