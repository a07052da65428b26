/**
 * The Temporal runtime of a worker or client process, installed once: every log line, the SDK
 * core's included, goes out as one JSON object through carepipe's logger (never payloads: the
 * SDK logs ids and types, and payloads are encrypted before they reach it), and with a metrics
 * port the runtime serves Prometheus metrics on `/metrics`: the SDK's own (task slots, polls,
 * latencies, ...) and carepipe's (workers/metrics.ts).
 */
import { DefaultLogger, type LogEntry, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import type { MetricsSettings } from '../core/config.js';
import type { Logger } from '../core/log.js';

let installed = false;

export interface RuntimeOptions {
  /** Serve Prometheus metrics (port 0: none). */
  metrics?: MetricsSettings;
}

/** Workflow and activity code log at carepipe's level; the SDK's own machinery only from WARN. */
function forward(logger: Logger, entry: LogEntry): void {
  if (/^No (activities|workflows) registered, not polling/.test(entry.message)) return;
  const meta = entry.meta ?? {};
  const fromCode = meta.sdkComponent === 'workflow' || meta.sdkComponent === 'activity';
  if (!fromCode && entry.level !== 'WARN' && entry.level !== 'ERROR') return;
  const fields = Object.fromEntries(Object.entries(meta).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))) as Record<
    string,
    string | number | boolean
  >;
  const method = entry.level === 'ERROR' ? 'error' : entry.level === 'WARN' ? 'warn' : entry.level === 'INFO' ? 'info' : 'debug';
  logger[method](entry.message, { source: 'temporal', ...fields });
}

/** The Prometheus endpoint's URL, or undefined without one. */
export function metricsUrl(metrics: MetricsSettings | undefined): string | undefined {
  if (!metrics || metrics.port === 0) return undefined;
  const host = metrics.host.includes(':') ? `[${metrics.host}]` : metrics.host;
  return `http://${host}:${metrics.port}/metrics`;
}

export function installRuntime(logger: Logger, options: RuntimeOptions = {}): void {
  // One worker per queue means the SDK warns that the orchestration worker has no activities and
  // the others no workflows: by design here, so those two notices are dropped.
  if (installed) return;
  installed = true;
  const metrics = options.metrics && options.metrics.port > 0 ? options.metrics : undefined;
  Runtime.install({
    logger: new DefaultLogger('DEBUG', (entry) => forward(logger, entry)),
    telemetryOptions: {
      // The Rust core's own lines are forwarded to the logger above instead of printed as text.
      logging: { filter: makeTelemetryFilterString({ core: 'WARN', other: 'WARN' }), forward: {} },
      ...(metrics
        ? {
            metrics: {
              prometheus: {
                bindAddress: `${metrics.host.includes(':') ? `[${metrics.host}]` : metrics.host}:${metrics.port}`,
                countersTotalSuffix: true,
                unitSuffix: false,
                useSecondsForDurations: false,
              },
            },
          }
        : {}),
    },
  });
}
