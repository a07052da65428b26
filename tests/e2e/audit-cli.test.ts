/**
 * `carepipe audit verify` as an operator runs it, on a file:// lake with keys from the
 * environment: every stream intact, then a stream truncated at the end, which it names and exits 1.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditKeyRing } from '../../activities/audit/chain.js';
import { appendAudit, bindAuditKeys } from '../../activities/audit/log.js';
import { FileStore } from '../../activities/io/file-store.js';
import { parseConfig, readEnv, requireKeys } from '../../core/config.js';
import { lake } from '../../data-lake/layout.js';
import { cliEnv, runCli } from '../helpers/cli.js';

const key = (seed: number) => Buffer.alloc(32, seed).toString('base64');
const VARS = {
  CAREPIPE_CODEC_KEYS: `c1:${key(1)}`,
  CAREPIPE_PSEUDONYM_KEYS: `p1:${key(2)}`,
  CAREPIPE_AUDIT_KEYS: `a1:${key(3)}`,
};

test('audit verify reports every stream intact, then names a stream whose last record was removed and exits 1', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'carepipe-audit-cli-'));
  const ring = auditKeyRing(requireKeys(parseConfig(readEnv(VARS))));
  t.is(ring.activeId, 'a1');
  const store = bindAuditKeys(new FileStore({ root }), { ring });
  for (const stream of ['registry-m', 'data-read-training-m-logreg'])
    for (const i of [0, 1, 2]) await appendAudit(store, stream, { eventId: `e${i}`, actor: 'alice', event: { type: 'test', i } });
  const env = cliEnv({ ...VARS, CAREPIPE_STATE_DIR: root });

  const ok = await runCli(['audit', 'verify', '--lake', `file://${root}`, '--json'], env);
  t.is(ok.code, 0, ok.stderr);
  t.deepEqual(JSON.parse(ok.stdout), {
    lake: `file://${root}`,
    ok: true,
    streams: [
      { stream: 'data-read-training-m-logreg', ok: true, records: 3, legacy: 0 },
      { stream: 'registry-m', ok: true, records: 3, legacy: 0 },
    ],
  });

  rmSync(join(root, lake.audit('registry-m', 2)));
  const broken = await runCli(['audit', 'verify', '--lake', `file://${root}`], env);
  t.is(broken.code, 1);
  t.is(
    broken.stdout,
    [
      'ok      data-read-training-m-logreg: 3 records',
      'BROKEN  registry-m: at the head checkpoint: the head names record 2 but the stream ends at 1: records were removed from the end',
      '2 streams, 1 broken',
      '',
    ].join('\n'),
  );
  t.is(broken.stderr, 'carepipe: audit: 1 of 2 streams broken (registry-m)\n');
});
