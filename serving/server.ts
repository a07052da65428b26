/**
 * Starting a server: the settings (flags over CAREPIPE_SERVE_* variables over defaults, refused at
 * start with a sentence naming the setting), the model host's first load, the app, and listening.
 * `carepipe serve` and the tests both start servers through `startServer`.
 */
import type { FastifyInstance } from 'fastify';
import type { ObjectStore } from '../activities/io/object-store.js';
import type { KeyRing } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { buildApp } from './app.js';
import { ModelHost } from './model-host.js';
import { RawStayFeaturizer } from './raw-stays.js';

export interface ServeSettings {
  host: string;
  port: number;
  /** Models to serve; all in the registry when empty. */
  models: string[];
  pollMs: number;
  maxBatch: number;
  bodyLimit: number;
}

export const DEFAULT_SERVE_PORT = 8235;

export interface RawServeSettings {
  host?: string | undefined;
  port?: string | undefined;
  models?: string | undefined;
  pollMs?: string | undefined;
  maxBatch?: string | undefined;
  bodyLimit?: string | undefined;
}

/** Reads CAREPIPE_SERVE_HOST, _PORT, _MODELS (comma-separated), _POLL_MS, _MAX_BATCH, _BODY_LIMIT; flags override. */
export function serveSettings(env: NodeJS.ProcessEnv, flags: RawServeSettings): ServeSettings {
  const pick = (flag: string | undefined, variable: string) => ({
    value: flag ?? env[variable],
    name: flag !== undefined ? `--${variable.slice(15).toLowerCase().replace(/_/g, '-')}` : variable,
  });
  const int = (flag: string | undefined, variable: string, fallback: number, min: number, max: number) => {
    const { value, name } = pick(flag, variable);
    if (value === undefined || value === '') return fallback;
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}.`);
    return n;
  };
  const models = (pick(flags.models, 'CAREPIPE_SERVE_MODELS').value ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  return {
    host: pick(flags.host, 'CAREPIPE_SERVE_HOST').value || '127.0.0.1',
    port: int(flags.port, 'CAREPIPE_SERVE_PORT', DEFAULT_SERVE_PORT, 0, 65535),
    models,
    pollMs: int(flags.pollMs, 'CAREPIPE_SERVE_POLL_MS', 2000, 10, 3_600_000),
    maxBatch: int(flags.maxBatch, 'CAREPIPE_SERVE_MAX_BATCH', 1000, 1, 1_000_000),
    bodyLimit: int(flags.bodyLimit, 'CAREPIPE_SERVE_BODY_LIMIT', 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  };
}

export interface RunningServer {
  app: FastifyInstance;
  host: ModelHost;
  url: string;
  close(): Promise<void>;
}

/** `pseudonym`: the lake's pseudonym key ring, without which raw rows cannot be de-identified (feature records still work). */
export async function startServer(store: ObjectStore, settings: ServeSettings, logger: Logger, pseudonym: KeyRing | null): Promise<RunningServer> {
  const host = new ModelHost({ store, logger, pollMs: settings.pollMs, ...(settings.models.length > 0 ? { models: settings.models } : {}) });
  await host.start();
  const app = await buildApp(
    {
      host,
      store,
      logger,
      raw: pseudonym ? new RawStayFeaturizer(pseudonym) : null,
      limits: { maxBatch: settings.maxBatch, maxBodyBytes: settings.bodyLimit },
    },
    { bodyLimit: settings.bodyLimit },
  );
  await app.listen({ host: settings.host, port: settings.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  const url = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;
  logger.info('serve: listening', { url, models: host.modelNames().join(','), ready: host.ready(), rawRows: pseudonym !== null });
  return {
    app,
    host,
    url,
    async close() {
      host.close();
      await app.close();
    },
  };
}
