/** Session key layout and input checks (pure). */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { slotOf } from '../../../lib/index.js';
import { globEscape, SessionKeys } from '../../../lib/session/keys.js';
import { jsonSerializer } from '../../../lib/index.js';
import { checkId } from '../../../lib/session/validate.js';

const idChar = fc.integer({ min: 0x21, max: 0x7e }).filter((c) => c !== 0x7b && c !== 0x7d).map((c) => String.fromCharCode(c));
const validId = fc.array(idChar, { minLength: 1, maxLength: 256 }).map((cs) => cs.join(''));

describe('session keys (unit)', () => {
  it('every key of one session shares the slot of its id, for any valid id and prefix', () => {
    const prefix = fc.string({ minLength: 1, maxLength: 20 }).filter((p) => !/[{}]/.test(p));
    fc.assert(
      fc.property(prefix, validId, (p, id) => {
        const keys = new SessionKeys(p);
        assert.equal(checkId(id), id);
        assert.equal(slotOf(keys.session(id)), slotOf(id));
        assert.equal(slotOf(keys.tombstone(id)), slotOf(id));
        assert.equal(keys.idOf(keys.session(id)), id);
        assert.equal(keys.idOf(keys.tombstone(id)), undefined, 'a tombstone is not a session');
        assert.equal(keys.idOf(keys.userIndex('u')), undefined);
      }),
    );
  });

  it('user index keys round-trip their user id', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 50 }), (user) => {
      const keys = new SessionKeys('s:');
      assert.equal(keys.userOf(keys.userIndex(user)), user);
      assert.equal(keys.idOf(keys.userIndex(user)), undefined);
    }));
  });

  it('escapes glob characters of the prefix in SCAN patterns', () => {
    assert.equal(globEscape('a*b?c[d]e\\f'), 'a\\*b\\?c\\[d\\]e\\\\f');
    assert.equal(new SessionKeys('app[1]:').sessionPattern, 'app\\[1\\]:{*}');
  });

  it('attributes use the shared strict JSON serializer: Dates become ISO strings, shared objects are fine', () => {
    const d = new Date('2030-01-02T03:04:05.000Z');
    assert.equal(jsonSerializer.serialize({ at: d, list: [1, 'a', null, { x: true }] }), '{"at":"2030-01-02T03:04:05.000Z","list":[1,"a",null,{"x":true}]}');
    const shared = { s: 1 };
    assert.equal(jsonSerializer.serialize({ a: shared, b: shared }), '{"a":{"s":1},"b":{"s":1}}');
  });
});
