/**
 * The Temporal runtime of a worker or client process, installed once: its logs go out as JSON
 * lines through carepipe's logger (never payloads: the SDK logs ids and types, and payloads are
 * encrypted before they reach it).
 */
import { DefaultLogger, type LogLevel as TemporalLogLevel, Runtime } from '@temporalio/worker';
import type { Logger } from '../core/log.js';

let installed = false;

export function installRuntime(logger: Logger, level: TemporalLogLevel = 'WARN'): void {
  // One worker per queue means the SDK warns that the orchestration worker has no activities and
  // the others no workflows: by design here, so those two notices are dropped.
  if (installed) return;
  installed = true;
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      if (/^No (activities|workflows) registered, not polling/.test(entry.message)) return;
      const fields = Object.fromEntries(Object.entries(entry.meta ?? {}).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))) as Record<string, string | number | boolean>;
      const method = entry.level === 'ERROR' ? 'error' : entry.level === 'WARN' ? 'warn' : entry.level === 'INFO' ? 'info' : 'debug';
      logger[method](entry.message, { source: 'temporal', ...fields });
    }),
  });
}
