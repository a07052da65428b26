import test from 'ava';
import { type ChampionComparison, decideGate } from '../../activities/registry/gate.js';
import type { SubgroupComparison } from '../../activities/registry/metadata.js';
import { DEFAULT_GATE } from '../../schemas/workflows.js';

const group = (attribute: string, name: string, count: number, challenger: number, champion: number): SubgroupComparison => ({
  attribute,
  group: name,
  count,
  positives: Math.round(count / 6),
  challengerRocAuc: challenger,
  championRocAuc: champion,
});

const champion = (over: Partial<ChampionComparison>): ChampionComparison => ({
  version: 'v1',
  basis: 'rescored',
  rows: 1000,
  challengerRocAuc: 0.75,
  championRocAuc: 0.75,
  subgroups: [],
  ...over,
});

test('with no champion, only calibration is checked', (t) => {
  t.deepEqual(decideGate({ rocAuc: 0.6, ece: 0.05 }, null, DEFAULT_GATE), { decision: 'promoted', reason: 'no champion yet', subgroupDrops: [] });
  const badlyCalibrated = decideGate({ rocAuc: 0.9, ece: 0.2 }, null, DEFAULT_GATE);
  t.is(badlyCalibrated.decision, 'rejected');
  t.is(badlyCalibrated.reason, 'expected calibration error 0.2000 exceeds the bound 0.1');
});

test("the AUC comparison uses the re-scored numbers on the same stays, not each model's own test set", (t) => {
  // Recorded on its own test set the challenger looks better (0.80), but on the same stays it is worse.
  const outcome = decideGate({ rocAuc: 0.8, ece: 0.05 }, champion({ challengerRocAuc: 0.74, championRocAuc: 0.75 }), DEFAULT_GATE);
  t.is(outcome.decision, 'rejected');
  t.is(outcome.reason, "test ROC AUC 0.7400 is below champion v1's 0.7500 minus the margin 0.005 (both scored on the same 1000 held-out stays)");
  t.is(decideGate({ rocAuc: 0.7, ece: 0.05 }, champion({ challengerRocAuc: 0.746, championRocAuc: 0.75 }), DEFAULT_GATE).decision, 'promoted');
});

test('a subgroup with enough stays that loses more than the margin blocks promotion; small subgroups do not', (t) => {
  const subgroups = [
    group('sex', 'F', 500, 0.76, 0.75),
    group('race', 'asian', 40, 0.5, 0.8), // a big drop, but too few stays to judge
    group('age_band', '80+', 300, 0.7, 0.74),
  ];
  const outcome = decideGate({ rocAuc: 0.76, ece: 0.05 }, champion({ challengerRocAuc: 0.76, subgroups }), DEFAULT_GATE);
  t.is(outcome.decision, 'rejected');
  t.deepEqual(outcome.subgroupDrops, ['age_band=80+']);
  t.is(outcome.reason, 'ROC AUC drops by more than 0.03 against champion v1 in age_band=80+ (both scored on the same 1000 held-out stays)');
  const ok = decideGate({ rocAuc: 0.76, ece: 0.05 }, champion({ challengerRocAuc: 0.76, subgroups: subgroups.slice(0, 2) }), DEFAULT_GATE);
  t.is(ok.decision, 'promoted');
});

test('a recorded comparison says why the champion could not be re-scored', (t) => {
  const outcome = decideGate(
    { rocAuc: 0.7, ece: 0.05 },
    champion({ basis: 'recorded', note: 'no feature "x"', challengerRocAuc: 0.7, championRocAuc: 0.8 }),
    DEFAULT_GATE,
  );
  t.is(outcome.reason, 'test ROC AUC 0.7000 is below champion v1\'s 0.8000 minus the margin 0.005 (recorded test sets: no feature "x")');
});
