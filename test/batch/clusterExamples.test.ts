/**
 * The cluster examples of the README read the shard index the same way and take the shard total from the batch:
 * docs/examples/slurm-batch.sh (run for real on a Slurm cluster in slurm.test.ts) and
 * docs/examples/k8s-indexed-job.yaml.
 *
 * The Kubernetes example is checked without a cluster: `kubectl apply --dry-run=client` needs an API server even
 * in client mode (it downloads the OpenAPI schema and the API group list: "connection refused" offline), and
 * Debian's kubernetes-client package is 1.20. So the YAML is parsed (js-yaml, which comes with electron-builder)
 * and checked against a strict schema of the batch/v1 Job fields it uses (an unknown or misspelt field fails),
 * volume mounts against volumes; then each pod's command is run by /bin/sh with JOB_COMPLETION_INDEX = 0…n−1 and
 * `npx` standing in to print its arguments, as bash runs the Slurm script with SLURM_ARRAY_TASK_ID: both must
 * give shard k+1 of the same total, into one output folder, and the merge steps must finish that folder.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { REPO_ROOT } from '../support/tinyBundle.js';

const require = createRequire(import.meta.url);
const SLURM = join(REPO_ROOT, 'docs/examples/slurm-batch.sh');
const K8S = join(REPO_ROOT, 'docs/examples/k8s-indexed-job.yaml');

const Name = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63);
const Mount = z.object({ name: Name, mountPath: z.string().startsWith('/'), readOnly: z.boolean().optional() }).strict();
const Container = z
  .object({
    name: Name,
    image: z.string().min(1),
    command: z.array(z.string()),
    args: z.array(z.string()).optional(),
    resources: z.object({ requests: z.object({ cpu: z.string(), memory: z.string().regex(/^\d+(Ki|Mi|Gi|Ti)$/) }).strict() }).strict().optional(),
    volumeMounts: z.array(Mount),
  })
  .strict();
const PodTemplate = z
  .object({
    spec: z
      .object({
        restartPolicy: z.enum(['OnFailure', 'Never']),
        containers: z.array(Container).min(1),
        volumes: z.array(z.object({ name: Name, persistentVolumeClaim: z.object({ claimName: Name }).strict() }).strict()),
      })
      .strict(),
  })
  .strict();
const Job = z
  .object({
    apiVersion: z.literal('batch/v1'),
    kind: z.literal('Job'),
    metadata: z.object({ name: Name }).strict(),
    spec: z
      .object({
        completionMode: z.literal('Indexed').optional(),
        completions: z.number().int().positive().optional(),
        parallelism: z.number().int().positive().optional(),
        backoffLimit: z.number().int().nonnegative().optional(),
        template: PodTemplate,
      })
      .strict(),
  })
  .strict();

/** Arguments a shell command line gives `npx` (replaced by a function that prints them). */
function npxArgs(commandLine: string, env: Record<string, string>): string[] {
  const r = spawnSync('/bin/sh', ['-c', `npx() { printf '%s\\n' "$@"; }; ${commandLine}`], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trimEnd().split('\n');
}

function optionValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** segearth arguments of the Slurm example's task `id` (SEGEARTH replaced by a printer), as bash runs it. */
function slurmTaskArgs(id: number, env: Record<string, string> = {}): string[] {
  const r = spawnSync('bash', [SLURM], {
    env: { PATH: process.env.PATH ?? '', SLURM_ARRAY_TASK_ID: String(id), SEGEARTH: "printf %s\\n", ...env },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trimEnd().split('\n');
}

describe('cluster examples', () => {
  const yaml = require('js-yaml') as { loadAll(text: string): unknown[] };
  const docs = yaml.loadAll(readFileSync(K8S, 'utf8')).map((d) => Job.parse(d));
  const [work, merge] = docs as [z.infer<typeof Job>, z.infer<typeof Job>];

  it('the Kubernetes example is two valid batch/v1 Jobs: an Indexed one, then the merge', () => {
    expect(docs).toHaveLength(2);
    expect(work.spec.completionMode).toBe('Indexed');
    expect(work.spec.parallelism).toBe(work.spec.completions);
    for (const job of docs) {
      const volumes = new Set(job.spec.template.spec.volumes.map((v) => v.name));
      for (const c of job.spec.template.spec.containers) for (const m of c.volumeMounts) expect(volumes.has(m.name), m.name).toBe(true);
    }
    expect(merge.spec.completionMode).toBeUndefined();
  });

  it('each pod runs shard index+1 of the batch\'s total into one folder; the merge Job finishes that folder', () => {
    const n = work.spec.completions!;
    const container = work.spec.template.spec.containers[0]!;
    expect(container.command).toEqual(['/bin/sh', '-c']);
    const outputs = new Set<string>();
    for (let k = 0; k < n; k++) {
      const args = npxArgs(container.args![0]!, { JOB_COMPLETION_INDEX: String(k) });
      expect(args.slice(0, 2)).toEqual(['segearth', 'batch']);
      expect(optionValue(args, '--shard')).toBe(`${k + 1}/${n}`);
      expect(args).toContain('--resume');
      outputs.add(optionValue(args, '-o')!);
    }
    expect(outputs.size).toBe(1);
    const mergeCommand = merge.spec.template.spec.containers[0]!.command;
    expect(mergeCommand.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(npxArgs(mergeCommand[2]!, {})).toEqual(['segearth', 'merge', ...outputs]);
  });

  it('the Slurm example: task k runs shard k+1 of the array\'s size, also when resubmitted alone', () => {
    const text = readFileSync(SLURM, 'utf8');
    const array = /^#SBATCH --array=0-(\d+)$/m.exec(text);
    const n = Number(array?.[1]) + 1;
    const outputs = new Set<string>();
    for (let k = 0; k < n; k++) {
      const args = slurmTaskArgs(k, { SLURM_ARRAY_TASK_COUNT: String(n) });
      expect(args[0]).toBe('batch');
      expect(optionValue(args, '--shard')).toBe(`${k + 1}/${n}`);
      outputs.add(optionValue(args, '-o')!);
    }
    expect(outputs.size).toBe(1);
    // `sbatch --array=5 …` alone: Slurm says 1 task in this submission; the shard is still 6 of n.
    expect(optionValue(slurmTaskArgs(5, { SLURM_ARRAY_TASK_COUNT: '1', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_MAX: '5' }), '--shard')).toBe(`6/${n}`);
    // Its header's merge command finishes the folder the tasks wrote into.
    expect(text).toMatch(new RegExp(`--wrap "npx segearth merge ${[...outputs][0]}"`));
  });
});
