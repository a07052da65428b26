/**
 * The two images (Dockerfile: CPU pool and codec server; Dockerfile.gpu: GPU pool) checked
 * statically, since no image can be built or pulled here: hadolint passes on both, every path
 * they COPY from the build context exists, and they keep the promises infra/k8s relies on
 * (pinned bases, the repository at /app, a non-root user, production packages only, and for the
 * GPU image the CUDA versions tfjs-node-gpu 4.22 documents).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, parseConfig, readEnv } from '../../core/config.js';
import { findOnPath } from '../../infra/tools.js';

const run = promisify(execFile);
const DOCKERFILES = ['Dockerfile', 'Dockerfile.gpu'];

interface Instruction {
  op: string;
  args: string;
}

/** One instruction a line, continuations joined, comments dropped. */
function parse(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

const files = Object.fromEntries(DOCKERFILES.map((f) => [f, parse(readFileSync(join(REPO_ROOT, f), 'utf8'))]));

/** The final stage: the instructions after the last FROM. */
function finalStage(ins: Instruction[]): Instruction[] {
  return ins.slice(ins.map((i) => i.op).lastIndexOf('FROM'));
}

/** hadolint on PATH, else where infra/test-deps.sh puts it. */
function hadolint(): string {
  const found = findOnPath('hadolint') ?? [join(parseConfig(readEnv()).toolsDir, 'bin', 'hadolint')].find(existsSync);
  if (!found) throw new Error("hadolint is not installed: infra/test-deps.sh (npm test's pretest step) installs it into .tools/bin");
  return found;
}

async function lint(path: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(hadolint(), ['--no-color', path]);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

for (const name of DOCKERFILES) {
  test(`${name} passes hadolint with no finding`, async (t) => {
    const r = await lint(join(REPO_ROOT, name));
    t.is(r.code, 0, r.output);
    t.is(r.output.trim(), '');
  });

  test(`every path ${name} copies from the build context exists and is not excluded by .dockerignore`, (t) => {
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const sources = files[name]!.filter((i) => i.op === 'COPY' && !/--from=/.test(i.args)).flatMap((i) =>
      i.args
        .split(/\s+/)
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1),
    );
    t.true(sources.length >= 5, sources.join(' '));
    for (const source of sources) {
      t.true(existsSync(join(REPO_ROOT, source)), `${name}: COPY ${source}: no such path`);
      t.false(ignored.includes(source.split('/')[0]!), `${name}: COPY ${source} is excluded by .dockerignore`);
    }
  });

  test(`${name} is multi-stage on pinned bases and its final stage runs the built repository at /app as a non-root user`, (t) => {
    const ins = files[name]!;
    const froms = ins.filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+/)[0]!);
    t.true(froms.length >= 2, 'multi-stage');
    for (const image of froms) t.regex(image, /^[\w./-]+:\d+\.\d+\.\d+-[\w.-]+$/, `${image}: a full version tag`);
    const last = finalStage(ins);
    t.deepEqual(
      last.filter((i) => i.op === 'WORKDIR').map((i) => i.args),
      ['/app'],
    );
    t.deepEqual(
      last.filter((i) => i.op === 'USER').map((i) => i.args),
      ['10001:10001'],
      'the uid infra/k8s runs as',
    );
    t.deepEqual(
      last.filter((i) => i.op === 'ENTRYPOINT').map((i) => i.args),
      ['["node", "/app/bin/carepipe.js"]'],
    );
    t.false(
      last.some((i) => i.op === 'RUN'),
      'the final stage only copies: nothing is installed there',
    );
    // The final stage's packages come from a stage that installed production packages only.
    const depsStage = ins.slice(ins.findIndex((i) => i.op === 'FROM' && / AS deps$/.test(i.args)));
    const installs = depsStage
      .slice(
        0,
        depsStage.findIndex((i, k) => k > 0 && i.op === 'FROM'),
      )
      .filter((i) => i.op === 'RUN')
      .map((i) => i.args)
      .join(' ');
    t.regex(installs, /npm ci --omit=dev/);
    t.true(last.some((i) => i.op === 'COPY' && i.args === '--from=deps /app/node_modules node_modules'));
  });
}

test('the GPU image is CUDA 11.8 with cuDNN 8 and installs tfjs-node-gpu 4.22.0, the version of the tfjs packages carepipe pins', (t) => {
  const ins = files['Dockerfile.gpu']!;
  t.is(finalStage(ins)[0]!.args, 'nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04');
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  t.is(pkg.dependencies['@tensorflow/tfjs'], '4.22.0');
  t.true(ins.some((i) => i.op === 'RUN' && i.args.includes('@tensorflow/tfjs-node-gpu@4.22.0')));
  t.true(finalStage(ins).some((i) => i.op === 'ENV' && i.args === 'CAREPIPE_TF_BACKEND=tfjs-node-gpu'));
});

test('the lint is real: an unpinned base image and a root user are findings', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-dockerfile-'));
  writeFileSync(join(dir, 'Dockerfile'), 'FROM node:latest\nUSER root\nRUN apt-get install -y curl\n');
  const r = await lint(join(dir, 'Dockerfile'));
  t.not(r.code, 0);
  t.regex(r.output, /DL3007/, 'latest is not a version');
  t.regex(r.output, /DL3002/, 'the last USER is root');
});
