/**
 * A SeaweedFS server (master, volume, filer and S3 gateway in one `weed server`) for the tests
 * that need an S3 server implementing SSE-S3. The binary comes from PATH or <tools>/bin/weed,
 * which infra/test-deps.sh builds; a missing one fails the test, it is never skipped. Ports are
 * `base` to `base + 13`; the caller picks a base from its own range. Each bucket is a collection
 * that grows several small (64 MB) volumes: -volume.max leaves room for the tests' buckets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../activities/io/s3-store.js';
import { loadConfig, type S3Settings } from '../../core/config.js';
import { findOnPath } from '../../infra/tools.js';

export interface SeaweedFs {
  settings: S3Settings;
  stop(): Promise<void>;
}

function weedBinary(): string {
  const found = findOnPath('weed') ?? join(loadConfig().toolsDir, 'bin', 'weed');
  if (!existsSync(found)) throw new Error(`SeaweedFS's weed is neither on PATH nor at ${found}: run infra/test-deps.sh (npm test's pretest), which builds it.`);
  return found;
}

export async function startSeaweedFs(base: number): Promise<SeaweedFs> {
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-seaweedfs-'));
  const p = (i: number) => String(base + i);
  const args = ['server', `-dir=${dir}`, '-ip=127.0.0.1', '-ip.bind=127.0.0.1', '-master.volumeSizeLimitMB=64', '-volume.max=100'];
  args.push(`-master.port=${p(0)}`, `-master.port.grpc=${p(10)}`, `-volume.port=${p(1)}`, `-volume.port.grpc=${p(11)}`);
  args.push(
    '-filer',
    `-filer.port=${p(2)}`,
    `-filer.port.grpc=${p(12)}`,
    '-s3',
    `-s3.port=${p(3)}`,
    `-s3.port.grpc=${p(13)}`,
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
  );
  // SSE-S3 needs a key-encryption key: given here (HKDF-derived by weed from this secret), so no filer-stored one is involved.
  const env = { ...process.env, WEED_S3_SSE_KEY: randomBytes(32).toString('hex') };
  const child: ChildProcess = spawn(weedBinary(), args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const settings: S3Settings = {
    endpoint: `http://127.0.0.1:${p(3)}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'carepipe', secretAccessKey: 'carepipe-seaweedfs' },
    multipartThresholdBytes: 5 * 1024 * 1024,
    conditionalWrites: 'per-request',
    sse: { mode: 'AES256' },
    localDevelopment: false,
  };
  const client = createS3Client(settings);
  try {
    // The gateway answers once master, volume and filer are up: poll (a start takes seconds, more on a busy machine).
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`weed server exited (${child.exitCode}): ${log}`);
      try {
        await client.send(new ListBucketsCommand({}));
        break;
      } catch (err) {
        if (i >= 600) throw new Error(`SeaweedFS S3 on ${settings.endpoint} did not answer: ${(err as Error).message}\n${log}`);
        await sleep(500);
      }
    }
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    client.destroy();
  }
  return {
    settings,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
