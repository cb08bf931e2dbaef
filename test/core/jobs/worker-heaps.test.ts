import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

const MiB = 1024 * 1024;

/**
 * In a process started as the chatsafe command starts (2 MiB semi-spaces for its main thread), a
 * worker started with `youngGeneration(young)` fills its new space, and says how large it grew.
 */
function workerNewSpace(young: number): number {
  const module = new URL('../../../src/core/jobs/worker-heaps.js', import.meta.url).href;
  const worker = `
    import { parentPort } from 'node:worker_threads';
    import v8 from 'node:v8';
    let kept = [];
    for (let i = 0; i < 3e6; i++) { kept.push({ i }); if (kept.length > 50000) kept = []; }
    parentPort.postMessage(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);`;
  // The worker's code is a module, as the process's --input-type makes every eval'd script.
  const script = `
    import { Worker } from 'node:worker_threads';
    const { youngGeneration } = await import(${JSON.stringify(module)});
    const w = new Worker(${JSON.stringify(worker)}, { eval: true, resourceLimits: youngGeneration(${young}) });
    w.on('message', (size) => { process.stdout.write(String(size)); w.terminate(); });`;
  return Number(execFileSync(process.execPath, ['--max-semi-space-size=2', '--input-type=module', '-e', script], { encoding: 'utf8' }));
}

test("a worker gets the young generation it asks for, not the command's main thread's", () => {
  // The command's flag gave it 4 MiB (two semi-spaces of 2 MiB) whatever it asked.
  const small = workerNewSpace(2);
  assert.ok(small > 0 && small <= 2 * MiB, `new space ${(small / MiB).toFixed(2)} MiB for a 2 MiB young generation`);
  const large = workerNewSpace(48);
  assert.ok(large >= 8 * MiB, `new space ${(large / MiB).toFixed(2)} MiB for a 48 MiB young generation`);
});
