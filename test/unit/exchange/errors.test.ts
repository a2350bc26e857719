import { ExchangeCommandError } from '../../../shared/errors';
import {
  auditRefusalOf,
  ExchangeInvokeError,
  isConcurrencyLimitText,
  isExchangeNotFound,
  readExchangeErrorBody,
  splitExchangeMessage,
} from '../../../shared/exchange';

describe('splitExchangeMessage', () => {
  it('splits "<errorId>|<Exception class>|<text>"', () => {
    expect(
      splitExchangeMessage(
        "ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'nobody' couldn't be found on 'AM0PR01A001DC01.EURPR01A001.prod.outlook.com'.",
      ),
    ).toEqual({
      code: 'ex6F9304',
      exceptionType: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
      text: "The operation couldn't be performed because object 'nobody' couldn't be found on 'AM0PR01A001DC01.EURPR01A001.prod.outlook.com'.",
    });
  });

  it('keeps "|" inside the text', () => {
    expect(splitExchangeMessage('id|Cls|a | b | c')).toEqual({ code: 'id', exceptionType: 'Cls', text: 'a | b | c' });
  });

  it('leaves out an empty error id', () => {
    expect(splitExchangeMessage('|System.Exception|boom')).toEqual({ exceptionType: 'System.Exception', text: 'boom' });
  });

  it('treats a message without two separators as plain text', () => {
    expect(splitExchangeMessage('Just text')).toEqual({ text: 'Just text' });
    expect(splitExchangeMessage('one | separator')).toEqual({ text: 'one | separator' });
  });
});

describe('readExchangeErrorBody', () => {
  it('prefers error.details[0].message', () => {
    expect(
      readExchangeErrorBody(
        JSON.stringify({
          error: {
            code: 'BadRequest',
            message: 'outer',
            details: [{ message: 'e1|A.B|first' }, { message: 'e2|C.D|second' }],
            innererror: { internalException: { message: 'inner' } },
          },
        }),
      ),
    ).toEqual({ code: 'e1', exceptionType: 'A.B', text: 'first' });
  });

  it('falls back to innererror (either casing) and then error.message, keeping the OData code', () => {
    expect(readExchangeErrorBody(JSON.stringify({ error: { code: 'C', innerError: { internalException: { message: 'inner' } } } }))).toEqual({
      code: 'C',
      text: 'inner',
    });
    expect(readExchangeErrorBody(JSON.stringify({ error: { code: 'C', message: 'outer', details: [] } }))).toEqual({
      code: 'C',
      text: 'outer',
    });
  });

  it('reads plain text and empty bodies', () => {
    expect(readExchangeErrorBody('Service Unavailable')).toEqual({ text: 'Service Unavailable' });
    expect(readExchangeErrorBody('  ')).toEqual({ text: '' });
  });

  it('reads JSON that is not an OData error', () => {
    expect(readExchangeErrorBody('{"Message":"An error has occurred."}')).toEqual({ text: 'An error has occurred.' });
    expect(readExchangeErrorBody('[1,2]')).toEqual({ text: '[1,2]' });
  });
});

describe('isConcurrencyLimitText', () => {
  it('recognises the per-tenant limit wherever it sits in the text', () => {
    expect(
      isConcurrencyLimitText('You have reached the maximum number of concurrent requests per tenant. Please wait and try again.'),
    ).toBe(true);
    expect(isConcurrencyLimitText('{"error":{"message":"x|y|You have reached the maximum number of concurrent requests per tenant."}}')).toBe(true);
    expect(isConcurrencyLimitText('Some other failure')).toBe(false);
  });
});

describe('isExchangeNotFound', () => {
  const failure = (exceptionType: string | undefined, message: string, status = 400) =>
    new ExchangeInvokeError('x', {
      cmdlet: 'Get-Mailbox',
      statusCode: status,
      exceptionType,
      exchangeMessage: message,
      transient: false,
      throttled: false,
    });

  it('is true for ManagementObjectNotFoundException or Exchange\'s "couldn\'t be found" text', () => {
    expect(isExchangeNotFound(failure('Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', 'x'))).toBe(true);
    expect(isExchangeNotFound(new ExchangeCommandError('x', 'Get-Mailbox', "The object 'a' couldn't be found."))).toBe(true);
  });

  it('is false for a bare 404 (a wrong URL is not a missing mailbox) and for other errors', () => {
    expect(isExchangeNotFound(failure(undefined, 'Not Found', 404))).toBe(false);
    expect(isExchangeNotFound(new Error("couldn't be found"))).toBe(false);
  });
});

describe('auditRefusalOf', () => {
  const LICENCE = 'Auditing of MailItemsAccessed event is only available for users with appropriate license. Please visit the documentation to know more about this.';
  const ALREADY = 'The input operation(s) is/are already being audited.';
  const refusal = (text: string) =>
    new ExchangeInvokeError(`Exchange Online refused Set-Mailbox (HTTP 400): ${text}`, {
      cmdlet: 'Set-Mailbox',
      statusCode: 400,
      exceptionType: 'Microsoft.Exchange.Management.Tasks.RecipientTaskException',
      exchangeMessage: text,
      transient: false,
      throttled: false,
    });

  it("types Exchange's licence refusal of MailItemsAccessed (microsoft-365-docs#1195)", () => {
    expect(auditRefusalOf(refusal(LICENCE))).toBe('licence-required');
    expect(auditRefusalOf(new ExchangeCommandError('x', 'Set-Mailbox', `ex1|Cls|${LICENCE}`))).toBe('licence-required');
  });

  it('types "already being audited" (OfficeDocs-o365seccomp#385) apart from it', () => {
    expect(auditRefusalOf(refusal(ALREADY))).toBe('already-audited');
    expect(auditRefusalOf(ALREADY)).toBe('already-audited');
  });

  it('is undefined for other refusals and for errors that are not Exchange\'s', () => {
    expect(auditRefusalOf(refusal('MessageBind audit operation type is deprecated. Use MailItemsAccessed audit operation type instead.'))).toBeUndefined();
    expect(auditRefusalOf(new Error(LICENCE))).toBeUndefined();
    expect(auditRefusalOf(undefined)).toBeUndefined();
  });
});
