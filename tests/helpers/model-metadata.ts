import type { ModelMetadata } from '../../activities/registry/metadata.js';

/** A registered version's metadata with made-up training facts: enough for the gate, promotion and the alias. */
export function fakeMetadata(name: string, version: string, rocAuc = 0.7, created = '2026-11-28T00:00:00Z'): ModelMetadata {
  return {
    name,
    version,
    family: 'logreg',
    created,
    codeVersion: 'test',
    backend: 'typescript-cpu',
    trainingData: { dataset: 'd', version: 'v-1', manifestKey: 'k', manifestSha256: '0'.repeat(64), rows: 100, positives: 10 },
    split: { by: 'patient', testFraction: 0.2, seed: 1, trainRows: 80, testRows: 20 },
    pipelineSha256: '0'.repeat(64),
    hyperparameters: {},
    trainSeconds: 1,
    metrics: { rocAuc, prAuc: 0.3, brier: 0.1, logLoss: 0.3, ece: 0.02, testRows: 20, testPositives: 4 },
    subgroupMetrics: {},
  };
}
