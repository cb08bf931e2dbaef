import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { openBackend } from '../../../src/core/storage/open.js';
import { radosgwSkip, startRadosgw, type Service } from '../storage/services.js';
import { engineSuite } from './suite.js';

const BUCKET = 'chatsafe-engine';
let rgw: Service | undefined;

before(async () => {
  if (radosgwSkip) return;
  rgw = await startRadosgw();
  const admin = new S3Client({
    endpoint: rgw.env.S3_ENDPOINT!,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.env.AWS_ACCESS_KEY_ID!, secretAccessKey: rgw.env.AWS_SECRET_ACCESS_KEY! },
  });
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  admin.destroy();
});
after(async () => {
  await rgw?.stop();
});

engineSuite(
  'S3 (Ceph radosgw)',
  () => () =>
    openBackend(`s3://${BUCKET}/repo-${randomBytes(6).toString('hex')}?endpoint=${encodeURIComponent(rgw!.env.S3_ENDPOINT!)}&region=us-east-1&pathStyle=1`, { env: rgw!.env }),
  radosgwSkip,
);
