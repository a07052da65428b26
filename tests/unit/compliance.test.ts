/** compliance.yaml: the repository's example parses, and each mistake is named by file and field. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCompliance } from '../../core/compliance.js';
import { REPO_ROOT } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';

test("the repository's compliance.yaml parses to its retention and audit lock", (t) => {
  const path = join(REPO_ROOT, 'compliance.yaml');
  t.deepEqual(parseCompliance(readFileSync(path, 'utf8'), path), {
    source: path,
    retentionDays: { raw: 90, quarantine: 30, rejects: 365 },
    auditLockDays: 2190,
  });
  t.deepEqual(parseCompliance('', 'c.yaml'), { source: 'c.yaml', retentionDays: {}, auditLockDays: 0 });
});

test('each mistake names the file and the field', (t) => {
  const cases: [string, string][] = [
    ['retention: [raw]', 'c.yaml: retention must map zones to durations (raw: 90d).'],
    ['retention:\n  raw: 0d', 'c.yaml: retention.raw must be a number of days like 90d (at least 1d), got "0d".'],
    ['retention:\n  raw: 90', 'c.yaml: retention.raw must be a number of days like 90d (at least 1d), got 90.'],
    ['retention:\n  features: 9d', 'c.yaml: retention.features is not a zone retention applies to (raw, quarantine, rejects).'],
    ['audit:\n  lockDays: -1', 'c.yaml: audit.lockDays must be a whole number of days from 0 to 36500, got -1.'],
    ['audit:\n  lockYears: 6', 'c.yaml: audit.lockYears is not a setting (lockDays).'],
    ['retain:\n  raw: 90d', 'c.yaml: retain is not a setting (retention, audit).'],
    ['- a\n- b', 'c.yaml: must be a mapping with retention and audit.'],
    ['retention: {raw: 90d', 'c.yaml: not valid YAML.'],
  ];
  for (const [text, message] of cases) t.is(t.throws(() => parseCompliance(text, 'c.yaml'), { instanceOf: ConfigError })?.message, message, text);
});
