// No telemetry: onnxruntime-node reads this before it loads (the engine worker sets it too).
process.env.ORT_DISABLE_TELEMETRY = '1';

import * as vscode from 'vscode';
import { createCommands, registerCommands } from './commands/index';
import { UnavailableGenerationService } from './panels/generationService';
import { RefrainViews } from './panels/views';
import { createChannelLogger } from './platform/vscodeLog';
import { ReportDocuments } from './providers/reportDocuments';
import type { Services } from './services';

/**
 * Builds the services and registers the contributions. Nothing heavy happens here: no model is
 * loaded and no workspace is scanned until a command needs it.
 */
export function activate(context: vscode.ExtensionContext): void {
  const channel = vscode.window.createOutputChannel('Refrain', { log: true });
  context.subscriptions.push(channel);
  const log = createChannelLogger(channel);
  const started = Date.now();
  try {
    const services: Services = { context, channel, log };
    const reports = new ReportDocuments();
    context.subscriptions.push(reports);
    // The structure panel and the MIDI editor; generation answers "no model" until an engine is wired in.
    const views = new RefrainViews(context.extensionUri, new UnavailableGenerationService(), log.child('views'));
    context.subscriptions.push(views);
    context.subscriptions.push(...registerCommands(services, createCommands(services, reports, views)));
    log.info(`[activate] Refrain ${String(context.extension.packageJSON.version)} activated in ${Date.now() - started} ms`);
  } catch (e) {
    // VS Code shows nothing when activation fails, so say it ourselves, then rethrow.
    log.error('[activate] failed', e);
    void vscode.window.showErrorMessage(`Refrain failed to start: ${e instanceof Error ? e.message : String(e)}`, 'Show Logs').then((c) => {
      if (c === 'Show Logs') {
        channel.show();
      }
    });
    throw e;
  }
}

/** Everything is disposed through `context.subscriptions`. */
export function deactivate(): void {
  // Nothing beyond the subscriptions.
}
