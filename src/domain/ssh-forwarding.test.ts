import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardingDestination, isForwardingDestination } from './ssh-forwarding.js';

describe('forwarding destinations of the SSH proxy', () => {
  it('a request\'s destination is written as the policy writes it: IPv6 in brackets, names in lower case', () => {
    assert.equal(forwardingDestination('127.0.0.1', 5432), '127.0.0.1:5432');
    assert.equal(forwardingDestination('::1', 5432), '[::1]:5432');
    assert.equal(forwardingDestination('DB.Internal', 8080), 'db.internal:8080');
  });
  it('whatever the client sends that the policy cannot write never matches a well-formed destination', () => {
    for (const [host, port] of [['*', 22], ['127.0.0.1 ', 22], ['127.1', 22], ['localhost.', 22], ['fe80::1%eth0', 22], ['db', 0]] as const) {
      assert.equal(isForwardingDestination(forwardingDestination(host, port)), false, `${host}:${port}`);
    }
  });
});
