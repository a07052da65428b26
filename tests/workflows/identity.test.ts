/**
 * Identity and refusals through real services (Temporal, versitygw, the workers): `carepipe models
 * promote` with a data scientist's token is refused by promoteWorkflow, naming role and permission,
 * and moves nothing; the same with an ops token moves the champion, recorded as moved by that
 * person; the workers fail runs started without an actor, with a payload in clear, or on a lake
 * not on their allow-list, each at once and without retries.
 */
import test from 'ava';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { readAlias } from '../../activities/registry/aliases.js';
import { readAuditStream } from '../../activities/registry/audit.js';
import { type ModelMetadata, writeMetadata } from '../../activities/registry/metadata.js';
import { taskQueue } from '../../schemas/names.js';
import type { IngestInput } from '../../schemas/workflows.js';
import { ingestWorkflow } from '../../workflows/index.js';
import { runCli } from '../helpers/cli.js';
import { TEST_ACTOR } from '../helpers/identity.js';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../helpers/oidc.js';
import { pipelineCliEnv } from '../helpers/pipeline-cli.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';
import { fakeMetadata } from '../helpers/model-metadata.js';

const MODEL = 'identity-model';
let env: PipelineEnv;
let issuer: TestIssuer;

function metadata(version: string): ModelMetadata {
  return fakeMetadata(MODEL, version, 0.7, '2026-12-03T00:00:00Z');
}

test.before(async () => {
  env = await createPipelineEnv('identity');
  issuer = await createTestIssuer();
  await writeMetadata(env.deps.lake(env.lakeUri), metadata('v1'));
  await env.startWorkers();
});

test.after.always(async () => {
  await env?.close();
});

/** The failure at the bottom of a failed run: the workflow's own, or the activity's under it. */
async function rootFailure(run: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await run;
  } catch (err) {
    let cause = err instanceof WorkflowFailedError ? err.cause : undefined;
    if (cause instanceof ActivityFailure) cause = cause.cause;
    if (cause instanceof ApplicationFailure) return cause;
    throw err;
  }
  throw new Error('the run succeeded');
}

const orchestration = () => taskQueue(env.queuePrefix, 'orchestration');

test.serial("a data scientist's token cannot promote; an ops token can, and the alias records who moved it", async (t) => {
  const store = env.deps.lake(env.lakeUri);
  const as = async (token: string) =>
    runCli(['models', 'promote', MODEL, 'v1', '--reason', 'identity test', '--json'], pipelineCliEnv(env, { ...issuer.env, CAREPIPE_TOKEN: token }));

  const refused = await as(await issuer.token('u-ds-1', ['data-scientist']));
  t.is(refused.code, 1, refused.stderr);
  t.regex(refused.stderr, /u-ds-1 \(role data-scientist\) may not promote: that needs the role ops/);
  t.is((await readAlias(store, MODEL)).doc, null, 'the champion did not move');

  const done = await as(await issuer.token('u-ops-1', ['ops']));
  t.is(done.code, 0, done.stderr);
  t.like(JSON.parse(done.stdout) as Record<string, unknown>, { promoted: true, version: 'v1' });
  const alias = (await readAlias(store, MODEL)).doc!;
  t.is(alias.version, 'v1');
  t.is(alias.movedBy, 'u-ops-1', 'a person, not a workflow id');
  const audit = await readAuditStream(store, `registry-${MODEL}`);
  t.deepEqual(audit.at(-1)!.event.actor, { subject: 'u-ops-1', issuer: TEST_ISSUER, roles: ['ops'] });
});

test.serial('a token of another issuer is refused by the CLI before anything starts', async (t) => {
  const r = await runCli(
    ['models', 'promote', MODEL, 'v1', '--reason', 'x'],
    pipelineCliEnv(env, { ...issuer.env, CAREPIPE_TOKEN: await issuer.token('u', ['ops'], { issuer: 'https://other.invalid' }) }),
  );
  t.is(r.code, 1);
  t.regex(r.stderr, /the token is not valid for issuer https:\/\/sso\.test\.invalid\/realms\/carepipe \(ERR_JWT_CLAIM_VALIDATION_FAILED\)/);
});

test.serial('a run whose input names no actor fails at once as ForbiddenError', async (t) => {
  const input = { lake: env.lakeUri, bucketCount: 4 } as unknown as IngestInput;
  const handle = await env.client.workflow.start(ingestWorkflow, { taskQueue: orchestration(), workflowId: `identity/no-actor-${Date.now()}`, args: [input] });
  const failure = await rootFailure(handle.result());
  t.is(failure.type, 'ForbiddenError');
  t.true(failure.nonRetryable);
  t.is(failure.message, 'the input names no valid actor, so nobody may ingest with it');
});

test.serial('a run started with its input in clear fails at once as UnencryptedPayloadError, naming the problem', async (t) => {
  // rawClient has no codec: what any client of the namespace could send.
  const handle = await env.rawClient.workflow.start('ingestWorkflow', {
    taskQueue: orchestration(),
    workflowId: `identity/clear-${Date.now()}`,
    args: [{ lake: env.lakeUri, actor: TEST_ACTOR, bucketCount: 4 }],
  });
  const failure = await rootFailure(handle.result());
  t.is(failure.type, 'UnencryptedPayloadError');
  t.true(failure.nonRetryable);
  t.regex(
    failure.message,
    /^the workflow input argument 0 arrived unencrypted \(encoding json\/plain\): workers accept only payloads encrypted by the carepipe codec/,
  );
});

test.serial("a run on a lake not on the workers' allow-list fails without retries as LakeNotAllowedError, naming the lake", async (t) => {
  const other = `s3://identity-elsewhere-${Date.now().toString(36)}`;
  const handle = await env.client.workflow.start(ingestWorkflow, {
    taskQueue: orchestration(),
    workflowId: `identity/lake-${Date.now()}`,
    args: [{ lake: other, actor: TEST_ACTOR, bucketCount: 4 }],
  });
  const failure = await rootFailure(handle.result());
  t.is(failure.type, 'LakeNotAllowedError');
  t.is(failure.message, `lake ${other} is not on this worker's allow-list (CAREPIPE_LAKE_ALLOW: ${env.lakeUri})`);
  const history = await handle.fetchHistory();
  const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
  t.deepEqual(attempts, [1], 'one attempt: not retried');
});
