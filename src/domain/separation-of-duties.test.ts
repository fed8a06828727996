import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conflictsHeld, findSodConflict, type SodRule } from './separation-of-duties.js';

const pair: SodRule = { name: 'maker-checker', entitlements: ['pay/initiate', 'pay/approve'], reason: null };
const toxic: SodRule = { name: 'vendor-fraud', entitlements: ['erp/vendor-create', 'erp/invoice-approve', 'erp/payment-release'], reason: null };

describe('separation of duties: nobody holds every entitlement of a rule', () => {
  const cases: [string, string, string[], string | undefined][] = [
    ['the other side of a pair is held', 'pay/approve', ['pay/initiate'], 'pay/initiate'],
    ['nothing of the pair is held', 'pay/approve', ['crm/read'], undefined],
    ['two of three are held: the third completes the combination', 'erp/payment-release', ['erp/vendor-create', 'erp/invoice-approve'],
      'erp/vendor-create and erp/invoice-approve'],
    ['one of three is held: the second is allowed', 'erp/invoice-approve', ['erp/vendor-create'], undefined],
    ['an entitlement no rule names', 'crm/read', ['pay/initiate', 'pay/approve'], undefined],
  ];
  for (const [name, wanted, held, conflictsWith] of cases) {
    it(`${name}: ${conflictsWith ? `conflicts with ${conflictsWith}` : 'allowed'}`, () => {
      assert.equal(findSodConflict([pair, toxic], wanted, held)?.conflictsWith, conflictsWith);
    });
  }

  it('a person holding every entitlement of a rule holds a conflict; two of three is not one', () => {
    assert.deepEqual(conflictsHeld([pair, toxic], ['erp/vendor-create', 'erp/invoice-approve', 'erp/payment-release']).map((r) => r.name), ['vendor-fraud']);
    assert.deepEqual(conflictsHeld([pair, toxic], ['erp/vendor-create', 'erp/invoice-approve', 'pay/initiate']), []);
  });
});
