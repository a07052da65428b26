/**
 * The environment for running the `carepipe` command against a test's pipeline environment:
 * the same Temporal server, store, task-queue prefix and keys, so the command's runs are served
 * by the test's in-process workers and its encrypted payloads are readable by them.
 */
import type { KeyRing } from '../../core/config.js';
import { cliEnv } from './cli.js';
import type { PipelineEnv } from './pipeline-env.js';

function keyList(ring: KeyRing): string {
  return [...ring.keys].map(([id, key]) => `${id}:${key.toString('base64')}`).join(',');
}

export function pipelineCliEnv(env: PipelineEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cliEnv({
    CAREPIPE_TEMPORAL_ADDRESS: env.config.temporal.address,
    CAREPIPE_S3_ENDPOINT: env.config.s3.endpoint!,
    // versitygw accepts but does not confirm SSE: the local stack's explicit exception for PHI zones.
    CAREPIPE_LOCAL_DEVELOPMENT: 'true',
    CAREPIPE_LAKE: env.lakeUri,
    CAREPIPE_TASK_QUEUE_PREFIX: env.queuePrefix,
    CAREPIPE_CODEC_KEYS: keyList(env.keys.codec),
    CAREPIPE_CODEC_KEY_ID: env.keys.codec.activeId,
    CAREPIPE_PSEUDONYM_KEYS: keyList(env.keys.pseudonym),
    CAREPIPE_PSEUDONYM_KEY_ID: env.keys.pseudonym.activeId,
    ...extra,
  });
}
