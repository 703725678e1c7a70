import * as vscode from 'vscode';
import type { Logger } from './logger';
import { describeError } from './logger';

/**
 * A {@link Logger} over one `LogOutputChannel`. The channel's level is the user's choice
 * ("Developer: Set Log Level..."), so nothing is filtered here.
 */
export function createChannelLogger(channel: vscode.LogOutputChannel, component?: string): Logger {
  const tag = component ? `[${component}] ` : '';
  return {
    trace: (m) => channel.trace(tag + m),
    debug: (m) => channel.debug(tag + m),
    info: (m) => channel.info(tag + m),
    warn: (m) => channel.warn(tag + m),
    error: (m, e) => channel.error(e === undefined ? tag + m : `${tag}${m}\n${describeError(e)}`),
    child: (c) => createChannelLogger(channel, component ? `${component}/${c}` : c),
  };
}
