/**
 * The worker fleet's Kubernetes manifests (infra/k8s): every resource passes a strict schema
 * check against the Kubernetes 1.30 API (kubernetes-validate, which ships the JSON schemas, so
 * no cluster is needed; `kubectl apply --dry-run=client` would need one for discovery), and the
 * deployments keep the promises the README makes: GPU scheduling, resource requests, a grace
 * period longer than the longest heartbeat timeout plus the worker's shutdown grace, metrics.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ENV_VARS, REPO_ROOT, parseConfig } from '../../core/config.js';
import { checkExposure } from '../../core/codec-server-auth.js';
import { identitySettings } from '../../core/identity/settings.js';
import { SHARD_HEARTBEAT_SECONDS, TRAINING_HEARTBEAT_SECONDS } from '../../workflows/timeouts.js';

const run = promisify(execFile);
const DIR = join(REPO_ROOT, 'infra', 'k8s');
const K8S_VERSION = '1.30.0';

interface Container {
  name: string;
  image: string;
  args: string[];
  env?: { name: string; value?: string }[];
  ports: { name: string; containerPort: number }[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
}
interface Deployment {
  kind: 'Deployment';
  metadata: { name: string };
  spec: {
    template: {
      spec: {
        terminationGracePeriodSeconds: number;
        nodeSelector?: Record<string, string>;
        tolerations?: { key: string; operator: string; effect: string }[];
        containers: Container[];
      };
    };
  };
}

const kustomization = parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as {
  resources: string[];
  images: { name: string }[];
};
const docs = kustomization.resources.flatMap((file) =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string> }),
);
const deployment = (name: string) => docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name) as unknown as Deployment;
const config = docs.find((d) => d.kind === 'ConfigMap')!.data!;

async function validate(files: string[]): Promise<{ code: number; output: string }> {
  try {
    // The python3 the test runner's PATH names: the one with the test packages (infra/test-deps.sh).
    const { stdout, stderr } = await run('python3', ['-m', 'kubernetes_validate', '--strict', '-k', K8S_VERSION, ...files]);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (/No module named kubernetes_validate/.test(e.stderr ?? ''))
      throw new Error("kubernetes-validate is not installed: `pip install kubernetes-validate` (infra/test-deps.sh, npm test's pretest step, does)");
    return { code: typeof e.code === 'number' ? e.code : 1, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

test('every resource of the kustomization passes a strict Kubernetes schema check', async (t) => {
  const files = kustomization.resources.map((f) => join(DIR, f));
  const r = await validate(files);
  t.is(r.code, 0, r.output);
  const passed = r.output.split('\n').filter((l) => / passed for resource /.test(l)).length;
  t.is(passed, docs.length, r.output);
  t.deepEqual(docs.map((d) => d.kind).sort(), [
    'ConfigMap',
    'Deployment',
    'Deployment',
    'Deployment',
    'Namespace',
    'NetworkPolicy',
    'PodDisruptionBudget',
    'Service',
    'ServiceAccount',
    'ServiceAccount',
  ]);
});

test('the schema check is real: a deployment with a wrong type fails it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-k8s-'));
  const broken = readFileSync(join(DIR, 'worker-cpu.yaml'), 'utf8').replace(/replicas: \d+/, 'replicas: two');
  writeFileSync(join(dir, 'broken.yaml'), broken);
  const r = await validate([join(dir, 'broken.yaml')]);
  t.not(r.code, 0);
  t.regex(r.output, /spec\.replicas: 'two' is not of type 'integer'/);
});

/** The longest default heartbeat timeout of any activity, in seconds (workflows/timeouts.ts, used by the proxies). */
function longestHeartbeatSeconds(): number {
  return Math.max(SHARD_HEARTBEAT_SECONDS, TRAINING_HEARTBEAT_SECONDS);
}

test('both worker pools get longer to stop than the longest heartbeat timeout plus the shutdown grace', (t) => {
  const longest = longestHeartbeatSeconds();
  t.is(longest, 120, 'model training heartbeats within 2 minutes');
  const grace = Number(config.CAREPIPE_WORKER_SHUTDOWN_GRACE_SECONDS);
  t.true(grace > 0);
  for (const name of ['carepipe-worker-cpu', 'carepipe-worker-gpu']) {
    const period = deployment(name).spec.template.spec.terminationGracePeriodSeconds;
    t.true(period > longest + grace, `${name}: ${period} s must exceed ${longest} + ${grace} s`);
  }
});

test('the GPU pool serves only train-gpu, requests a GPU, and is scheduled onto tainted GPU nodes', (t) => {
  const spec = deployment('carepipe-worker-gpu').spec.template.spec;
  const [worker] = spec.containers;
  t.deepEqual(worker!.args, ['worker', '--queues', 'train-gpu']);
  t.is(worker!.resources.requests['nvidia.com/gpu'], '1');
  t.is(worker!.resources.limits['nvidia.com/gpu'], '1');
  t.deepEqual(spec.nodeSelector, { 'nvidia.com/gpu.present': 'true' });
  t.deepEqual(spec.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  // The CUDA backend by name, so a pod that cannot load it fails at start (workers/tf-backend-check.ts).
  t.is(worker!.env?.find((e) => e.name === 'CAREPIPE_TF_BACKEND')?.value, 'tfjs-node-gpu');
  t.is(parseConfig({ CAREPIPE_TF_BACKEND: 'tfjs-node-gpu' }).tfBackend, 'tfjs-node-gpu');
  // The image with that backend (Dockerfile.gpu); the CPU pool's (Dockerfile) has none.
  t.is(worker!.image, 'carepipe-gpu');
  t.is(deployment('carepipe-worker-cpu').spec.template.spec.containers[0]!.image, 'carepipe');
  t.deepEqual(kustomization.images.map((i) => i.name).sort(), ['carepipe', 'carepipe-gpu']);
});

test('the CPU pool serves orchestration, data and CPU training with CPU and memory requests, and no GPU', (t) => {
  const spec = deployment('carepipe-worker-cpu').spec.template.spec;
  const [worker] = spec.containers;
  t.deepEqual(worker!.args, ['worker', '--queues', 'orchestration,data,features,train-cpu']);
  t.truthy(worker!.resources.requests.cpu);
  t.truthy(worker!.resources.requests.memory);
  t.is(worker!.resources.requests['nvidia.com/gpu'], undefined);
  t.is(spec.nodeSelector, undefined);
});

test('workers expose the metrics port the config names, and every variable the manifests set is one carepipe reads', (t) => {
  t.is(config.CAREPIPE_METRICS_HOST, '0.0.0.0', 'reachable by the scraper from outside the pod');
  for (const name of ['carepipe-worker-cpu', 'carepipe-worker-gpu']) {
    const [worker] = deployment(name).spec.template.spec.containers;
    t.deepEqual(worker!.ports, [{ name: 'metrics', containerPort: Number(config.CAREPIPE_METRICS_PORT), protocol: 'TCP' }]);
    for (const e of worker!.env ?? []) if (e.name.startsWith('CAREPIPE_')) t.true((ENV_VARS as readonly string[]).includes(e.name), e.name);
  }
  for (const key of Object.keys(config)) t.true((ENV_VARS as readonly string[]).includes(key), key);
});

test('the codec server gets the codec keys and not the pseudonym key, listens beyond loopback on the port its Service targets, and is probed on /health', (t) => {
  const spec = deployment('carepipe-codec-server').spec.template.spec as unknown as {
    containers: {
      args: string[];
      env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
      envFrom: { secretRef?: unknown }[];
      ports: { containerPort: number }[];
      readinessProbe: { httpGet: { path: string } };
    }[];
  };
  const [c] = spec.containers;
  t.deepEqual(c!.args, ['codec-server']);
  t.false(
    c!.envFrom.some((e) => e.secretRef !== undefined),
    'no whole-secret import',
  );
  const fromSecret = c!.env
    .filter((e) => e.valueFrom)
    .map((e) => e.valueFrom!.secretKeyRef.key)
    .sort();
  t.deepEqual(fromSecret, ['CAREPIPE_CODEC_KEYS', 'CAREPIPE_CODEC_KEY_ID']);
  t.is(c!.env.find((e) => e.name === 'CAREPIPE_CODEC_SERVER_HOST')?.value, '0.0.0.0');
  for (const e of c!.env) t.true((ENV_VARS as readonly string[]).includes(e.name), e.name);
  t.is(c!.ports[0]!.containerPort, parseConfig({}).codecServer.port);
  t.is(c!.readinessProbe.httpGet.path, '/health');
  const service = docs.find((d) => d.kind === 'Service' && d.metadata.name === 'carepipe-codec-server') as unknown as {
    spec: { ports: { port: number; targetPort: string }[] };
  };
  t.is(service.spec.ports[0]!.targetPort, 'codec');
});

test('the codec server ships with per-user auth on, TLS from a Secret, /encode off, and a NetworkPolicy that admits only the Web UI and the ingress', (t) => {
  interface CodecPod {
    volumes: { name: string; secret?: { secretName: string } }[];
    serviceAccountName: string;
    containers: {
      env: { name: string; value?: string }[];
      volumeMounts: { name: string; mountPath: string; readOnly: boolean }[];
      readinessProbe: { httpGet: { scheme: string } };
      livenessProbe: { httpGet: { scheme: string } };
    }[];
  }
  const spec = deployment('carepipe-codec-server').spec.template.spec as unknown as CodecPod;
  const [c] = spec.containers;
  const env = Object.fromEntries(c!.env.map((e) => [e.name, e.value]));
  // Auth: the issuer and its keys come from the ConfigMap, and parse as the identity settings would at start.
  const identity = identitySettings(config);
  t.is(identity.oidc?.issuer, config.CAREPIPE_OIDC_ISSUER);
  t.regex(identity.oidc?.jwks.kind === 'url' ? identity.oidc.jwks.url : '', /^https:\/\//);
  t.is(identity.oidc?.rolesClaim, 'realm_access.roles');
  // TLS: both files from the mounted Secret.
  const mount = c!.volumeMounts.find((m) => m.name === 'codec-tls')!;
  t.true(mount.readOnly);
  t.is(env.CAREPIPE_CODEC_SERVER_TLS_CERT, `${mount.mountPath}/tls.crt`);
  t.is(env.CAREPIPE_CODEC_SERVER_TLS_KEY, `${mount.mountPath}/tls.key`);
  t.is(spec.volumes.find((v) => v.name === 'codec-tls')?.secret?.secretName, 'carepipe-codec-server-tls');
  t.is(c!.readinessProbe.httpGet.scheme, 'HTTPS');
  t.is(c!.livenessProbe.httpGet.scheme, 'HTTPS');
  t.is(env.CAREPIPE_CODEC_SERVER_ENCODE, 'false');
  t.is(spec.serviceAccountName, 'carepipe-codec-server', "not the workers' identity");
  // What the server decides at start from this environment: no refusal, and no plain-HTTP warning.
  const verifier = {
    oidc: true,
    verify: async () => ({ subject: 's', issuer: 'i', roles: [] }),
    identityFromBearer: async () => ({ subject: 's', issuer: 'i', roles: [] }),
  };
  t.is(checkExposure(env.CAREPIPE_CODEC_SERVER_HOST!, { verifier }, env.CAREPIPE_CODEC_SERVER_TLS_CERT !== undefined), undefined);
  t.throws(() => checkExposure(env.CAREPIPE_CODEC_SERVER_HOST!, {}, true), { message: /will not listen on 0\.0\.0\.0 without authentication/ });
  const policy = docs.find((d) => d.kind === 'NetworkPolicy' && d.metadata.name === 'carepipe-codec-server') as unknown as {
    spec: {
      podSelector: { matchLabels: Record<string, string> };
      policyTypes: string[];
      ingress: { from: { namespaceSelector?: { matchLabels: Record<string, string> }; podSelector?: unknown }[]; ports: { port: string }[] }[];
      egress: { to?: unknown[]; ports: { port: number; protocol: string }[] }[];
    };
  };
  t.deepEqual(policy.spec.podSelector.matchLabels, { 'app.kubernetes.io/name': 'carepipe-codec-server' });
  t.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
  t.is(policy.spec.ingress.length, 1);
  t.deepEqual(policy.spec.ingress[0]!.ports, [{ port: 'codec', protocol: 'TCP' }]);
  t.deepEqual(
    policy.spec.ingress[0]!.from.map((f) => f.namespaceSelector?.matchLabels['kubernetes.io/metadata.name']),
    ['temporal', 'ingress-nginx'],
    'every source is a named namespace: no open ingress',
  );
  t.deepEqual(policy.spec.egress.flatMap((e) => e.ports.map((p) => p.port)).sort(), [443, 53, 53]);
});
