/**
 * `carepipe lake purge` on a file:// lake: compliance.yaml is validated at start (an error names
 * the field), a purge is a dry run until --apply, and applying deletes expired objects and stale
 * quarantine copies (whose raw file was fixed and ingested), audited with counts only.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { auditKeyRing } from '../../activities/audit/chain.js';
import { bindAuditKeys, readAuditStream, verifyAuditStream } from '../../activities/audit/log.js';
import { FileStore } from '../../activities/io/file-store.js';
import { parseConfig, readEnv, requireKeys } from '../../core/config.js';
import { lake } from '../../data-lake/layout.js';
import { cliEnv, runCli } from '../helpers/cli.js';

const key = (seed: number) => Buffer.alloc(32, seed).toString('base64');
const KEYS = { CAREPIPE_CODEC_KEYS: `c1:${key(1)}`, CAREPIPE_PSEUDONYM_KEYS: `p1:${key(2)}`, CAREPIPE_AUDIT_KEYS: `a1:${key(3)}` };

function write(root: string, key: string, body = 'x'): void {
  mkdirSync(dirname(join(root, key)), { recursive: true });
  writeFileSync(join(root, key), body);
}

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'carepipe-purge-'));
  const today = new Date().toISOString().slice(0, 10);
  const old = '2020-01-01';
  write(root, `raw/patients/ingest_date=${old}/a.parquet`, 'old raw');
  write(root, `raw/encounters/ingest_date=${old}/b.parquet`, 'old raw');
  write(root, `raw/patients/ingest_date=${today}/c.parquet`, 'new raw');
  // d.parquet was quarantined, then fixed and ingested: its copy is stale. e.parquet is still quarantined.
  for (const f of ['d.parquet', 'e.parquet']) {
    write(root, lake.quarantine('patients', today, f), 'bad bytes');
    write(root, lake.quarantineReason('patients', today, f), '{}');
  }
  write(root, lake.ingestFileManifest('patients', today, 'd.parquet'), JSON.stringify({ status: 'ingested' }));
  write(root, lake.ingestFileManifest('patients', today, 'e.parquet'), JSON.stringify({ status: 'quarantined' }));
  const compliance = join(root, '..', `${root.split('/').pop()}-compliance.yaml`);
  writeFileSync(compliance, 'retention:\n  raw: 90d\naudit:\n  lockDays: 0\n');
  const env = cliEnv({ ...KEYS, CAREPIPE_STATE_DIR: root, CAREPIPE_COMPLIANCE_FILE: compliance });
  return { root, today, env, compliance };
}

async function keys(root: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of new FileStore({ root }).list('')) out.push(o.key);
  return out;
}

test('a purge reports what would go, then with --apply deletes it, keeps the rest and audits the counts', async (t) => {
  const { root, today, env } = setup();
  const before = await keys(root);
  const dry = await runCli(['lake', 'purge', '--lake', `file://${root}`, '--zone', 'raw', '--json'], env);
  t.is(dry.code, 0, dry.stderr);
  t.like(JSON.parse(dry.stdout), { zone: 'raw', olderThanDays: 90, dryRun: true, expired: 2, staleQuarantine: 2, objects: 4, deleted: 0 });
  t.deepEqual(await keys(root), before);

  const applied = await runCli(['lake', 'purge', '--lake', `file://${root}`, '--zone', 'raw', '--apply'], env);
  t.is(applied.code, 0, applied.stderr);
  t.regex(applied.stdout, /^purged: 2 objects of raw\/ dated before \d{4}-\d{2}-\d{2} and 2 stale quarantine copies, 0\.0 MiB\n$/);
  const after = (await keys(root)).filter((k) => !k.startsWith('audit/'));
  t.deepEqual(after, [
    `manifests/ingest/patients/ingest_date=${today}/files/d.parquet.json`,
    `manifests/ingest/patients/ingest_date=${today}/files/e.parquet.json`,
    `quarantine/patients/ingest_date=${today}/e.parquet`,
    `quarantine/patients/ingest_date=${today}/e.parquet.reason.json`,
    `raw/patients/ingest_date=${today}/c.parquet`,
  ]);

  const store = bindAuditKeys(new FileStore({ root }), { ring: auditKeyRing(requireKeys(parseConfig(readEnv(KEYS)))) });
  const audit = await readAuditStream(store, 'purge-retention-raw');
  t.is(audit.length, 1);
  t.regex(audit[0]!.actor!, /^local:/);
  t.like(audit[0]!.event, { type: 'purge', purpose: 'retention', zone: 'raw', olderThanDays: 90, expired: 2, staleQuarantine: 2, objects: 4 });
  t.false(JSON.stringify(audit[0]).includes('.parquet'), 'no file names in the audit record');
  t.like(await verifyAuditStream(store, 'purge-retention-raw'), { ok: true, records: 1 });
});

test('compliance.yaml is validated at start: a wrong field fails every command, naming the file and the field', async (t) => {
  const { root, env, compliance } = setup();
  writeFileSync(compliance, 'retention:\n  curated: 30d\n');
  const r = await runCli(['lake', 'purge', '--lake', `file://${root}`, '--zone', 'raw'], env);
  t.is(r.code, 2);
  t.is(r.stderr, `carepipe: ${compliance}: retention.curated is not a zone retention applies to (raw, quarantine, rejects).\n`);
  writeFileSync(compliance, 'retention:\n  raw: ninety days\n');
  const bad = await runCli(['audit', 'verify', '--lake', `file://${root}`], env);
  t.is(bad.code, 2);
  t.is(bad.stderr, `carepipe: ${compliance}: retention.raw must be a number of days like 90d (at least 1d), got "ninety days".\n`);
});
