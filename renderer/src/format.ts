/** Numbers for people. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatTime(ms: number | string): string {
  return new Date(ms).toLocaleString();
}

export const PHASES: Record<string, string> = {
  scanning: 'Looking at the files',
  importing: 'Reading the chats',
  'backing-up': 'Encrypting and storing',
  verifying: 'Verifying the new backup',
  pruning: 'Removing older backups',
  restoring: 'Restoring',
  checking: 'Checking',
  exporting: 'Writing the bundle',
};

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}
