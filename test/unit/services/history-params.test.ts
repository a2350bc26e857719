import { eventsQuerySchema, findingsQuerySchema, parseQueryParameters, QueryParameterError } from '../../../shared/services/history-params';

describe('the rule parameter of the drift-history queries', () => {
  it('takes a current rule id', () => {
    expect(parseQueryParameters(findingsQuerySchema, { rule: 'audit-log-ingestion-disabled' }).rule).toBe('audit-log-ingestion-disabled');
  });

  it("reads a rule's earlier id as its current one, as the policy file does", () => {
    expect(parseQueryParameters(findingsQuerySchema, { rule: 'retention-too-short' }).rule).toBe('mailbox-audit-log-age-short');
    expect(parseQueryParameters(eventsQuerySchema, { rule: 'retention-too-short' }).rule).toBe('mailbox-audit-log-age-short');
  });

  it('refuses an unknown id, naming the parameter and the rules', () => {
    const attempt = () => parseQueryParameters(findingsQuerySchema, { rule: 'messagebind-missing' });
    expect(attempt).toThrow(QueryParameterError);
    expect(attempt).toThrow(/rule.*must be one of org-audit-disabled, audit-log-ingestion-disabled/);
  });
});
