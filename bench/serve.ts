/**
 * Serving benchmark (issue 14 item 8): `carepipe serve` against the seed's own choice, FastAPI on
 * uvicorn (bench/serve_reference.py), serving the same model versions (the same pipeline, the same
 * logreg coefficients, the same gbdt trees) from one process each, in the same run, loaded by the
 * same generator (autocannon, 10 connections, on loopback). Requests/s and p50/p99 latency at
 * batch sizes 1 and 100, pinned-version predict of feature records of real test-split stays, without
 * contributions (the reference computes none). Each server is measured alone; nothing asserts
 * wall-clock limits.
 *
 *   node dist/bench/main.js --only serve [--quick] [--serve-seconds N]
 */
import autocannon from 'autocannon';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadRegisteredModel } from '../activities/registry/load-model.js';
import { loadFeatureSet, splitByPatient } from '../activities/train/feature-set.js';
import { REPO_ROOT } from '../core/config.js';
import { MODEL, servingLake } from '../tests/helpers/serving-lake.js';
import { printTable } from './harness.js';

/** Ports of the bench's two servers (CAREPIPE_BENCH_SERVE_PORT moves them: that port and the next). */
const PORT = Number(process.env.CAREPIPE_BENCH_SERVE_PORT ?? 26235);

export interface ServeBenchOptions {
  patients: number;
  seconds: number;
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited (${child.exitCode})`);
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"instances":[{"features":{}}]}' });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
}

function load(url: string, body: string, seconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 10, duration: seconds }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

/** infra/test-deps.sh's venv when it made one (the system python3 lacked the packages), else python3. */
const venvPython = join(REPO_ROOT, process.env.CAREPIPE_TOOLS_DIR ?? '.tools', 'python', 'bin', 'python3');
const PYTHON = existsSync(venvPython) ? venvPython : 'python3';

export async function benchServe(options: ServeBenchOptions): Promise<void> {
  if (spawnSync(PYTHON, ['-c', 'import fastapi, uvicorn, numpy']).status !== 0) {
    throw new Error('the serving bench needs fastapi, uvicorn and numpy in python3: pip install fastapi==0.142.2 uvicorn==0.54.0 numpy');
  }
  process.stderr.write(`[serve bench] generating, ingesting and training on ${options.patients} patients\n`);
  const env = await servingLake(
    'bench-serve',
    [
      { key: 'logreg', family: 'logreg' },
      { key: 'gbdt', family: 'gbdt' },
    ],
    { patients: options.patients },
  );
  const children: ChildProcess[] = [];
  try {
    const data = await loadFeatureSet(env.store, env.dataset, env.featuresVersion);
    const test = splitByPatient(data.patientKeys, 0.3, 7).test;
    const record = (row: number) =>
      Object.fromEntries(
        [...data.columns].map(([name, values]) => [
          name,
          typeof values[row] === 'number' ? (Number.isNaN(values[row]) ? null : values[row]) : (values[row] ?? null),
        ]),
      );
    const bodies = new Map(
      [1, 100].map((n) => [
        n,
        JSON.stringify({ instances: Array.from({ length: n }, (_, i) => ({ features: record(test[i % test.length]!) })), contributions: false }),
      ]),
    );

    const exported = [];
    for (const key of ['logreg', 'gbdt']) {
      const m = await loadRegisteredModel(env.store, MODEL, env.versions[key]!);
      const p = m.parameters;
      exported.push({
        version: m.version,
        family: m.family,
        pipeline: m.pipeline,
        ...(p.kind === 'logreg' ? { logreg: p.model } : {}),
        ...(p.kind === 'trees'
          ? {
              forest: {
                ...p.forest,
                treeStart: [...p.forest.treeStart],
                feature: [...p.forest.feature],
                threshold: [...p.forest.threshold],
                left: [...p.forest.left],
                missingLeft: [...p.forest.missingLeft],
                value: [...p.forest.value],
                gain: [],
                cover: [],
              },
            }
          : {}),
      });
    }
    const modelsFile = join(env.dir, 'bench-models.json');
    writeFileSync(modelsFile, JSON.stringify(exported));

    const servers = [
      {
        name: 'carepipe serve (Fastify)',
        port: PORT,
        start: () =>
          spawn(process.execPath, [join(REPO_ROOT, 'bin', 'carepipe.js'), 'serve', '--lake', env.lakeUri, '--port', String(PORT), '--models', MODEL], {
            stdio: 'ignore',
            env: { ...process.env, CAREPIPE_LOG_LEVEL: 'warn' },
          }),
      },
      {
        name: 'FastAPI + uvicorn',
        port: PORT + 1,
        start: () =>
          spawn(PYTHON, [fileURLToPath(new URL('../../bench/serve_reference.py', import.meta.url)), modelsFile, String(PORT + 1)], { stdio: 'ignore' }),
      },
    ];
    const rows: (string | number)[][] = [];
    for (const server of servers) {
      const child = server.start();
      children.push(child);
      for (const key of ['logreg', 'gbdt']) {
        const url = `http://127.0.0.1:${server.port}/v1/models/${MODEL}/versions/${env.versions[key]}:predict`;
        await waitFor(url, child);
        for (const [batch, body] of bodies) {
          await load(url, body, 1); // warm-up: JIT, caches, connection setup
          const r = await load(url, body, options.seconds);
          rows.push([server.name, key, batch, r.requests.average, r.requests.average * batch, r.latency.p50, r.latency.p99, r.non2xx + r.errors]);
          process.stderr.write(`[serve bench] ${server.name} ${key} batch ${batch}: ${r.requests.average} req/s\n`);
        }
      }
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    printTable(
      `Serving on loopback: ${options.patients} patients' model versions, autocannon 10 connections x ${options.seconds} s per row`,
      ['server', 'model', 'batch', 'req/s', 'stays/s', 'p50 ms', 'p99 ms', 'failed'],
      rows,
    );
    for (const family of ['logreg', 'gbdt']) {
      const at = (server: string) => rows.find((r) => r[0] === server && r[1] === family && r[2] === 1)!;
      const ratio = (at(servers[0]!.name)[3] as number) / (at(servers[1]!.name)[3] as number);
      process.stdout.write(`${family} batch 1: carepipe ${ratio.toFixed(2)}x FastAPI's requests/s\n`);
    }
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    env.cleanup();
  }
}
