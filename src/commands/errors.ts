import * as vscode from 'vscode';
import { MusicInputError } from '../music/score';
import { isCancellationError } from '../platform/cancellation';
import type { Services } from '../services';

/**
 * Shows a failed command to the user: a short message with a "Show Logs" button, the detail in
 * the log. Cancellations are logged at debug level and never shown.
 */
export async function reportCommandError(services: Services, command: string, error: unknown): Promise<void> {
  if (isCancellationError(error)) {
    services.log.debug(`${command}: cancelled`);
    return;
  }
  const message = error instanceof MusicInputError ? error.message : `Refrain: ${command} failed: ${error instanceof Error ? error.message : String(error)}`;
  services.log.error(`${command} failed`, error);
  const choice = await vscode.window.showErrorMessage(message, 'Show Logs');
  if (choice === 'Show Logs') {
    services.channel.show(true);
  }
}
