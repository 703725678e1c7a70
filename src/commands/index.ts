import * as vscode from 'vscode';
import type { RefrainViews } from '../webviews/views';
import type { ReportDocuments } from '../host/reportDocuments';
import type { Services } from './services';
import { createAnalyzeCommand } from './analyze';
import { createChooseModel, createContinueTune, createGenerateFromForm, createRegenerateBars } from './generate';
import { reportCommandError } from './errors';
import { createExportTrackToAbc, createExportTuneToMidi } from './export';
import { createOpenExample, markInsertWhenEdited, openWalkthrough } from './walkthrough';

/** A command handler; its arguments are whatever VS Code passes (e.g. the explorer's URI). */
export type CommandHandler = (...args: never[]) => unknown;

/**
 * Every Refrain command by its id suffix: `refrain.<name>`. `scripts/check-commands.mjs` checks
 * this table against `package.json` in CI.
 */
export function createCommands(services: Services, reports: ReportDocuments, views: RefrainViews): Record<string, CommandHandler> {
  return {
    analyze: createAnalyzeCommand(services, reports),
    showLog: () => services.channel.show(),
    showPanel: () => {
      views.showPanel();
    },
    play: () => views.play(),
    stop: () => views.stop(),
    continueTune: markInsertWhenEdited(createContinueTune(services)),
    regenerateBars: createRegenerateBars(services),
    generateFromForm: markInsertWhenEdited(createGenerateFromForm(services)),
    chooseModel: createChooseModel(services),
    exportTuneToMidi: createExportTuneToMidi(services),
    exportTrackToAbc: createExportTrackToAbc(services, views.midi),
    openExample: createOpenExample(services),
    getStarted: openWalkthrough,
    // Stops the one current run, whichever front started it (a command, the panel, a MIDI editor).
    cancelGeneration: () => {
      if (!services.generation.cancel()) {
        void vscode.window.setStatusBarMessage('Refrain: no generation is running', 3000);
      }
    },
  };
}

/** Registers every command, each wrapped so a failure reaches the user and the log. */
export function registerCommands(services: Services, commands: Record<string, CommandHandler>): vscode.Disposable[] {
  return Object.entries(commands).map(([name, handler]) => {
    const id = `refrain.${name}`;
    return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await (handler as (...a: unknown[]) => unknown)(...args);
      } catch (e) {
        await reportCommandError(services, id, e);
        return undefined;
      }
    });
  });
}
