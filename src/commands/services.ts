import type * as vscode from 'vscode';
import type { GenerationService } from '../generation/service';
import type { Logger } from '../platform/logger';
import type { ParseHost } from '../host/parseHost';

/** What every command and provider gets: built once in `activate`, nothing heavy. */
export interface Services {
  readonly context: vscode.ExtensionContext;
  readonly channel: vscode.LogOutputChannel;
  readonly log: Logger;
  /** Reads user text (ABC tunes, MIDI files) in a worker thread with a time limit. */
  readonly parser: ParseHost;
  /** The one generation path (model choice, the current run, candidates' edits). */
  readonly generation: GenerationService;
}
