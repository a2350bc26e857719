import { ACTIVE_STATUSES, canonicalJson, detailHashOf, FINDING_STATUSES, isActiveStatus } from '../../../shared/lifecycle';
import { aFinding } from '../../support/fixtures/finding';
import { anException } from '../../support/fixtures/policy';

describe('finding statuses', () => {
  it('counts every status but resolved and gone as active (the drift still exists)', () => {
    expect(FINDING_STATUSES.filter((status) => !isActiveStatus(status))).toEqual(['resolved', 'gone']);
    expect([...ACTIVE_STATUSES].every((status) => FINDING_STATUSES.includes(status))).toBe(true);
  });
});

describe('detailHashOf', () => {
  it('moves with what a re-scan may change, and only with that', () => {
    const base = detailHashOf(aFinding());
    expect(detailHashOf(aFinding())).toBe(base);
    expect(detailHashOf(aFinding({ actual: 'Update' }))).not.toBe(base);
    expect(detailHashOf(aFinding({ severity: 'critical' }))).not.toBe(base);
    expect(detailHashOf(aFinding(), anException())).not.toBe(base);
    expect(detailHashOf(aFinding(), anException({ expires: '2100-01-01' }))).not.toBe(detailHashOf(aFinding(), anException()));
  });

  it('ignores the order object keys were built in', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe(canonicalJson({ a: { c: 3, d: 2 }, b: 1 }));
  });
});
