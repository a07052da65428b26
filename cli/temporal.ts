/** The Temporal client of the CLI: one connection, the shared encrypting data converter. */
import { Client, Connection } from '@temporalio/client';
import { type Config, type Keys } from '../core/config.js';
import { dataConverter } from '../core/codec.js';
import { UnreachableError } from './output.js';

export async function connectClient(config: Config, keys: Keys): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: config.temporal.address,
      connectTimeout: 5_000,
      ...(config.temporal.tls ? { tls: config.temporal.tls } : {}),
    });
  } catch (cause) {
    throw new UnreachableError(`cannot reach Temporal at ${config.temporal.address} (CAREPIPE_TEMPORAL_ADDRESS); is the stack up? \`npm run stack:up\``, {
      cause,
    });
  }
  return new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverter(keys.codec) });
}

/** The Web UI page of a workflow run. */
export function workflowUrl(config: Config, workflowId: string, runId?: string): string {
  const base = `${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}
