import { randomBytes } from 'node:crypto';
import { openBackend } from '../../../src/core/storage/open.js';
import { radosgwForTests, radosgwSkip } from '../storage/services.js';
import { engineSuite } from './suite.js';

const BUCKET = 'chatsafe-engine';
const rgw = radosgwForTests(BUCKET);

engineSuite(
  'S3 (Ceph radosgw)',
  () => () =>
    openBackend(`s3://${BUCKET}/repo-${randomBytes(6).toString('hex')}?endpoint=${encodeURIComponent(rgw.service().env.S3_ENDPOINT!)}&region=us-east-1&pathStyle=1`, { env: rgw.service().env }),
  radosgwSkip,
);
