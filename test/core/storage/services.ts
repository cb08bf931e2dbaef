/**
 * Starts and stops the real storage servers for the tests, through the
 * scripts in scripts/services (the same ones CI and benchmarks use).
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { REPO_ROOT } from '../../helpers/fixtures.js';

const run = promisify(execFile);

export interface Service {
  readonly env: Record<string, string>;
  /** Runs another subcommand of the script (kill-gateway, start-gateway, kill, start-again). */
  control(command: string): Promise<void>;
  stop(): Promise<void>;
}

function hasCommands(...names: string[]): boolean {
  try {
    execFileSync('sh', ['-c', names.map((n) => `command -v ${n} >/dev/null`).join(' && ')], { stdio: 'ignore', env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } });
    return true;
  } catch {
    return false;
  }
}

/** A skip reason when the Debian packages are absent (.ci/run installs them), else false. */
export const radosgwSkip: string | false = hasCommands('radosgw', 'ceph-mon', 'ceph-osd', 'ceph')
  ? false
  : 'radosgw/ceph not installed (apt-get install radosgw ceph-mon ceph-osd ceph-common)';
export const webdavSkip: string | false = hasCommands('apache2', 'htpasswd')
  ? false
  : 'apache2 not installed (apt-get install apache2 apache2-utils)';

async function startService(script: string): Promise<Service> {
  const path = resolve(REPO_ROOT, 'scripts', 'services', script);
  const parent = mkdtempSync(join(tmpdir(), 'chatsafe-svc-'));
  // As root, Apache serves as www-data, which must be able to pass through this folder.
  chmodSync(parent, 0o755);
  const dir = join(parent, 'srv');
  let out: string;
  try {
    ({ stdout: out } = await run('bash', [path, 'start', dir, String(process.pid)], { timeout: 180_000 }));
  } catch (e) {
    await run('bash', [path, 'stop', dir]).catch(() => undefined);
    rmSync(parent, { recursive: true, force: true });
    throw e;
  }
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return {
    env,
    control: async (command) => {
      await run('bash', [path, command, dir], { timeout: 120_000 });
    },
    stop: async () => {
      await run('bash', [path, 'stop', dir], { timeout: 60_000 });
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

export const startRadosgw = (): Promise<Service> => startService('radosgw.sh');

/** A radosgw with one empty bucket in it, for tests that only need somewhere to put a repository. */
export async function startRadosgwWithBucket(bucket: string): Promise<Service> {
  const rgw = await startRadosgw();
  const admin = new S3Client({
    endpoint: rgw.env.S3_ENDPOINT!,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.env.AWS_ACCESS_KEY_ID!, secretAccessKey: rgw.env.AWS_SECRET_ACCESS_KEY! },
  });
  try {
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e) {
    await rgw.stop();
    throw e;
  } finally {
    admin.destroy();
  }
  return rgw;
}
/**
 * Starts a radosgw with `bucket` before the calling file's tests (unless radosgw is missing) and
 * stops it after them; `service()` is the running server.
 */
export function radosgwForTests(bucket: string): { service(): Service } {
  let rgw: Service | undefined;
  before(async () => {
    if (!radosgwSkip) rgw = await startRadosgwWithBucket(bucket);
  });
  after(async () => {
    await rgw?.stop();
  });
  return {
    service: () => {
      if (!rgw) throw new Error('radosgw is not running');
      return rgw;
    },
  };
}

export const startWebDav = (): Promise<Service> => startService('webdav.sh');
