/**
 * The permission table: each role is allowed exactly where the table says and refused everywhere
 * else, with a refusal naming role and permission; docs/security.md shows the same table; and the
 * workflows' check refuses a run without a valid actor.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../core/config.js';
import { ForbiddenError } from '../../core/errors.js';
import { type Identity, PERMISSIONS, PERMISSION_TABLE, ROLES, authorize, can, isIdentity } from '../../core/identity/roles.js';

const as = (...roles: Identity['roles']): Identity => ({ subject: `test:${roles.join('+') || 'none'}`, issuer: 'test', roles });

/** What each role may do, written out here by hand: the table must match this reading of the issue. */
const EXPECTED: Record<(typeof ROLES)[number], string[]> = {
  'data-scientist': ['ingest', 'build-features', 'retrain', 'predict', 'read-model-metadata'],
  ops: ['ingest', 'build-features', 'retrain', 'promote', 'rollback', 'decrypt-history', 'read-model-metadata', 'read-audit', 'purge'],
  'app-developer': ['predict', 'read-model-metadata'],
  'compliance-officer': ['decrypt-history', 'read-model-metadata', 'read-audit', 'purge'],
};

for (const role of ROLES) {
  test(`the role ${role} is allowed exactly ${EXPECTED[role].join(', ')}, and refused the rest naming role and permission`, (t) => {
    const who = as(role);
    for (const permission of PERMISSIONS) {
      if (EXPECTED[role].includes(permission)) {
        t.true(can(who, permission), permission);
        t.notThrows(() => authorize(who, permission), permission);
      } else {
        t.false(can(who, permission), permission);
        const err = t.throws(() => authorize(who, permission), { instanceOf: ForbiddenError });
        t.is(err?.message, `test:${role} (role ${role}) may not ${permission}: that needs the role ${PERMISSION_TABLE[permission].join(' or ')}`);
        t.is(err?.type, 'ForbiddenError');
        t.false(err?.retryable);
      }
    }
  });
}

test('roles add up, and no role at all may do nothing', (t) => {
  const both = as('data-scientist', 'compliance-officer');
  t.true(can(both, 'retrain'));
  t.true(can(both, 'read-audit'));
  t.false(can(both, 'promote'));
  for (const p of PERMISSIONS) t.false(can(as(), p), p);
  t.regex(t.throws(() => authorize(as(), 'ingest')).message, /^test:none \(no carepipe role\) may not ingest/);
});

test('docs/security.md shows the same permission table as the code', (t) => {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'security.md'), 'utf8');
  const block = /<!-- permission-table:start -->\n([\s\S]*?)<!-- permission-table:end -->/.exec(doc)?.[1];
  t.truthy(block, 'the table is marked in the document');
  const rows = block!
    .trim()
    .split('\n')
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  const [header, , ...body] = rows;
  t.deepEqual(header, ['permission', ...ROLES]);
  t.deepEqual(
    body.map((r) => r[0]),
    [...PERMISSIONS],
  );
  for (const row of body) {
    const permission = row[0] as (typeof PERMISSIONS)[number];
    const documented = ROLES.filter((_, i) => row[i + 1] === 'yes');
    t.deepEqual(
      documented,
      ROLES.filter((r) => PERMISSION_TABLE[permission].includes(r)),
      permission,
    );
    t.true(
      row.slice(1).every((c) => c === 'yes' || c === 'no'),
      permission,
    );
  }
});

test('an actor read from a payload is checked for shape: a subject, an issuer and known roles only', (t) => {
  t.true(isIdentity(as('ops')));
  t.false(isIdentity(undefined));
  t.false(isIdentity({ subject: '', issuer: 'x', roles: [] }));
  t.false(isIdentity({ subject: 'a', issuer: 'x', roles: ['admin'] }));
  t.false(isIdentity({ subject: 'a', roles: ['ops'] }));
});
