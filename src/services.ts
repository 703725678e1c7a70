import type * as vscode from 'vscode';
import type { Logger } from './platform/logger';

/** What every command and provider gets: built once in `activate`, nothing heavy. */
export interface Services {
  readonly context: vscode.ExtensionContext;
  readonly channel: vscode.LogOutputChannel;
  readonly log: Logger;
}
