/**
 * A generated lake ingested in-process (no Temporal): the curated zone the feature build reads,
 * in a file:// lake or a test bucket, with deterministic keys. For feature tests that check
 * values rather than orchestration.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActivityDeps } from '../../activities/context.js';
import { writeIngestManifests } from '../../activities/ingest/day-manifests.js';
import { ingestFile } from '../../activities/ingest/ingest-file.js';
import { listRawFiles } from '../../activities/ingest/list-raw.js';
import { type Keys, type KeyRing, parseConfig } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { createDeps } from '../../cli/deps.js';

function ring(id: string): KeyRing {
  return { activeId: id, keys: new Map([[id, createHash('sha256').update(`carepipe test key ${id}`).digest()]]), source: 'test keys' };
}

/** Deps over a fresh file:// lake (or the given URI) with fixed test keys. */
export function localLake(name: string, uri?: string): { deps: ActivityDeps & { close(): void }; lakeUri: string; dir: string } {
  const dir = uri ? '' : mkdtempSync(join(tmpdir(), `carepipe-${name}-`));
  const lakeUri = uri ?? `file://${dir}`;
  const config = parseConfig({ CAREPIPE_LAKE: lakeUri });
  const keys: Keys = { codec: ring('codec-1'), pseudonym: ring('pseudo-1') };
  return { deps: createDeps(config, keys, createLogger('warn', { test: name })), lakeUri, dir };
}

/** Ingests every raw file of the lake (skipping those already ingested) and writes the day manifests. */
export async function ingestAll(deps: ActivityDeps, lakeUri: string, bucketCount: number): Promise<void> {
  let startAfter = '';
  for (;;) {
    const page = await listRawFiles(deps, { lake: lakeUri, startAfter, limit: 500 });
    for (let i = 0; i < page.keys.length; i += 4) {
      await Promise.all(page.keys.slice(i, i + 4).map((key) => ingestFile(deps, { lake: lakeUri, key, bucketCount })));
    }
    if (page.nextStartAfter === undefined) break;
    startAfter = page.nextStartAfter;
  }
  await writeIngestManifests(deps, { lake: lakeUri });
}
