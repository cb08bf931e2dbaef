// Runs a tool as a child process and measures what the user experiences: wall seconds from spawn to
// exit, CPU seconds, and peak memory.
//
// Peak memory is the larger of two readings:
//   - GNU time's %M: the exact peak RSS (ru_maxrss) of the largest process it waited for;
//   - the sum of VmHWM (each process's own peak RSS) over every process of the tool's tree, polled
//     from /proc every 100 ms: an upper bound when a tool spreads over several processes.
// For a single process (restic; node with worker threads) both agree.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';

function readStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]) };
  } catch {
    return null;
  }
}

function readHwmBytes(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Pids of every descendant of root (not root itself), from the ppid links in /proc. */
function descendants(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(name);
    if (!st) continue;
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(Number(name));
  }
  const out = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/**
 * Runs `command args` under GNU time, polling its process tree.
 * @returns {Promise<{ code: number, seconds: number, cpuSeconds: number, peakRssBytes: number, processes: number, stdout: string, stderr: string }>}
 */
export function runMeasured(command, args, { cwd, env } = {}) {
  const scratch = mkdtempSync(join(tmpdir(), 'chatsafe-bench-time-'));
  const timeFile = join(scratch, 'time');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(GNU_TIME, ['-f', '%M %U %S', '-o', timeFile, command, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout = [];
    const stderr = [];
    child.stdout.on('data', (d) => stdout.push(d));
    child.stderr.on('data', (d) => stderr.push(d));
    const hwm = new Map();
    const poll = () => {
      for (const pid of descendants(child.pid)) hwm.set(pid, Math.max(hwm.get(pid) ?? 0, readHwmBytes(pid)));
    };
    const timer = setInterval(poll, 100);
    child.on('error', (err) => {
      clearInterval(timer);
      rmSync(scratch, { recursive: true, force: true });
      reject(err);
    });
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      clearInterval(timer);
      let timeLine = '';
      try {
        timeLine = readFileSync(timeFile, 'utf8').trim().split('\n').pop();
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
      const [maxRssKb, user, sys] = timeLine.split(' ').map(Number);
      const polled = [...hwm.values()].reduce((a, b) => a + b, 0);
      resolve({
        code: code ?? 1,
        seconds,
        cpuSeconds: (user || 0) + (sys || 0),
        peakRssBytes: Math.max((maxRssKb || 0) * 1024, polled),
        processes: Math.max(1, hwm.size),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}
