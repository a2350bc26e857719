import { HistoryService } from '../../../shared/services/history';
import { aBypassAssociation } from '../../support/fixtures/bypass';
import { aFinding } from '../../support/fixtures/finding';
import { TENANT } from '../../support/fixtures/tenant';
import { day } from '../../support/fixtures/scan';
import { newStore, scan } from '../../support/store';

describe('a bypass association is found in history by the name its finding shows', () => {
  it('history by the Identity (an account without a mailbox) returns the association\'s events', async () => {
    const store = newStore();
    const association = aBypassAssociation({ auditBypassEnabled: true });
    const finding = aFinding({
      ruleId: 'audit-bypass-enabled',
      objectType: 'bypass-association',
      objectId: association.objectId,
      userPrincipalName: association.identity,
      severity: 'critical',
      expected: false,
      actual: true,
    });
    delete finding.logonType;
    const object = { objectType: 'bypass-association' as const, objectId: association.objectId, userPrincipalName: association.identity, findings: [finding], excepted: [] };
    await scan(store, [object], day(1));

    const history = new HistoryService(store, TENANT, () => day(2));
    const byName = await history.mailboxHistory({ mailbox: 'svc-backup' });
    expect(byName.mailbox).toMatchObject({ objectId: association.objectId, known: true });
    expect(byName.items.map((event) => [event.type, event.ruleId])).toEqual([['detected', 'audit-bypass-enabled']]);

    // An unchanged second night writes no index row again (writes follow change): still found.
    await scan(store, [object], day(2));
    expect((await history.mailboxHistory({ mailbox: 'SVC-BACKUP' })).items).toHaveLength(1);
  });
});
