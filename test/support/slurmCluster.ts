/**
 * @module test/support/slurmCluster
 * A real single-node Slurm cluster for tests, started in a temporary folder and torn down after: its own munged
 * (as user munge, its own key and socket), then slurmctld and slurmd as root (foreground children of the test)
 * from a generated slurm.conf — free ports, state and spool in the folder, ProctrackType=proctrack/linuxproc and
 * TaskPlugin=task/none (no cgroups, no systemd), the node being this host as `slurmd -C` describes it. Clients
 * reach it through `SLURM_CONF` in `env`. Needs Debian's slurm-wlm and munge, and root; `slurmSkipReason` says why
 * it cannot run otherwise (CI runs as root and installs both).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

const DAEMONS = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'sinfo', 'runuser'];

/** Absolute path of a command, also in /usr/sbin and /sbin (daemons; often not on a user's PATH). */
function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } });
  return r.status === 0 ? r.stdout.trim() || null : null;
}

const bin = (cmd: string): string => which(cmd) ?? cmd;

/** Why a Slurm cluster cannot be started here (printed as `[name] skipped: …`), or undefined when it can. */
export function slurmSkipReason(name: string): string | undefined {
  const missing = DAEMONS.filter((d) => !which(d));
  const munge = spawnSync('id', ['-u', 'munge'], { encoding: 'utf8' });
  const reason =
    process.platform !== 'linux'
      ? 'a Slurm test cluster needs Linux'
      : missing.length > 0
        ? `${missing.join(', ')} not found (apt-get install slurm-wlm munge, as .ci/run does)`
        : munge.status !== 0
          ? 'no user munge (the munge package creates it)'
          : process.getuid?.() !== 0
            ? 'slurmctld/slurmd must run as root to start jobs (CI runs as root)'
            : undefined;
  if (reason) console.warn(`[${name}] skipped: ${reason}`);
  return reason;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '0.0.0.0', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface SlurmCluster {
  /** The cluster's temporary folder (config, state, logs). */
  dir: string;
  /** process.env plus SLURM_CONF: pass to sbatch, squeue, scancel. */
  env: NodeJS.ProcessEnv;
  /** Runs a Slurm client command against this cluster; throws with its output when it fails. */
  run(cmd: string, args: string[], extraEnv?: NodeJS.ProcessEnv, timeoutMs?: number): string;
  /** The daemons' logs, for a failing test's message. */
  logs(): string;
  /** Cancels every job, stops the daemons and removes the folder. */
  stop(): Promise<void>;
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startSlurmCluster(): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'segearth-slurm-'));
  chmodSync(dir, 0o755); // munged (user munge) must reach its socket folder below
  const mungeDir = join(dir, 'munge');
  for (const d of [mungeDir, join(dir, 'state'), join(dir, 'spool'), join(dir, 'log')]) mkdirSync(d);
  const uid = Number(spawnSync('id', ['-u', 'munge'], { encoding: 'utf8' }).stdout);
  const gid = Number(spawnSync('id', ['-g', 'munge'], { encoding: 'utf8' }).stdout);
  const key = join(mungeDir, 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  chownSync(key, uid, gid);
  chownSync(mungeDir, uid, gid);
  const socket = join(mungeDir, 'munge.socket');
  const children: ChildProcess[] = [];

  const stopAll = async (): Promise<void> => {
    const env = { ...process.env, SLURM_CONF: join(dir, 'slurm.conf') };
    if (existsSync(join(dir, 'slurm.conf'))) spawnSync('scancel', ['--full', '--quiet', '--user=root'], { env, timeout: 30_000 });
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const mungePid = existsSync(join(mungeDir, 'munged.pid')) ? Number(readFileSync(join(mungeDir, 'munged.pid'), 'utf8')) : 0;
    if (mungePid > 0) {
      try {
        process.kill(mungePid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const munged = spawnSync(
      bin('runuser'),
      ['-u', 'munge', '--', bin('munged'), `--socket=${socket}`, `--key-file=${key}`, `--pid-file=${join(mungeDir, 'munged.pid')}`,
        `--log-file=${join(mungeDir, 'munged.log')}`, `--seed-file=${join(mungeDir, 'munged.seed')}`],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (munged.status !== 0) throw new Error(`munged did not start: ${munged.stderr}`);

    const node = spawnSync(bin('slurmd'), ['-C'], { encoding: 'utf8' }).stdout.split('\n').find((l) => l.startsWith('NodeName='));
    if (!node) throw new Error('slurmd -C did not describe this host');
    const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
    const conf = join(dir, 'slurm.conf');
    writeFileSync(
      conf,
      [
        'ClusterName=segearthtest',
        `SlurmctldHost=${hostname()}`,
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${slurmdPort}`,
        'SlurmUser=root',
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${socket}`,
        `StateSaveLocation=${join(dir, 'state')}`,
        `SlurmdSpoolDir=${join(dir, 'spool')}`,
        `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
        `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
        `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
        `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/none',
        'SchedulerType=sched/backfill',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_Core',
        'ReturnToService=2',
        'MpiDefault=none',
        'KillWait=5',
        `${node.trim()} State=UNKNOWN`,
        'PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
        '',
      ].join('\n'),
    );
    const env = { ...process.env, SLURM_CONF: conf };
    for (const daemon of ['slurmctld', 'slurmd']) {
      const child = spawn(bin(daemon), ['-D', '-f', conf, ...(daemon === 'slurmctld' ? ['-i'] : [])], { env, stdio: 'ignore' });
      children.push(child);
      child.once('error', () => undefined);
    }
    await waitFor(
      'the Slurm node to come up idle',
      () => /idle/.test(spawnSync('sinfo', ['-h', '-o', '%T'], { env, encoding: 'utf8', timeout: 20_000 }).stdout ?? ''),
      120_000,
    );
    const logs = (): string =>
      ['slurmctld.log', 'slurmd.log']
        .map((f) => join(dir, 'log', f))
        .filter((f) => existsSync(f))
        .map((f) => `--- ${f}\n${readFileSync(f, 'utf8').slice(-3000)}`)
        .join('\n');
    return {
      dir,
      env,
      logs,
      run(cmd, args, extraEnv = {}, timeoutMs = 600_000) {
        const r = spawnSync(cmd, args, { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: timeoutMs });
        if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}\n${logs()}`);
        return r.stdout;
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
