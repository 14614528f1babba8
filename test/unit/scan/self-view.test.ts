import assert from 'node:assert/strict';
import { TopologyError } from '../../../lib/index.js';
import { parseSelfView, stableSlots } from '../../../lib/scan/self-view.js';

const other = 'e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:7001@17001 master - 0 1426238317239 2 connected 5461-10922';
const self = (slots: string, flags = 'myself,master', epoch = 1) =>
  `${other}\n07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:7000@17000 ${flags} - 0 0 ${epoch} connected ${slots}\n`;

describe('scan self view (unit)', () => {
  it('parses owned ranges, single slots and migrating slots from the myself line', () => {
    const v = parseSelfView(self('0-99 200 [300->-e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca] [400-<-e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca] 300'));
    assert.equal(v.id, '07c37dfeb235213a872192d90877d0cd55635b91');
    assert.equal(v.role, 'master');
    assert.equal(v.epoch, '1');
    assert.equal(v.owned.reduce((a, b) => a + b, 0), 102);
    assert.equal(v.owned[0], 1);
    assert.equal(v.owned[99], 1);
    assert.equal(v.owned[100], 0);
    assert.equal(v.owned[400], 0, 'an importing slot is not owned');
    assert.deepEqual([...v.migrating], [300]);
    assert.equal(parseSelfView(Buffer.from(self('', 'myself,slave'))).role, 'replica');
  });

  it('rejects replies without a myself line or with malformed slots', () => {
    assert.throws(() => parseSelfView(other), TopologyError);
    assert.throws(() => parseSelfView(self('5-2')), TopologyError);
    assert.throws(() => parseSelfView(self('0-16384')), TopologyError);
  });

  it('counts a slot as stable only when owned and not migrating before and after, same role and epoch', () => {
    const before = parseSelfView(self('0-9 [5->-x]'));
    const after = parseSelfView(self('0-3 6-9'));
    const stable = stableSlots(before, after);
    assert.deepEqual([...stable.subarray(0, 11)], [1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0]);
    assert.equal(stableSlots(before, parseSelfView(self('0-9', 'myself,slave'))).includes(1), false, 'demoted: nothing stable');
    assert.equal(stableSlots(before, parseSelfView(self('0-9', 'myself,master', 7))).includes(1), false, 'epoch changed: nothing stable');
  });
});
