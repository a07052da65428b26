/**
 * The promotion retry gap (issue 15): an attempt that moved the champion alias and then failed
 * (a transient error on the next write; the same state a worker killed there leaves) is retried,
 * and the retry must still write the gate metadata and the audit record, exactly once.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditKeyRing } from '../../activities/audit/chain.js';
import { bindAuditKeys, readAuditStream, verifyAuditStream } from '../../activities/audit/log.js';
import { readAlias } from '../../activities/registry/aliases.js';
import { type ModelMetadata, readMetadata, writeMetadata } from '../../activities/registry/metadata.js';
import { promoteCandidate } from '../../activities/registry/promote.js';
import { createDeps } from '../../cli/deps.js';
import { parseConfig } from '../../core/config.js';
import { TransientError } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';
import { DEFAULT_GATE } from '../../schemas/workflows.js';
import { FaultyStore, type FaultRule } from '../helpers/faulty-store.js';
import { testKeyRing } from '../helpers/pipeline-env.js';
import type { Identity } from '../../core/identity/roles.js';
import { fakeMetadata } from '../helpers/model-metadata.js';

const ALICE: Identity = { subject: 'alice@example.org', issuer: 'carepipe-test', roles: ['ops'] };

function metadata(version: string, rocAuc: number): ModelMetadata {
  return fakeMetadata('retry', version, rocAuc);
}

/** A lake with champion v1 and a better candidate v2, whose store fails once as `rule` says. */
async function lakeFailingOnce(rule: Omit<FaultRule, 'name' | 'times'>) {
  const uri = `file://${mkdtempSync(join(tmpdir(), 'carepipe-retry-'))}`;
  const keys = { codec: testKeyRing('c'), pseudonym: testKeyRing('p') };
  const deps = createDeps(parseConfig({ CAREPIPE_LAKE: uri }), keys, createLogger('error'));
  const store = deps.lake(uri);
  await writeMetadata(store, metadata('v1', 0.7));
  await writeMetadata(store, metadata('v2', 0.8));
  await promoteCandidate(deps, { lake: uri, model: 'retry', version: 'v1', gate: DEFAULT_GATE, workflowId: 'retrain/1', actor: ALICE });
  const faulty = bindAuditKeys(new FaultyStore(store, [{ name: 'after the alias move', times: 1, ...rule }]), { ring: auditKeyRing(keys) });
  return { uri, store, faulty, deps: { ...deps, lake: () => faulty } };
}

for (const [what, rule] of [
  ['the audit record', { op: 'put', match: (k: string) => /^audit\/registry-retry\/\d+\.json$/.test(k) }],
  ['the gate metadata', { op: 'put', match: (k: string) => k === 'registry/retry/v2/model_metadata.yaml' }],
] as const) {
  test(`a promotion that moved the alias and then failed writing ${what} writes the metadata and one audit record when retried`, async (t) => {
    const { uri, store, faulty, deps } = await lakeFailingOnce(rule);
    const input = { lake: uri, model: 'retry', version: 'v2', gate: DEFAULT_GATE, workflowId: 'retrain/2', actor: ALICE };
    await t.throwsAsync(promoteCandidate(deps, input), { instanceOf: TransientError });
    t.is(faulty.injected.length, 1);
    const alias = (await readAlias(store, 'retry')).doc!;
    t.deepEqual([alias.version, alias.previous, alias.movedBy], ['v2', 'v1', 'alice@example.org']);

    const retried = await promoteCandidate(deps, input);
    t.deepEqual(retried, { promoted: true, version: 'v2', previousChampion: 'v1', reason: retried.reason });
    t.regex(retried.reason, /^test ROC AUC 0\.8000/);
    const gate = (await readMetadata(store, 'retry', 'v2'))!.gate!;
    t.deepEqual([gate.decision, gate.champion, gate.reason], ['promoted', 'v1', retried.reason]);
    const audit = await readAuditStream(store, 'registry-retry');
    t.deepEqual(
      audit.map((r) => [r.actor, r.event.version, r.event.decision, r.event.previousChampion]),
      [
        ['alice@example.org', 'v1', 'promoted', null],
        ['alice@example.org', 'v2', 'promoted', 'v1'],
      ],
    );
    t.like(await verifyAuditStream(store, 'registry-retry'), { ok: true, records: 2 });

    // A third run (Temporal retrying once more) changes nothing.
    t.deepEqual(await promoteCandidate(deps, input), retried);
    t.is((await readAuditStream(store, 'registry-retry')).length, 2);
  });
}
