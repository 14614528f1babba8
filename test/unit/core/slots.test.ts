import assert from 'node:assert/strict';
import fc from 'fast-check';
import calculateSlot from 'cluster-key-slot';
import { slotOf, SLOT_COUNT } from '../../../lib/core/slots.js';

describe('slotOf (unit)', () => {
  it('matches the cluster spec test vector (CRC16 of "123456789" is 0x31C3)', () => {
    assert.equal(slotOf('123456789'), 0x31c3 % SLOT_COUNT);
  });

  it('hashes only the first non-empty {tag}', () => {
    assert.equal(slotOf('{user1000}.following'), slotOf('user1000'));
    assert.equal(slotOf('{user1000}.followers'), slotOf('user1000'));
    assert.equal(slotOf('foo{{bar}}zap'), slotOf('{bar'));
    assert.equal(slotOf('foo{bar}{zap}'), slotOf('bar'));
  });

  it('hashes the whole key when the first tag is empty, even if a later } follows', () => {
    // Values from CLUSTER KEYSLOT on redis-server 7.0.15; cluster-key-slot 1.1.2 alone gets the first two wrong.
    assert.equal(slotOf('foo{}{bar}'), 8363);
    assert.equal(slotOf('{}{bar}'), 11272);
    assert.equal(slotOf('a{}b}'), 14284);
    assert.equal(slotOf('{}'), 15257);
  });

  it('gives the same slot for a string and its UTF-8 Buffer', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => slotOf(s) === slotOf(Buffer.from(s, 'utf8'))),
      { numRuns: 500 },
    );
  });

  it('hashes plain string keys in place exactly as cluster-key-slot does (ASCII, and non-ASCII handed to it)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 64 }), fc.string({ unit: 'grapheme', maxLength: 16 })), (s) => {
        const plain = s.replace(/[{}]/g, '');
        // And as the tag of a longer key (hashed in place between the braces).
        return slotOf(plain) === calculateSlot(plain) && (plain === '' || slotOf(`é${plain.length}{${plain}}x}`) === calculateSlot(plain));
      }),
      { numRuns: 2000 },
    );
  });

  it('always returns an integer slot in range', () => {
    fc.assert(fc.property(fc.uint8Array(), (bytes) => {
      const s = slotOf(Buffer.from(bytes));
      return Number.isInteger(s) && s >= 0 && s < SLOT_COUNT;
    }));
  });

  it('treats numbers as their decimal string', () => {
    assert.equal(slotOf(42), slotOf('42'));
  });
});
