/**
 * The OpenAPI document is generated from the route schemas and served at /openapi.json; a client
 * generated from it, as an application developer would (openapi-typescript for the types,
 * openapi-fetch for the calls), type-checks under strict TypeScript, calls predict, and gets the
 * registry's probability. A call with a body of the wrong shape does not type-check: the types
 * carry the schema.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { loadRegisteredModel } from '../../activities/registry/load-model.js';
import { loadFeatureSet, splitByPatient } from '../../activities/train/feature-set.js';
import { REPO_ROOT } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { type RunningServer, serveSettings, startServer } from '../../serving/server.js';
import { MODEL, type ServingLake, servingLake, setChampion } from '../helpers/serving-lake.js';

const run = promisify(execFile);
const PORT = 31104;
let env: ServingLake;
let server: RunningServer;
// Inside the repository, so the generated client resolves openapi-fetch from its node_modules.
const dir = join(REPO_ROOT, '.test-artifacts', `openapi-client-${process.pid}`);

test.before(async () => {
  env = await servingLake('serve-openapi', [{ key: 'logreg', family: 'logreg' }], { patients: 250 });
  await setChampion(env.store, env.versions.logreg!);
  server = await startServer(env.store, { ...serveSettings({}, {}), port: PORT }, createLogger('warn'), null);
  mkdirSync(dir, { recursive: true });
});

test.after.always(async () => {
  await server?.close();
  env?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function typeErrors(file: string): string[] {
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: false,
    outDir: dir,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: ['node'],
  });
  const result = program.emit();
  return [...ts.getPreEmitDiagnostics(program), ...result.diagnostics].map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

test('a client generated from /openapi.json type-checks and predicts; a wrongly shaped call does not type-check', async (t) => {
  const res = await fetch(`${server.url}/openapi.json`);
  t.is(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
  t.is(doc.openapi, '3.1.0');
  t.truthy(doc.paths['/v1/models/{name}:predict']);
  t.truthy(doc.paths['/v2/models/{name}/infer']);
  writeFileSync(join(dir, 'api.d.ts'), astToString(await openapiTS(doc as never)));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));

  const data = await loadFeatureSet(env.store, env.dataset, env.featuresVersion);
  const row = splitByPatient(data.patientKeys, 0.3, 7).test[0]!;
  const features: Record<string, number | string | null> = {};
  for (const [name, values] of data.columns) {
    const v = values[row];
    features[name] = typeof v === 'number' ? (Number.isNaN(v) ? null : v) : (v ?? null);
  }
  const client = (body: string) => `import createClient from 'openapi-fetch';
import type { paths } from './api.js';
const client = createClient<paths>({ baseUrl: process.argv[2] });
const { data, error } = await client.POST('/v1/models/{name}:predict', { params: { path: { name: '${MODEL}' } }, body: ${body} });
const probability: number | undefined = data?.predictions[0]?.probability;
console.log(JSON.stringify({ version: data?.version, probability, error }));
`;
  writeFileSync(join(dir, 'client.ts'), client(`{ instances: [{ features: ${JSON.stringify(features)} }] }`));
  t.deepEqual(typeErrors(join(dir, 'client.ts')), []);
  const { stdout } = await run(process.execPath, [join(dir, 'client.js'), server.url]);
  const answer = JSON.parse(stdout) as { version: string; probability: number };
  t.is(answer.version, env.versions.logreg!);
  const model = await loadRegisteredModel(env.store, MODEL, env.versions.logreg!);
  t.true(Math.abs(answer.probability - model.score(data.columns, Uint32Array.of(row))[0]!) < 1e-12);

  writeFileSync(join(dir, 'wrong.ts'), client(`{ instances: 'every stay' }`));
  t.true(typeErrors(join(dir, 'wrong.ts')).length > 0);
});
