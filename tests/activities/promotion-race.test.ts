/**
 * The champion alias under contention, on a store with atomic conditional writes (a file:// lake):
 * racing promotions from the same starting state cannot both win, and the audit chain stays
 * intact. (On versitygw, whose conditions are per-request, promotions are serialised by the
 * promotion-lock workflow instead: tests/workflows/registry.test.ts.)
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActivityDeps } from '../../activities/context.js';
import { readAlias } from '../../activities/registry/aliases.js';
import { readAuditStream, verifyAuditStream } from '../../activities/registry/audit.js';
import { type ModelMetadata, writeMetadata } from '../../activities/registry/metadata.js';
import { promoteCandidate } from '../../activities/registry/promote.js';
import { createDeps } from '../../cli/deps.js';
import { parseConfig } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { DEFAULT_GATE } from '../../schemas/workflows.js';
import { testKeyRing } from '../helpers/pipeline-env.js';
import { TEST_ACTOR } from '../helpers/identity.js';
import { fakeMetadata } from '../helpers/model-metadata.js';

function metadata(version: string, rocAuc: number): ModelMetadata {
  return fakeMetadata('race', version, rocAuc);
}

function fileLake(): { deps: ActivityDeps; uri: string } {
  const uri = `file://${mkdtempSync(join(tmpdir(), 'carepipe-race-'))}`;
  const config = parseConfig({ CAREPIPE_LAKE: uri });
  return { deps: createDeps(config, { codec: testKeyRing('c'), pseudonym: testKeyRing('p') }, createLogger('error')), uri };
}

test('of two promotions racing from the same champion, exactly one moves the alias and the other is told it lost', async (t) => {
  const { deps, uri } = fileLake();
  const store = deps.lake(uri);
  for (const [v, auc] of [
    ['v1', 0.7],
    ['v2', 0.75],
    ['v3', 0.76],
  ] as const)
    await writeMetadata(store, metadata(v, auc));
  await promoteCandidate(deps, { actor: TEST_ACTOR, lake: uri, model: 'race', version: 'v1', gate: DEFAULT_GATE, workflowId: 'w1' });
  for (let round = 0; round < 5; round++) {
    const before = (await readAlias(store, 'race')).doc!.version;
    const [a, b] = await Promise.all(
      ['v2', 'v3'].map((version) =>
        promoteCandidate(deps, {
          actor: TEST_ACTOR,
          lake: uri,
          model: 'race',
          version,
          gate: DEFAULT_GATE,
          workflowId: `race-${round}-${version}`,
          mode: 'force',
        }),
      ),
    );
    const winners = [a!, b!].filter((r) => r.promoted && r.previousChampion === before);
    const losers = [a!, b!].filter((r) => !r.promoted);
    const after = (await readAlias(store, 'race')).doc!;
    // Either one won and the other lost the race, or they ran one after the other (each then saw the other's move).
    if (losers.length === 1) {
      t.is(winners.length, 1);
      t.is(losers[0]!.reason, 'another promotion moved the champion alias first');
      t.is(after.version, winners[0]!.version);
    } else {
      t.is(winners.length, 1, 'two promotions that both succeed cannot both have replaced the same champion');
      t.is(after.previous, winners[0]!.version);
    }
    // Reset for the next round.
    await promoteCandidate(deps, {
      actor: TEST_ACTOR,
      lake: uri,
      model: 'race',
      version: 'v1',
      gate: DEFAULT_GATE,
      workflowId: `reset-${round}`,
      mode: 'rollback',
    });
  }
  t.like(await verifyAuditStream(store, 'registry-race'), { ok: true, records: 16 });
});

test('the gate rejects a challenger worse than the champion by more than the margin, and records why', async (t) => {
  const { deps, uri } = fileLake();
  const store = deps.lake(uri);
  await writeMetadata(store, metadata('v1', 0.75));
  await writeMetadata(store, metadata('v2', 0.74));
  await writeMetadata(store, metadata('v3', 0.7449));
  await promoteCandidate(deps, { actor: TEST_ACTOR, lake: uri, model: 'race', version: 'v1', gate: DEFAULT_GATE, workflowId: 'w1' });
  const within = await promoteCandidate(deps, {
    actor: TEST_ACTOR,
    lake: uri,
    model: 'race',
    version: 'v3',
    gate: { ...DEFAULT_GATE, aucMargin: 0.01 },
    workflowId: 'w3',
  });
  t.true(within.promoted, within.reason);
  const worse = await promoteCandidate(deps, {
    actor: TEST_ACTOR,
    lake: uri,
    model: 'race',
    version: 'v2',
    gate: { ...DEFAULT_GATE, aucMargin: 0.001 },
    workflowId: 'w2',
  });
  t.false(worse.promoted);
  // These hand-made versions have no model files to re-score, so the gate says it compared recorded numbers.
  t.is(
    worse.reason,
    "test ROC AUC 0.7400 is below champion v3's 0.7449 minus the margin 0.001 (recorded test sets: the champion could not be re-scored: features: no manifest at features/d/v-1/manifest.json; build the features first)",
  );
  t.is((await readAlias(store, 'race')).doc!.version, 'v3');
  const audit = await readAuditStream(store, 'registry-race');
  t.deepEqual(
    audit.map((r) => [r.event.version, r.event.decision]),
    [
      ['v1', 'promoted'],
      ['v3', 'promoted'],
      ['v2', 'rejected'],
    ],
  );
});

test('an operator can force a version past the gate and roll back; both are audited and the gate record is kept', async (t) => {
  const { deps, uri } = fileLake();
  const store = deps.lake(uri);
  await writeMetadata(store, metadata('v1', 0.75));
  await writeMetadata(store, metadata('v2', 0.6));
  await promoteCandidate(deps, { actor: TEST_ACTOR, lake: uri, model: 'race', version: 'v1', gate: DEFAULT_GATE, workflowId: 'w1' });
  const gated = await promoteCandidate(deps, { actor: TEST_ACTOR, lake: uri, model: 'race', version: 'v2', gate: DEFAULT_GATE, workflowId: 'w2' });
  t.false(gated.promoted);
  const forced = await promoteCandidate(deps, {
    actor: TEST_ACTOR,
    lake: uri,
    model: 'race',
    version: 'v2',
    gate: DEFAULT_GATE,
    workflowId: 'op-1',
    mode: 'force',
    reason: 'ticket 42',
  });
  t.true(forced.promoted);
  t.is(forced.reason, 'force by an operator: ticket 42');
  const back = await promoteCandidate(deps, {
    actor: TEST_ACTOR,
    lake: uri,
    model: 'race',
    version: 'v1',
    gate: DEFAULT_GATE,
    workflowId: 'op-2',
    mode: 'rollback',
    reason: 'bad calibration',
  });
  t.true(back.promoted);
  t.is((await readAlias(store, 'race')).doc!.version, 'v1');
  const audit = await readAuditStream(store, 'registry-race');
  t.deepEqual(
    audit.map((r) => r.event.type),
    ['gate', 'gate', 'force', 'rollback'],
  );
  t.like(await verifyAuditStream(store, 'registry-race'), { ok: true, records: 4 });
});
