// Turns the benchmark's measurements into the side-by-side table, the target verdicts and the final
// JSON object. Every ratio reads "above 1 means Chatsafe did better".
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const STEPS = [
  { key: 'backup', label: 'first backup' },
  { key: 'rebackup', label: 'unchanged backup' },
  { key: 'grow_backup', label: 'backup after +1%' },
  { key: 'restore', label: 'restore latest' },
];

export const TARGETS = { backup: 2.0, restore: 1.5, rebackup: 1.0, peakRssMib: 150 };
/** Peak RSS counts as flat when the larger export's peak is within this share of the smaller's (GC timing noise). */
export const RSS_FLAT_TOLERANCE = 0.05;

const MIB = 2 ** 20;
const round = (x, digits = 2) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits);

/**
 * One tool's figures per step over all rounds: fastest time (best of N, the least disturbed by other
 * load on the machine), highest peak RSS, the last round's repository size.
 */
export function summarizeTool(runs) {
  if (runs.length === 0) return null;
  const out = {};
  for (const { key } of STEPS) {
    const samples = runs.map((r) => r.steps[key]);
    const best = samples.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const last = samples[samples.length - 1];
    out[key] = {
      seconds: round(best.seconds, 3),
      mb_per_s: round(best.bytes / 1e6 / best.seconds, 1),
      cpu_seconds: round(best.cpuSeconds, 2),
      peak_rss_mib: round(Math.max(...samples.map((s) => s.peakRssBytes)) / MIB, 1),
      processes: Math.max(...samples.map((s) => s.processes)),
      repo_bytes: last.repoBytes,
      repo_apparent_bytes: last.repoApparentBytes,
      bytes: best.bytes,
      runs_seconds: samples.map((s) => round(s.seconds, 3)),
    };
  }
  out.peak_rss_mib = Math.max(...STEPS.map(({ key }) => out[key].peak_rss_mib));
  return out;
}

/** Chatsafe's advantage: time ratio restic/chatsafe (equal to the throughput ratio chatsafe/restic). */
function ratio(chatsafe, restic, key) {
  if (!chatsafe || !restic) return null;
  return round(restic[key].seconds / chatsafe[key].seconds, 2);
}

/** Exports below this size are for quick trials; memory flatness is judged from 1 GiB up (issue 2: 1G vs 3G). */
const FLATNESS_MIN_BYTES = 2 ** 30;

/**
 * Compares this run's peak RSS with stored results of the same seed at other sizes of 1 GiB and up:
 * the larger export must not need more memory than the smaller one (within RSS_FLAT_TOLERANCE).
 */
export function rssFlatness(outDir, current) {
  if (current.peak_rss_mib == null) return { met: null, note: 'chatsafe not measured' };
  if (current.size_bytes < FLATNESS_MIN_BYTES) return { met: null, note: 'judged only between exports of 1G and more' };
  const others = existsSync(outDir)
    ? readdirSync(outDir).filter((n) => /^results-.*\.json$/.test(n)).map((n) => JSON.parse(readFileSync(join(outDir, n), 'utf8')))
      .filter((r) => r.seed === current.seed && r.size_bytes !== current.size_bytes && r.size_bytes >= FLATNESS_MIN_BYTES && r.peak_rss_mib != null)
    : [];
  if (others.length === 0) {
    const hint = current.size_bytes > 2 ** 30 ? 'npm run bench -- --size 1G' : 'npm run bench -- --size 3G';
    return { met: null, note: `no result at another size yet (run \`${hint}\`)` };
  }
  const comparisons = others.map((o) => {
    const [small, large] = o.size_bytes < current.size_bytes ? [o, current] : [current, o];
    return {
      smaller: small.size, smaller_peak_rss_mib: small.peak_rss_mib, larger: large.size, larger_peak_rss_mib: large.peak_rss_mib,
      other_measured_at: o.measured_at, other_commit: o.commit,
      met: large.peak_rss_mib <= small.peak_rss_mib * (1 + RSS_FLAT_TOLERANCE),
    };
  });
  return { met: comparisons.every((c) => c.met), tolerance: RSS_FLAT_TOLERANCE, comparisons };
}

/** The final JSON object: every figure, the ratios and the target verdicts. */
export function buildResult({ meta, chatsafeRuns, resticRuns, grow, outDir }) {
  const cs = summarizeTool(chatsafeRuns);
  const rs = summarizeTool(resticRuns);
  const result = {
    bench: 'backup-vs-restic',
    ...meta,
    backup_ratio: ratio(cs, rs, 'backup'),
    rebackup_ratio: ratio(cs, rs, 'rebackup'),
    grow_backup_ratio: ratio(cs, rs, 'grow_backup'),
    restore_ratio: ratio(cs, rs, 'restore'),
    repo_size_ratio: cs && rs ? round(rs.grow_backup.repo_bytes / cs.grow_backup.repo_bytes, 3) : null,
    peak_rss_mib: cs ? cs.peak_rss_mib : null,
    restic_peak_rss_mib: rs ? rs.peak_rss_mib : null,
    grow,
    chatsafe: cs ? { version: meta.chatsafe_version, ...cs } : null,
    restic: rs ? { version: meta.restic_version, repository_version: meta.restic_repository_version, ...rs } : null,
  };
  const verdict = (value, ok) => (value == null ? null : ok);
  result.targets = {
    backup: { min: TARGETS.backup, value: result.backup_ratio, met: verdict(result.backup_ratio, result.backup_ratio >= TARGETS.backup) },
    restore: { min: TARGETS.restore, value: result.restore_ratio, met: verdict(result.restore_ratio, result.restore_ratio >= TARGETS.restore) },
    rebackup: { min: TARGETS.rebackup, value: result.rebackup_ratio, met: verdict(result.rebackup_ratio, result.rebackup_ratio >= TARGETS.rebackup) },
    peak_rss: { max_mib: TARGETS.peakRssMib, value: result.peak_rss_mib, met: verdict(result.peak_rss_mib, result.peak_rss_mib < TARGETS.peakRssMib) },
    rss_flat: rssFlatness(outDir, result),
  };
  const verdicts = Object.values(result.targets).map((t) => t.met);
  result.all_targets_met = verdicts.includes(false) ? false : verdicts.includes(null) ? null : true;
  return result;
}

const fmtBytes = (b) => (b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : `${(b / 1e6).toFixed(1)} MB`);
const pad = (s, n) => String(s).padStart(n);
const yesNo = (met) => (met == null ? 'not measured' : met ? 'met' : 'NOT MET');

/** The readable report (lines, without the JSON). */
export function formatTable(result) {
  const lines = [];
  lines.push(`Chatsafe ${result.chatsafe_version ?? '(not run)'} vs ${result.restic_version ?? 'restic (not run)'}`);
  lines.push(`export: ${result.size} = ${result.size_bytes.toLocaleString('en')} bytes in ${result.files.toLocaleString('en')} files ` +
    `(msgstore.db ${fmtBytes(result.database_bytes)}, ${result.database_messages.toLocaleString('en')} messages), seed ${result.seed}`);
  lines.push(`${result.rounds} round(s), order ${result.order.map((o) => o.join(' → ')).join(', then ')}; best time of the rounds, ` +
    'highest peak RSS; MB = 10^6 bytes; repo = bytes on disk after the step');
  lines.push(`machine: ${result.cpus} CPUs, load average ${result.load_average.start} at the start, ${result.load_average.end} at the end ` +
    '(other work on the machine slows both tools; compare ratios, not absolute figures)');
  if (result.page_fault_us !== undefined) {
    lines.push(`page fault: ${result.page_fault_us} µs a fresh 4 KiB page` + (result.page_fault_us > 2
      ? ' (slow: the kernel\'s share of each step, the same seconds for both tools, is large here, and every ratio moves towards 1)'
      : ''));
  }
  if (result.grow) {
    lines.push(`+1% step: ${result.grow.added_messages.toLocaleString('en')} messages added, msgstore.db ${fmtBytes(result.grow.db_bytes_before)} → ` +
      `${fmtBytes(result.grow.db_bytes_after)}, ${result.grow.pages_changed.toLocaleString('en')} of ${result.grow.pages.toLocaleString('en')} pages changed, ` +
      `${result.grow.pages_appended.toLocaleString('en')} appended`);
  }
  lines.push('');
  lines.push(`${'step'.padEnd(18)}${'tool'.padEnd(10)}${pad('seconds', 9)}${pad('MB/s', 9)}${pad('CPU s', 8)}${pad('peak RSS', 11)}${pad('repo', 11)}   Chatsafe/restic`);
  const targetFor = { backup: TARGETS.backup, restore: TARGETS.restore, rebackup: TARGETS.rebackup };
  for (const { key, label } of STEPS) {
    let first = true;
    for (const tool of ['chatsafe', 'restic']) {
      const s = result[tool]?.[key];
      if (!s) continue;
      let note = '';
      if (first && result[`${key}_ratio`] != null) {
        const r = result[`${key}_ratio`];
        note = `   ${r.toFixed(2)}x` + (targetFor[key] ? ` (target ≥ ${targetFor[key].toFixed(1)}x: ${yesNo(r >= targetFor[key])})` : '');
      }
      lines.push(`${(first ? label : '').padEnd(18)}${tool.padEnd(10)}${pad(s.seconds.toFixed(2), 9)}${pad(s.mb_per_s.toFixed(1), 9)}` +
        `${pad(s.cpu_seconds.toFixed(1), 8)}${pad(`${s.peak_rss_mib.toFixed(0)} MiB`, 11)}${pad(fmtBytes(s.repo_bytes), 11)}${note}`);
      first = false;
    }
  }
  lines.push('');
  const t = result.targets;
  lines.push('targets (issue 2):');
  const verdictLine = (label, value, met) => lines.push(`  ${label.padEnd(34)}${pad(value == null ? '-' : value.toFixed(2), 7)}   ${yesNo(met)}`);
  verdictLine(`backup throughput ≥ ${TARGETS.backup.toFixed(1)}x restic`, t.backup.value, t.backup.met);
  verdictLine(`restore throughput ≥ ${TARGETS.restore.toFixed(1)}x restic`, t.restore.value, t.restore.met);
  verdictLine(`unchanged backup ≥ ${TARGETS.rebackup.toFixed(1)}x restic`, t.rebackup.value, t.rebackup.met);
  verdictLine(`peak RSS < ${TARGETS.peakRssMib} MiB`, t.peak_rss.value, t.peak_rss.met);
  const flat = t.rss_flat;
  if (flat.comparisons) {
    for (const c of flat.comparisons) {
      lines.push(`  peak RSS flat ${c.smaller} → ${c.larger}: ${c.smaller_peak_rss_mib} → ${c.larger_peak_rss_mib} MiB ` +
        `(±${RSS_FLAT_TOLERANCE * 100}%; other run ${c.other_measured_at}, commit ${c.other_commit})   ${yesNo(c.met)}`);
    }
  } else {
    lines.push(`  peak RSS flat as the export grows: unknown, ${flat.note}`);
  }
  if (result.repo_size_ratio != null) {
    lines.push(`repository size after the +1% backup, restic/Chatsafe: ${result.repo_size_ratio}x ` +
      `(restic keeps its ${result.snapshots_after.restic} snapshots, Chatsafe ${result.snapshots_after.chatsafe}: each tool's default retention)`);
  }
  return lines;
}
