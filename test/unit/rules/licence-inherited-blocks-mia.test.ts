import {
  EXPECTED_ACCEPTED,
  SIGNAL_NO_CAPABILITY,
  SIGNAL_REFUSED,
  licenceInheritedBlocksMia,
} from '../../../shared/rules/licence-inherited-blocks-mia';
import { MAILBOX_TYPE_NOT_IN_POLICY, NO_LICENCE } from '../../../shared/rules/scope';
import { LICENCE_GROUP } from '../../support/fixtures/licence';
import { mailboxInput, sharedMailboxInput } from './inputs';

const OTHER_GROUP = '0a1b2c3d-0000-4000-8000-000000000001';
const viaGroup = { source: 'group' as const, viaGroups: [LICENCE_GROUP, OTHER_GROUP] };
const groupsText = `plan only via group ${OTHER_GROUP}, ${LICENCE_GROUP}`;

describe('licence-inherited-blocks-mia', () => {
  it('is a mailbox rule with its id', () => {
    expect(licenceInheritedBlocksMia).toMatchObject({ id: 'licence-inherited-blocks-mia', target: 'mailbox' });
  });

  it('is compliant when the plan comes through a group and Exchange shows the M365Auditing capability', () => {
    expect(licenceInheritedBlocksMia.evaluate(mailboxInput({ plan: viaGroup }))).toEqual({ status: 'compliant' });
  });

  it('is compliant when Exchange did not return PersistedCapabilities and has not refused MailItemsAccessed', () => {
    const input = mailboxInput({ plan: viaGroup, mailbox: { persistedCapabilities: undefined } });
    expect(licenceInheritedBlocksMia.evaluate(input)).toEqual({ status: 'compliant' });
  });

  it('reports a refusal by Exchange, with the groups carrying the plan', () => {
    const input = mailboxInput({ plan: viaGroup, mailItemsAccessedRefused: true, mailbox: { persistedCapabilities: undefined } });
    expect(licenceInheritedBlocksMia.evaluate(input)).toEqual({
      status: 'non-compliant',
      violations: [{ expected: EXPECTED_ACCEPTED, actual: [SIGNAL_REFUSED, groupsText] }],
    });
    expect([EXPECTED_ACCEPTED, SIGNAL_REFUSED]).toEqual(['MailItemsAccessed accepted by Exchange', 'Exchange refused MailItemsAccessed']);
  });

  it('reports PersistedCapabilities without M365Auditing as a read signal, before anything is refused', () => {
    const input = mailboxInput({ plan: viaGroup, mailbox: { persistedCapabilities: ['BPOS_S_TODO_1'] } });
    expect(licenceInheritedBlocksMia.evaluate(input)).toEqual({
      status: 'non-compliant',
      violations: [{ expected: EXPECTED_ACCEPTED, actual: [SIGNAL_NO_CAPABILITY, groupsText] }],
    });
    expect(SIGNAL_NO_CAPABILITY).toBe('PersistedCapabilities lacks M365Auditing');
  });

  it('reports both signals together', () => {
    const input = mailboxInput({ plan: { source: 'group', viaGroups: [LICENCE_GROUP] }, mailItemsAccessedRefused: true, mailbox: { persistedCapabilities: [] } });
    expect(licenceInheritedBlocksMia.evaluate(input)).toEqual({
      status: 'non-compliant',
      violations: [{ expected: EXPECTED_ACCEPTED, actual: [SIGNAL_REFUSED, SIGNAL_NO_CAPABILITY, `plan only via group ${LICENCE_GROUP}`] }],
    });
  });

  it('reads the capability case-insensitively', () => {
    const input = mailboxInput({ plan: viaGroup, mailbox: { persistedCapabilities: ['m365auditing'] } });
    expect(licenceInheritedBlocksMia.evaluate(input)).toEqual({ status: 'compliant' });
  });

  it('is not applicable when the plan is also (or only) assigned directly', () => {
    for (const source of ['direct', 'direct-and-group'] as const) {
      const input = mailboxInput({ plan: { source }, mailItemsAccessedRefused: true, mailbox: { persistedCapabilities: [] } });
      expect(licenceInheritedBlocksMia.evaluate(input)).toEqual({ status: 'not-applicable', reason: expect.stringContaining('directly') });
    }
  });

  it('is not applicable when the plan is not enabled at all (advanced-auditing-plan-missing reports that)', () => {
    const input = mailboxInput({ plan: { enabled: false, source: 'none', capabilityStatus: null }, mailItemsAccessedRefused: true });
    expect(licenceInheritedBlocksMia.evaluate(input)).toEqual({ status: 'not-applicable', reason: expect.stringContaining('not enabled') });
  });

  it('is not applicable to a mailbox without a licence, even when Exchange refused', () => {
    expect(licenceInheritedBlocksMia.evaluate(sharedMailboxInput({ mailItemsAccessedRefused: true }))).toBe(NO_LICENCE);
  });

  it('is not applicable to a mailbox type outside policy.mailboxTypes', () => {
    const input = mailboxInput({ plan: viaGroup, mailItemsAccessedRefused: true, mailbox: { recipientTypeDetails: 'GroupMailbox' } });
    expect(licenceInheritedBlocksMia.evaluate(input)).toBe(MAILBOX_TYPE_NOT_IN_POLICY);
  });
});
