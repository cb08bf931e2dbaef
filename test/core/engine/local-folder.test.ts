import { join } from 'node:path';
import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import { LocalFolderBackend } from '../../../src/core/storage/local-folder.js';
import { tempDir } from '../../helpers/tmp.js';
import { engineSuite } from './suite.js';

const base = tempDir('chatsafe-engine-');
after(base.cleanup);
engineSuite('a local folder', () => () => new LocalFolderBackend(join(base.dir, randomBytes(8).toString('hex'))));
