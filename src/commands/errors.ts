import * as vscode from 'vscode';
import { toUserError } from '../platform/errors';
import type { Services } from './services';

/** The buttons of each error action. */
const BUTTONS = { choose: 'Choose Model', logs: 'Show Logs' } as const;

/**
 * Shows a failed command to the user: the error's message with its action (Choose Model, Show
 * Logs), the detail in the log. Cancellations are logged at debug level and never shown.
 */
export async function reportCommandError(services: Services, command: string, error: unknown): Promise<void> {
  const e = toUserError(error);
  const log = services.log.child('command');
  if (e.code === 'cancelled') {
    log.debug(`${command}: cancelled`);
    return;
  }
  log.error(`${command} failed [${e.code}]`, error);
  const message = e.unexpected ? `Refrain: ${command} failed: ${e.message}` : e.message;
  const buttons = e.action === 'choose-model' ? [BUTTONS.choose, BUTTONS.logs] : [BUTTONS.logs];
  const choice = await vscode.window.showErrorMessage(message, ...buttons);
  if (choice === BUTTONS.logs) {
    services.channel.show(true);
  } else if (choice === BUTTONS.choose) {
    await vscode.commands.executeCommand('refrain.chooseModel');
  }
}
