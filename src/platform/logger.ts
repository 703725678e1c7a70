/**
 * The logging interface shared by every layer. The extension backs it with a VS Code
 * `LogOutputChannel` (see `platform/vscodeLog.ts`); the CLI with stderr; tests with a silent logger.
 */

/** Log levels, lowest first. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** A component-tagged logger. Messages never include note data or file contents, only sizes and ids. */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  /** Logs the message and, when given, the error's stack. */
  error(message: string, error?: unknown): void;
  /** A logger whose lines carry `[component]`. */
  child(component: string): Logger;
}

const ORDER: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** Formats an unknown thrown value with its stack when it has one. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    return error.stack ?? `${error.name}: ${error.message}`;
  }
  return String(error);
}

/**
 * A logger that hands `(level, "[component] message")` to `emit`, dropping levels below
 * `minLevel`. The base of the other loggers (stderr lines, the engine worker's posted logs).
 */
export function createLevelLogger(emit: (level: LogLevel, message: string) => void, minLevel: LogLevel = 'info', component?: string): Logger {
  const tag = component ? `[${component}] ` : '';
  const log = (level: LogLevel, message: string): void => {
    if (ORDER[level] >= ORDER[minLevel]) {
      emit(level, tag + message);
    }
  };
  return {
    trace: (m) => log('trace', m),
    debug: (m) => log('debug', m),
    info: (m) => log('info', m),
    warn: (m) => log('warn', m),
    error: (m, e) => log('error', e === undefined ? m : `${m}\n${describeError(e)}`),
    child: (c) => createLevelLogger(emit, minLevel, component ? `${component}/${c}` : c),
  };
}

/** A logger that writes `level [component] message` lines to a sink, dropping levels below `minLevel`. */
export function createLineLogger(sink: (line: string) => void, minLevel: LogLevel = 'info', component?: string): Logger {
  return createLevelLogger((level, message) => sink(`${level} ${message}`), minLevel, component);
}

/** A logger that drops everything (tests). */
export function silentLogger(): Logger {
  return createLineLogger(() => undefined, 'error');
}
