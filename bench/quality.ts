/**
 * Model quality against the ceiling (issue 5): a generated lake, one retrain through a real worker
 * process, and for each family its test ROC AUC beside the generator's Bayes-optimal ROC AUC on the
 * same test stays (the true risk, joined through the stays' keyed pseudonyms). The gap is how much
 * signal the pipeline leaves on the table.
 */
import { Client, Connection } from '@temporalio/client';
import { Pseudonymizer } from '../activities/ingest/pseudonymizer.js';
import { stringValues } from '../activities/io/arrow-columns.js';
import { ensureBucket, openStore } from '../activities/io/open-store.js';
import { intOrFloatToFloat64, readParquet } from '../activities/io/parquet.js';
import { rocAuc } from '../activities/evaluate/metrics.js';
import { parseConfig, parseLakeUri } from '../core/config.js';
import { dataConverter } from '../core/codec.js';
import { writeRawLake } from '../data-lake/generator/index.js';
import { lake } from '../data-lake/layout.js';
import { followRetrain, startRetrain } from '../cli/runs.js';
import type { stackAddresses } from '../infra/stack.js';
import type { ModelFamily } from '../schemas/workflows.js';
import { printTable, startWorker } from './harness.js';
import { TEST_ACTOR } from '../tests/helpers/identity.js';

const CODEC = Buffer.alloc(32, 5);
const PSEUDONYM = Buffer.alloc(32, 6);

export async function benchQuality(addresses: ReturnType<typeof stackAddresses>, patients: number, families: ModelFamily[]): Promise<void> {
  const bucket = `bench-quality-${patients}`;
  const vars = {
    CAREPIPE_TEMPORAL_ADDRESS: addresses.temporalAddress,
    CAREPIPE_S3_ENDPOINT: addresses.s3Endpoint,
    // versitygw accepts SSE but does not confirm it: the local stack's development exception.
    CAREPIPE_LOCAL_DEVELOPMENT: 'true',
    CAREPIPE_LAKE: `s3://${bucket}`,
    CAREPIPE_TASK_QUEUE_PREFIX: `bench-quality-${patients}`,
    CAREPIPE_CODEC_KEYS: `q:${CODEC.toString('base64')}`,
    CAREPIPE_PSEUDONYM_KEYS: `q:${PSEUDONYM.toString('base64')}`,
  };
  const config = parseConfig(vars);
  await ensureBucket(config.lake, config.s3);
  const store = openStore(config.lake, config.s3);
  process.stderr.write(`[bench] quality: generating ${patients} patients\n`);
  const generation = await writeRawLake(store, { patients, days: 31, seed: 11 });
  const worker = await startWorker({ PATH: process.env.PATH, HOME: process.env.HOME, ...vars, CAREPIPE_LOG_LEVEL: 'info' }, []);
  const connection = await Connection.connect({ address: addresses.temporalAddress });
  try {
    const client = new Client({ connection, dataConverter: dataConverter({ activeId: 'q', keys: new Map([['q', CODEC]]), source: 'bench' }) });
    process.stderr.write(`[bench] quality: retraining ${families.join(', ')}\n`);
    const handle = await startRetrain(client, config, {
      actor: TEST_ACTOR,
      lake: parseLakeUri(config.lake.uri).uri,
      model: 'quality',
      dataset: 'readmission',
      families,
      bucketCount: 64,
      trigger: 'manual',
      ingest: {},
      codeVersion: 'bench',
    });
    const result = await followRetrain(handle, () => {}, 1_000);

    // The truth per stay, keyed like the curated zone: the same keyed pseudonym of the encounter id.
    const pz = new Pseudonymizer({ activeId: 'q', keys: new Map([['q', PSEUDONYM]]), source: 'bench' });
    const truth = new Map<string, number>();
    for (const key of generation.groundTruthKeys) {
      const t = readParquet(await store.get(key), { source: key });
      const ids = stringValues(t.getChild('encounter_id'), t.numRows);
      const p = intOrFloatToFloat64(t.getChild('p_observed')!, 'p_observed');
      ids.forEach((id, i) => truth.set(pz.encounterId(id!), p[i]!));
    }
    const rows: (string | number)[][] = [];
    for (const c of result.candidates) {
      const preds = readParquet(await store.get(lake.registryFile('quality', c.version, 'predictions.parquet')));
      const ids = stringValues(preds.getChild('encounter_id'), preds.numRows);
      const labels = Uint8Array.from(intOrFloatToFloat64(preds.getChild('label')!, 'label'));
      const bayes = Float64Array.from(ids, (id) => truth.get(id ?? '') ?? Number.NaN);
      const missing = bayes.filter((v) => Number.isNaN(v)).length;
      if (missing > 0) throw new Error(`bench: ${missing} test stays have no ground truth`);
      const bayesAuc = rocAuc(bayes, labels);
      rows.push([
        c.family,
        preds.numRows,
        c.trainSeconds,
        c.metrics.rocAuc,
        bayesAuc,
        bayesAuc - c.metrics.rocAuc,
        c.version === result.best.version ? 'best' : '',
      ]);
    }
    printTable(
      `model quality: ${patients} patients (Bayes-optimal ROC AUC over all followed-up stays: ${generation.bayesAucComplete.toFixed(4)})`,
      ['family', 'test stays', 'train seconds', 'test ROC AUC', 'Bayes AUC, same stays', 'gap', ''],
      rows,
    );
  } finally {
    await worker.stop();
    await connection.close();
    store.close();
  }
}
