/**
 * The Electron fuses of a packaged Chatsafe: the list the afterPack hook
 * applies is exactly the one we require, and the hook really flips them in a
 * binary's fuse wire (read back with @electron/fuses). The binary here is a
 * file carrying a fuse wire in Electron's format (sentinel, version, length,
 * one byte per fuse); electron-build.test.ts does the same on a real Electron
 * wherever one is available.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import { electronFuses, FUSE_STATE, loadAfterPack, loadFuses } from './release-scripts.js';

/** What issue 7 requires, plus file:// getting no extra privileges (the renderer is served from app://). */
const REQUIRED = {
  RunAsNode: false,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  EnableCookieEncryption: true,
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
  GrantFileProtocolExtraPrivileges: false,
};

const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const { ENABLE, DISABLE } = FUSE_STATE;

/** A file with a fuse wire of `length` fuses, all in the given state, between other bytes. */
function binaryWithWire(path: string, length: number, state: number) {
  writeFileSync(path, Buffer.concat([Buffer.alloc(4096, 0x90), Buffer.from(SENTINEL, 'latin1'), Buffer.from([1, length]), Buffer.alloc(length, state), Buffer.alloc(4096, 0x90)]));
}

function fuseIndex(name: string): number {
  const i = electronFuses.FuseV1Options[name];
  assert.equal(typeof i, 'number', `@electron/fuses knows ${name}`);
  return i as number;
}

let tmp: { dir: string; cleanup: () => void };
beforeEach(() => {
  tmp = tempDir('chatsafe-fuses-');
});
afterEach(() => tmp.cleanup());

describe('fuses', () => {
  test('the hook\'s list is exactly the required one', async () => {
    const { FUSE_SETTINGS } = await loadFuses();
    assert.deepEqual({ ...FUSE_SETTINGS }, REQUIRED);
  });

  test('the @electron/fuses configuration: every fuse by its index, ad-hoc re-signing only on macOS arm64', async () => {
    const { fuseConfig } = await loadFuses();
    const linux = fuseConfig({ platform: 'linux', arch: 'x64' });
    assert.equal(linux.version, '1');
    for (const [name, on] of Object.entries(REQUIRED)) assert.equal(linux[fuseIndex(name)], on, name);
    assert.equal(linux[fuseIndex('LoadBrowserProcessSpecificV8Snapshot')], undefined, 'left as Electron ships it');
    assert.equal(linux.resetAdHocDarwinSignature, false);
    assert.equal(fuseConfig({ platform: 'darwin', arch: 'arm64' }).resetAdHocDarwinSignature, true);
    assert.equal(fuseConfig({ platform: 'darwin', arch: 'x64' }).resetAdHocDarwinSignature, false);
    assert.equal(fuseConfig({ platform: 'win32', arch: 'arm64' }).resetAdHocDarwinSignature, false);
  });

  for (const [platform, file, start] of [
    ['linux', 'chatsafe', ENABLE],
    ['win32', 'Chatsafe.exe', DISABLE],
  ] as const) {
    test(`the afterPack hook flips the wire of a packed ${platform} app`, async (t) => {
      // The hook reports in electron-builder's output; keep that line out of the test runner's stdout.
      const printed = t.mock.method(console, 'log', () => undefined);
      const appOutDir = join(tmp.dir, `${platform}-unpacked`);
      mkdirSync(appOutDir);
      const exe = join(appOutDir, file);
      binaryWithWire(exe, 9, start); // one fuse more than @electron/fuses knows: left alone
      const afterPack = await loadAfterPack();
      await afterPack({ appOutDir, electronPlatformName: platform, arch: 1, packager: { appInfo: { productFilename: 'Chatsafe' }, executableName: 'chatsafe' } });
      const wire = await electronFuses.getCurrentFuseWire(exe);
      for (const [name, on] of Object.entries(REQUIRED)) assert.equal(wire[fuseIndex(name)], on ? ENABLE : DISABLE, name);
      assert.equal(wire[fuseIndex('LoadBrowserProcessSpecificV8Snapshot')], start, 'not touched');
      assert.equal(wire[8], start, 'an unknown newer fuse is not touched');
      assert.match(String(printed.mock.calls[0]?.arguments[0]), /fuses set \(RunAsNode off, .*OnlyLoadAppFromAsar on.*\) in 1 fuse wire$/);
    });
  }

  test('the hook fails the build when the binary has no fuse wire', async () => {
    const appOutDir = join(tmp.dir, 'linux-unpacked');
    mkdirSync(appOutDir);
    writeFileSync(join(appOutDir, 'chatsafe'), Buffer.alloc(1024, 0x90));
    const afterPack = await loadAfterPack();
    await assert.rejects(
      afterPack({ appOutDir, electronPlatformName: 'linux', arch: 1, packager: { appInfo: { productFilename: 'Chatsafe' }, executableName: 'chatsafe' } }),
      /Could not find sentinel/,
    );
  });
});
