import { ADMIN_AUDIT_LOG_PROPERTIES, ExchangeRecordError, toBypassAssociation, toIngestionEnabled, toMailboxSnapshot, toOrganizationSnapshot } from '../../../shared/exchange';

const GUID = '5b0e9f2c-9a57-4bde-9d0e-1f2a3b4c5d6e';
const ENTRA_ID = '0c8d2d4e-7a1b-4c3d-8e9f-a0b1c2d3e4f5';

function mailboxRecord(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ExternalDirectoryObjectId: ENTRA_ID,
    Guid: GUID,
    UserPrincipalName: 'adele@contoso.onmicrosoft.com',
    PrimarySmtpAddress: 'adele@contoso.com',
    RecipientTypeDetails: 'UserMailbox',
    AuditEnabled: true,
    AuditLogAgeLimit: '90.00:00:00',
    AuditOwner: ['Update', 'MoveToDeletedItems', 'MailItemsAccessed'],
    AuditDelegate: ['SendAs', 'MailItemsAccessed'],
    AuditAdmin: ['Update', 'MailItemsAccessed'],
    DefaultAuditSet: ['Admin', 'Delegate', 'Owner'],
    PersistedCapabilities: ['BPOS_S_Enterprise', 'M365Auditing'],
    ...overrides,
  };
}

describe('toMailboxSnapshot', () => {
  it('maps a Get-Mailbox record to the domain snapshot', () => {
    expect(toMailboxSnapshot(mailboxRecord())).toEqual({
      objectId: ENTRA_ID,
      exchangeGuid: GUID,
      userPrincipalName: 'adele@contoso.onmicrosoft.com',
      primarySmtpAddress: 'adele@contoso.com',
      recipientTypeDetails: 'UserMailbox',
      auditEnabled: true,
      auditLogAgeLimitDays: 90,
      auditActions: {
        Owner: ['Update', 'MoveToDeletedItems', 'MailItemsAccessed'],
        Delegate: ['SendAs', 'MailItemsAccessed'],
        Admin: ['Update', 'MailItemsAccessed'],
      },
      defaultAuditSet: ['Admin', 'Delegate', 'Owner'],
      persistedCapabilities: ['BPOS_S_Enterprise', 'M365Auditing'],
    });
  });

  it("reads Name (what a bypass association's Identity names) when Exchange returns it", () => {
    expect(toMailboxSnapshot(mailboxRecord({ Name: 'Adele Vance' })).name).toBe('Adele Vance');
    expect(toMailboxSnapshot(mailboxRecord())).not.toHaveProperty('name');
    expect(toMailboxSnapshot(mailboxRecord({ Name: null }))).not.toHaveProperty('name');
  });

  it.each([
    [true, true],
    ['True', true],
    ['true', true],
    [false, false],
    ['False', false],
  ])('reads AuditEnabled %p as %p', (value, expected) => {
    expect(toMailboxSnapshot(mailboxRecord({ AuditEnabled: value })).auditEnabled).toBe(expected);
  });

  it.each([
    ['90.00:00:00', 90],
    ['180.00:00:00', 180],
    ['P90D', 90],
    ['P90DT0H', 90],
    ['PT2160H', 90],
    ['23:00:00', 0],
    [{ Ticks: 864_000_000_000 * 365, Days: 365, TotalDays: 365 }, 365],
    [{ TotalDays: 179.99 }, 179],
  ])('reads AuditLogAgeLimit %j as %d days', (value, days) => {
    expect(toMailboxSnapshot(mailboxRecord({ AuditLogAgeLimit: value })).auditLogAgeLimitDays).toBe(days);
  });

  it('reads null multi-valued properties as empty lists', () => {
    const snapshot = toMailboxSnapshot(
      mailboxRecord({ AuditOwner: null, AuditDelegate: null, AuditAdmin: null, DefaultAuditSet: null, PersistedCapabilities: null }),
    );
    expect(snapshot.auditActions).toEqual({ Owner: [], Delegate: [], Admin: [] });
    expect(snapshot.defaultAuditSet).toEqual([]);
    expect(snapshot.persistedCapabilities).toEqual([]);
  });

  it('leaves persistedCapabilities undefined when the property was not returned', () => {
    const record = mailboxRecord();
    delete record.PersistedCapabilities;
    const snapshot = toMailboxSnapshot(record);
    expect(snapshot.persistedCapabilities).toBeUndefined();
    expect('persistedCapabilities' in snapshot).toBe(false);
  });

  it('normalises the case of DefaultAuditSet and drops duplicates', () => {
    expect(toMailboxSnapshot(mailboxRecord({ DefaultAuditSet: ['owner', 'ADMIN', 'Owner'] })).defaultAuditSet).toEqual(['Owner', 'Admin']);
  });

  it.each([[''], [null], [undefined]])('falls back to the Guid when ExternalDirectoryObjectId is %p', (value) => {
    const snapshot = toMailboxSnapshot(mailboxRecord({ ExternalDirectoryObjectId: value }));
    expect(snapshot.objectId).toBe(GUID);
    expect(snapshot.exchangeGuid).toBe(GUID);
  });

  it('reads a missing UPN or SMTP address as empty', () => {
    const snapshot = toMailboxSnapshot(mailboxRecord({ UserPrincipalName: null, PrimarySmtpAddress: undefined }));
    expect(snapshot.userPrincipalName).toBe('');
    expect(snapshot.primarySmtpAddress).toBe('');
  });

  describe('refuses a record it cannot read, naming the record and the field', () => {
    function failure(overrides: Record<string, unknown>): ExchangeRecordError {
      try {
        toMailboxSnapshot(mailboxRecord(overrides));
      } catch (error) {
        expect(error).toBeInstanceOf(ExchangeRecordError);
        return error as ExchangeRecordError;
      }
      throw new Error('expected toMailboxSnapshot to throw');
    }

    it('an unreadable AuditLogAgeLimit', () => {
      const error = failure({ AuditLogAgeLimit: 'ninety days' });
      expect(error.cmdlet).toBe('Get-Mailbox');
      expect(error.recordIdentity).toBe('UserPrincipalName adele@contoso.onmicrosoft.com');
      expect(error.issues).toEqual(['AuditLogAgeLimit: expected a TimeSpan such as "90.00:00:00" or "P90D", got "ninety days"']);
      expect(error.message).toContain('adele@contoso.onmicrosoft.com');
      expect(error.message).toContain('AuditLogAgeLimit');
      expect(error.service).toBe('exchange');
    });

    it('a missing audit list (it would otherwise read as "no actions audited")', () => {
      const record = mailboxRecord();
      delete record.AuditOwner;
      expect(() => toMailboxSnapshot(record)).toThrow(/AuditOwner: expected a list of strings or null, got nothing \(the property is missing\)/);
    });

    it('a comma-separated string where a list belongs', () => {
      expect(failure({ AuditAdmin: 'Update, MailItemsAccessed' }).issues).toEqual([
        'AuditAdmin: expected a list of strings or null, got "Update, MailItemsAccessed"',
      ]);
    });

    it('a boolean that is neither true nor false', () => {
      expect(failure({ AuditEnabled: 'Yes' }).issues).toEqual(['AuditEnabled: expected true or false, got "Yes"']);
    });

    it('an unknown logon type', () => {
      expect(failure({ DefaultAuditSet: ['Owner', 'Guest'] }).issues).toEqual([
        'DefaultAuditSet: "Guest" is not a logon type (Owner, Delegate, Admin)',
      ]);
    });

    it('a missing Guid, naming the record by its SMTP address', () => {
      const error = failure({ Guid: '', UserPrincipalName: '' });
      expect(error.recordIdentity).toBe('PrimarySmtpAddress adele@contoso.com');
      expect(error.issues[0]).toMatch(/^Guid: /);
    });

    it('several problems at once', () => {
      expect(failure({ AuditEnabled: null, RecipientTypeDetails: 7 }).issues).toHaveLength(2);
    });

    it('a record that is not an object', () => {
      expect(() => toMailboxSnapshot('Get-Mailbox output as text')).toThrow(ExchangeRecordError);
      expect(() => toMailboxSnapshot(null)).toThrow(/not an object/);
    });
  });
});

describe('toBypassAssociation', () => {
  it('maps Identity, Guid and AuditBypassEnabled', () => {
    expect(toBypassAssociation({ Identity: 'svc-backup', Guid: GUID, AuditBypassEnabled: 'True' })).toEqual({
      identity: 'svc-backup',
      objectId: GUID,
      auditBypassEnabled: true,
    });
  });

  it('uses whichever of Identity and Guid it has', () => {
    expect(toBypassAssociation({ Identity: null, Guid: GUID, AuditBypassEnabled: false })).toEqual({
      identity: GUID,
      objectId: GUID,
      auditBypassEnabled: false,
    });
  });

  it('refuses a record with neither, or without AuditBypassEnabled', () => {
    expect(() => toBypassAssociation({ AuditBypassEnabled: true })).toThrow(/expected an Identity or a Guid/);
    expect(() => toBypassAssociation({ Identity: 'svc' })).toThrow(/\(Identity svc\).*AuditBypassEnabled/);
  });
});

describe('toOrganizationSnapshot', () => {
  it('maps Identity and AuditDisabled, leaving ingestion unknown (another cmdlet reads it)', () => {
    expect(toOrganizationSnapshot({ Identity: 'contoso.onmicrosoft.com', Name: 'contoso', AuditDisabled: 'False' })).toEqual({
      identity: 'contoso.onmicrosoft.com',
      auditDisabled: false,
      unifiedAuditLogIngestionEnabled: null,
    });
  });

  it('falls back to Name', () => {
    expect(toOrganizationSnapshot({ Name: 'contoso.onmicrosoft.com', AuditDisabled: true }).identity).toBe('contoso.onmicrosoft.com');
  });

  it('refuses a record without AuditDisabled', () => {
    expect(() => toOrganizationSnapshot({ Name: 'contoso' })).toThrow(/Get-OrganizationConfig .*AuditDisabled/);
  });
});

describe('toIngestionEnabled (Get-AdminAuditLogConfig)', () => {
  /** A live Exchange Online record (REFERENCE.md §2.5), with its `@data.type` sidecar keys. */
  function adminAuditLogRecord(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      'AdminAuditLogAgeLimit@data.type': 'Microsoft.Exchange.Data.EnhancedTimeSpan',
      AdminAuditLogAgeLimit: '90.00:00:00',
      AdminAuditLogEnabled: true,
      'LogLevel@data.type': 'Microsoft.Exchange.Data.Directory.SystemConfiguration.AuditLogLevel',
      LogLevel: 'None',
      TestCmdletLoggingEnabled: false,
      'UnifiedAuditLogFirstOptInDate@data.type': 'System.DateTime',
      UnifiedAuditLogFirstOptInDate: '2019-03-14T09:21:46.0000000Z',
      UnifiedAuditLogIngestionEnabled: true,
      LoadBalancerCount: 3,
      Name: 'Admin Audit Log Settings',
      'Identity@data.type': 'Microsoft.Exchange.Data.Directory.ADObjectId',
      Identity: 'Admin Audit Log Settings',
      ...overrides,
    };
  }

  it('asks only for Identity and UnifiedAuditLogIngestionEnabled', () => {
    expect([...ADMIN_AUDIT_LOG_PROPERTIES]).toEqual(['Identity', 'UnifiedAuditLogIngestionEnabled']);
  });

  it.each([
    [true, true],
    [false, false],
    ['True', true],
    ['False', false],
    ['true', true],
    ['false', false],
  ])('reads UnifiedAuditLogIngestionEnabled %p as %p', (value, expected) => {
    expect(toIngestionEnabled(adminAuditLogRecord({ UnifiedAuditLogIngestionEnabled: value }))).toBe(expected);
  });

  it('ignores the other properties and the sidecar type keys', () => {
    expect(toIngestionEnabled(adminAuditLogRecord())).toBe(true);
    expect(toIngestionEnabled({ UnifiedAuditLogIngestionEnabled: 'False', 'UnifiedAuditLogIngestionEnabled@data.type': 'System.Boolean', Surprise: { nested: [1] } })).toBe(false);
  });

  it('refuses a record without the property, naming the cmdlet, the record and the property', () => {
    const record = adminAuditLogRecord();
    delete record.UnifiedAuditLogIngestionEnabled;
    let caught: unknown;
    try {
      toIngestionEnabled(record);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ExchangeRecordError);
    const error = caught as ExchangeRecordError;
    expect(error.cmdlet).toBe('Get-AdminAuditLogConfig');
    expect(error.recordIdentity).toBe('Identity Admin Audit Log Settings');
    expect(error.issues).toEqual([expect.stringMatching(/^UnifiedAuditLogIngestionEnabled: /)]);
    expect(error.message).toMatch(/^Get-AdminAuditLogConfig returned an? .*record we cannot read .*UnifiedAuditLogIngestionEnabled/);
    expect(error.service).toBe('exchange');
  });

  it('refuses a value that is neither true nor false, and a record that is not an object', () => {
    expect(() => toIngestionEnabled(adminAuditLogRecord({ UnifiedAuditLogIngestionEnabled: 'Enabled' }))).toThrow(
      /UnifiedAuditLogIngestionEnabled: expected true or false, got "Enabled"/,
    );
    expect(() => toIngestionEnabled(adminAuditLogRecord({ UnifiedAuditLogIngestionEnabled: null }))).toThrow(ExchangeRecordError);
    expect(() => toIngestionEnabled('True')).toThrow(/not an object/);
  });
});
