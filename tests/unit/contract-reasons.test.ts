/**
 * The contract is the rule book: every reason ingest can reject, correct or quarantine is listed in
 * docs/data-contract.md with its code, and the document lists no reason the code lacks. The code
 * cannot use a code outside activities/ingest/reasons.ts (the verdicts are typed by it), and a
 * messy generated lake, curated for real, shows only documented codes in its manifests.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { curateFile } from '../../activities/ingest/curate.js';
import { CORRECTION_REASONS, QUARANTINE_REASONS, REJECT_REASONS } from '../../activities/ingest/reasons.js';
import { REPO_ROOT } from '../../core/config.js';
import { encodeFile } from '../../data-lake/generator/index.js';
import { generate } from '../helpers/generated.js';

const DOC = readFileSync(join(REPO_ROOT, 'docs', 'data-contract.md'), 'utf8');

/** The codes in the first column of the table under the `### <heading>` that starts with `title`. */
function documentedCodes(title: string): string[] {
  const start = DOC.indexOf(`### ${title}`);
  if (start < 0) throw new Error(`docs/data-contract.md has no section "### ${title}"`);
  const rest = DOC.slice(start + 4);
  const section = rest.slice(0, rest.search(/\n##/) < 0 ? undefined : rest.search(/\n##/));
  return [...section.matchAll(/^\| `([A-Za-z0-9_]+)` \|/gm)].map((m) => m[1]!);
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

test('the document lists exactly the reject reasons the code has', (t) => {
  t.deepEqual(sorted(documentedCodes('Rejected rows')), sorted(Object.keys(REJECT_REASONS)));
});

test('the document lists exactly the corrections and quarantine reasons the code has', (t) => {
  t.deepEqual(sorted(documentedCodes('Corrected rows')), sorted(Object.keys(CORRECTION_REASONS)));
  t.deepEqual(sorted(documentedCodes('Quarantined files')), sorted(Object.keys(QUARANTINE_REASONS)));
});

test('no rule judges a time against the ingest date any more', (t) => {
  // The reason that threw away a fifth of a year's encounters must not come back under its name.
  t.false(Object.hasOwn(REJECT_REASONS, 'implausible_discharge_time'));
  t.notRegex(DOC, /implausible_discharge_time/);
});

test('a messy generated lake, curated for real, rejects and quarantines only for documented reasons', async (t) => {
  const { files } = await generate({
    patients: 300,
    days: 20,
    seed: 11,
    messiness: { corrupt: true, impossibleRate: 0.02, unknownCodeRate: 0.02, duplicateRate: 0.02 },
  });
  const seen = new Set<string>();
  const pseudonymKey = { id: 'k1', secret: new Uint8Array(32).fill(3) };
  for (const f of files) {
    if (f.kind !== 'raw') continue;
    const outcome = curateFile({
      bytes: encodeFile(f),
      source: f.key,
      table: f.table,
      ingestDate: f.ingestDate,
      fileName: f.fileName,
      bucketCount: 4,
      pseudonymKey,
    });
    if (outcome.kind === 'quarantine') seen.add(outcome.reasonType);
    else for (const code of Object.keys(outcome.rejectReasons)) seen.add(code);
  }
  const documented = new Set([...documentedCodes('Rejected rows'), ...documentedCodes('Quarantined files')]);
  t.true(seen.size >= 6, `only ${seen.size} reasons seen: ${sorted(seen).join(', ')}`);
  for (const code of seen) t.true(documented.has(code), `"${code}" is not in docs/data-contract.md`);
});

test("ingest's bounds have their reasons in the rule book: string_too_long rows, FileTooLargeError and InvalidUtf8Error files", (t) => {
  // docs/parquet-safety.md: each bound breached is a named row reject or file quarantine, never a crash.
  t.true(documentedCodes('Rejected rows').includes('string_too_long'));
  t.true(Object.hasOwn(REJECT_REASONS, 'string_too_long'));
  for (const code of ['FileTooLargeError', 'InvalidUtf8Error']) {
    t.true(documentedCodes('Quarantined files').includes(code), code);
    t.true(Object.hasOwn(QUARANTINE_REASONS, code), code);
  }
});
