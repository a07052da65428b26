/** The client the schedule subcommands share, and the usage error for a schedule that is not there. */
import { type Client, ScheduleNotFoundError } from '@temporalio/client';
import { type Config, loadConfig, requireKeys } from '../../../core/config.js';
import { InvalidInputError } from '../../../core/errors.js';
import { connectClient } from '../../temporal.js';

/** A missing schedule named on the command line is a usage error (exit 2) that names it. */
export function scheduleNotFound(err: unknown, config: Config): unknown {
  return err instanceof ScheduleNotFoundError
    ? new InvalidInputError(`no schedule "${err.scheduleId}" in namespace ${config.temporal.namespace}`, { cause: err })
    : err;
}

export async function withClient<T>(body: (client: Client, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const client = await connectClient(config, requireKeys(config));
  try {
    return await body(client, config);
  } catch (err) {
    throw scheduleNotFound(err, config);
  } finally {
    await client.connection.close();
  }
}
