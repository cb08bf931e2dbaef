/** Whom the vault's per-address rate limit counts as one client. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, rateLimitKey } from '../../src/vault-server/rate-limit.js';

test('IPv6 clients count by their /64, however they write or rotate the rest of the address', () => {
  const key = rateLimitKey('2001:db8:1:2::1');
  for (const same of ['2001:db8:1:2:aaaa::1', '2001:0DB8:0001:0002:bbbb:cccc:dddd:eeee', '2001:db8:1:2::', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::7%eth0']) {
    assert.equal(rateLimitKey(same), key, same);
  }
  for (const other of ['2001:db8:1:3::1', '2001:db8:0:1:2::', '2001:db8::1:2:3:4:5', '2001:db9:1:2::1']) assert.notEqual(rateLimitKey(other), key, other);
  // the key is the prefix, never the full address of one client
  assert.equal(key, '2001:db8:1:2::/64');
  assert.equal(rateLimitKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
});

test('IPv4 clients count by their address, whether it arrives as IPv4 or IPv4-mapped IPv6', () => {
  assert.equal(rateLimitKey('203.0.113.7'), '203.0.113.7');
  assert.equal(rateLimitKey('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(rateLimitKey('::FFFF:cb00:7107'), '203.0.113.7');
  assert.notEqual(rateLimitKey('203.0.113.8'), rateLimitKey('203.0.113.7'));
  assert.equal(rateLimitKey('unknown'), 'unknown');
});

test('rotating addresses inside one /64 does not earn more requests', () => {
  const limit = new RateLimiter(3);
  const now = Date.now();
  const waits = ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2::3', '2001:db8:1:2::4'].map((a) => limit.take(rateLimitKey(a), now));
  assert.deepEqual(waits.map((w) => w > 0), [false, false, false, true]);
  assert.equal(limit.take(rateLimitKey('2001:db8:1:3::1'), now), 0);
});
