import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mfaPerformedAt, signInAssurance } from './sign-in-mfa.js';

const mfa = (claims: { amr?: unknown; acr?: unknown }, acrValues: string[] = []) => signInAssurance(claims, acrValues).mfa;

describe('whether a sign-in used MFA, from the ID token', () => {
  it('amr naming mfa is MFA, whatever else it names', () => {
    assert.equal(mfa({ amr: ['mfa'] }), true);
    assert.equal(mfa({ amr: ['pwd', 'mfa'] }), true);
    assert.equal(signInAssurance({ amr: ['pwd', 'mfa'] }, []).basis, 'amr:mfa');
  });
  it('two methods of different factors are MFA: a password and a one-time code, a key and a fingerprint', () => {
    assert.equal(mfa({ amr: ['pwd', 'otp'] }), true);
    assert.equal(mfa({ amr: ['hwk', 'fpt'] }), true);
    assert.equal(mfa({ amr: ['pin', 'swk'] }), true);
    assert.equal(signInAssurance({ amr: ['pwd', 'sms'] }, []).basis, 'amr:factors');
  });
  it('one method alone, or two of the same factor, is not MFA', () => {
    assert.equal(mfa({ amr: ['pwd'] }), false);
    assert.equal(mfa({ amr: ['otp'] }), false);
    assert.equal(mfa({ amr: ['hwk'] }), false);
    assert.equal(mfa({ amr: ['pwd', 'kba'] }), false);
    assert.equal(mfa({ amr: ['otp', 'sms'] }), false);
  });
  it('methods that prove no second factor count for nothing: several channels, presence, unknown values', () => {
    assert.equal(mfa({ amr: ['pwd', 'mca'] }), false);
    assert.equal(mfa({ amr: ['pwd', 'user'] }), false);
    assert.equal(mfa({ amr: ['hwk', 'user'] }), false, 'a security key touched, not unlocked');
    assert.equal(mfa({ amr: ['hwk', 'pin'] }), true, 'a security key unlocked with its PIN');
    assert.equal(mfa({ amr: ['pwd', 'strong-ish'] }), false);
  });
  it('no amr and no configured acr is not MFA', () => {
    assert.equal(mfa({}), false);
    assert.equal(mfa({ acr: 'urn:example:mfa' }), false);
  });
  it('an acr the deployment names as MFA is MFA; any other acr is not', () => {
    assert.equal(mfa({ acr: 'urn:example:mfa' }, ['urn:example:mfa']), true);
    assert.equal(signInAssurance({ acr: 'urn:example:mfa' }, ['urn:example:mfa']).basis, 'acr');
    assert.equal(mfa({ acr: 'urn:example:pwd' }, ['urn:example:mfa']), false);
    assert.equal(mfa({ acr: 'URN:EXAMPLE:MFA' }, ['urn:example:mfa']), false);
  });
  it('hostile claims are not MFA and are not carried into the audit log as given', () => {
    assert.equal(mfa({ amr: 'mfa' }), false, 'amr is an array; a string is not accepted');
    assert.equal(mfa({ amr: [{ mfa: true }, 42, null] }), false);
    assert.equal(mfa({ acr: ['urn:example:mfa'] }, ['urn:example:mfa']), false);
    const long = signInAssurance({ amr: [...Array.from({ length: 100 }, () => 'pwd'), 'mfa', 'x'.repeat(500), 'pwd\nmfa'] }, []);
    assert.equal(long.amr.length, 16);
    assert.equal(long.mfa, false, 'an mfa past the first 16 values is not read');
    assert.ok(long.amr.every((v) => v === 'pwd'));
  });
});

describe('when the MFA behind a sign-in was performed', () => {
  const signedIn = new Date('2030-01-01T09:00:00Z');
  const at = (claims: { amr?: unknown; auth_time?: unknown }) => mfaPerformedAt(signInAssurance(claims, []), signedIn);

  it('is the provider\'s auth_time: a single sign-on session reused hours after its MFA is that old', () => {
    assert.deepEqual(at({ amr: ['mfa'], auth_time: Date.parse('2030-01-01T03:00:00Z') / 1000 }), new Date('2030-01-01T03:00:00Z'));
  });
  it('is the sign-in itself when the provider gives no auth_time', () => {
    assert.deepEqual(at({ amr: ['mfa'] }), signedIn);
  });
  it('attacker: is never later than the sign-in, whatever auth_time says', () => {
    assert.deepEqual(at({ amr: ['mfa'], auth_time: Date.parse('2031-01-01T00:00:00Z') / 1000 }), signedIn);
  });
  it('hostile auth_time values are ignored, not trusted: text, negative, not finite', () => {
    for (const auth_time of ['1700000000', -5, Number.POSITIVE_INFINITY, Number.NaN, null]) assert.deepEqual(at({ amr: ['mfa'], auth_time }), signedIn, String(auth_time));
  });
  it('is null without MFA, whatever auth_time says', () => {
    assert.equal(at({ amr: ['pwd'], auth_time: signedIn.getTime() / 1000 }), null);
  });
});
