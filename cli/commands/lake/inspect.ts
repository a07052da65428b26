/**
 * `carepipe lake inspect URI`: the footer of a Parquet object, or of every object under a prefix
 * (file:// or s3://), read from each object's tail without decoding data (io/parquet-inspect.ts),
 * so an operator can see why a file was quarantined: its reason, schema, rows, row groups,
 * compression, encodings and column statistics. `--json` prints the same as one document.
 */
import { type Config, parseLakeUri } from '../../../core/config.js';
import { NotFoundError } from '../../../core/errors.js';
import { openStore } from '../../../activities/io/open-store.js';
import { type InspectOptions, type InspectResult, inspectObject } from '../../../activities/io/parquet-inspect.js';
import { printJson, say } from '../../output.js';

/** Inspects the object the URI names, or, when none, every object under it as a prefix. */
export async function inspectUri(uri: string, s3: Config['s3'], options: InspectOptions = {}): Promise<InspectResult[]> {
  const trimmed = uri.replace(/\/+$/, '');
  const cut = trimmed.lastIndexOf('/');
  const parentUri = trimmed.slice(0, cut);
  const name = trimmed.slice(cut + 1);
  if (!uri.endsWith('/') && name && !/^(s3|file):\/?$/.test(parentUri)) {
    const parent = openStore(parseLakeUri(parentUri, 'URI'), s3);
    try {
      const info = await parent.head(name);
      if (info) return [await inspectObject(parent, name, info.size, options)];
    } finally {
      parent.close();
    }
  }
  const store = openStore(parseLakeUri(trimmed, 'URI'), s3);
  const results: InspectResult[] = [];
  try {
    for await (const o of store.list('')) {
      if (o.key.endsWith('.reason.json') || o.key.endsWith('.json')) continue;
      results.push(await inspectObject(store, o.key, o.size, options));
    }
  } finally {
    store.close();
  }
  if (results.length === 0) throw new NotFoundError(`lake inspect: no object at ${uri}, nor any under it`);
  return results;
}

const mib = (n: number) => (n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n} B`);

export function printInspect(results: InspectResult[], json: boolean): void {
  if (json) return printJson(results.length === 1 ? results[0] : results);
  for (const r of results) {
    say(
      `${r.key}  ${mib(r.size)}${r.rows !== undefined ? `, ${r.rows} rows in ${r.rowGroups!.length} row group(s)` : ''}${r.createdBy ? `, written by ${r.createdBy}` : ''}`,
    );
    if (r.quarantine) say(`  quarantined: ${r.quarantine.reasonType ?? '?'}: ${r.quarantine.reason ?? ''}`);
    if (r.error) {
      say(`  unreadable: ${r.error}`);
      continue;
    }
    say(`  decodes to about ${mib(r.uncompressedBytes ?? 0)}`);
    say('  schema:');
    for (const s of r.schema!.slice(1))
      say(
        `    ${'  '.repeat(Math.max(0, s.depth - 1))}${JSON.stringify(s.path.split('.').pop())} ${[s.repetition, s.physicalType, s.logicalType].filter(Boolean).join(' ')}`,
      );
    say('  columns:');
    for (const c of r.columns!) {
      const stats = [
        c.nullCount !== undefined ? `nulls ${c.nullCount}` : '',
        c.min !== undefined ? `min ${c.min}` : '',
        c.max !== undefined ? `max ${c.max}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      say(
        `    ${JSON.stringify(c.path)} ${c.physicalType}${c.logicalType ? `/${c.logicalType}` : ''} ${c.codecs.join('+')} [${c.encodings.join(', ')}] ${mib(c.compressedBytes)} -> ${mib(c.uncompressedBytes)}${stats ? `; ${stats}` : ''}`,
      );
    }
    r.rowGroups!.forEach((g, i) => say(`  row group ${i}: ${g.rows} rows, ${mib(g.uncompressedBytes)}`));
  }
}
