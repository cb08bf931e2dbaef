import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { openBackend } from '../../../src/core/storage/open.js';
import { startWebDav, webdavSkip, type Service } from '../storage/services.js';
import { engineSuite } from './suite.js';

let dav: Service | undefined;

before(async () => {
  if (webdavSkip) return;
  dav = await startWebDav();
});
after(async () => {
  await dav?.stop();
});

engineSuite(
  'WebDAV (Apache mod_dav)',
  () => () => {
    const url = new URL(dav!.env.WEBDAV_URL!);
    return openBackend(`webdav+${url.origin}${url.pathname.replace(/\/$/, '')}/engine-${randomBytes(6).toString('hex')}`, { env: dav!.env });
  },
  webdavSkip,
);
