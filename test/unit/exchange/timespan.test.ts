import { formatTimeSpanDays, parseTimeSpanSeconds, timeSpanToWholeDays } from '../../../shared/exchange/timespan';

const DAY = 86_400;

describe('timeSpanToWholeDays', () => {
  describe('.NET d.hh:mm:ss forms', () => {
    it.each([
      ['90.00:00:00', 90],
      ['180.00:00:00', 180],
      ['1.00:00:00', 1],
      ['0.00:00:00', 0],
      ['00:00:00', 0],
      ['365.00:00:00', 365],
      ['3650.00:00:00', 3650],
      ['90.23:59:59', 90],
      ['90.12:00:00.5', 90],
      ['90.00:00:00.0000000', 90],
      ['23:59:59', 0],
      ['90:00:00:00', 90],
      ['  90.00:00:00  ', 90],
    ])('%s → %d days', (text, days) => {
      expect(timeSpanToWholeDays(text)).toBe(days);
    });
  });

  describe('ISO-8601 durations', () => {
    it.each([
      ['P90D', 90],
      ['P90DT0H', 90],
      ['P90DT0H0M0S', 90],
      ['PT2160H', 90],
      ['PT2159H', 89],
      ['P180D', 180],
      ['P1D', 1],
      ['PT4H', 0],
      ['P0D', 0],
      ['PT0S', 0],
      ['P2W', 14],
      ['PT129600M', 90],
      ['PT7776000S', 90],
      ['P89DT24H', 90],
      ['P0.5D', 0],
      ['P1.5D', 1],
      ['P90,0D', 90],
      ['p90d', 90],
      ['P10DT0.5S', 10],
    ])('%s → %d days', (text, days) => {
      expect(timeSpanToWholeDays(text)).toBe(days);
    });
  });

  describe('refused', () => {
    it.each([
      ['', 'empty'],
      ['90', 'a bare number (seconds? days? ambiguous)'],
      ['ninety days', 'words'],
      ['P', 'an empty duration'],
      ['PT', 'a T with nothing after it'],
      ['P1DT', 'a dangling T'],
      ['P1Y', 'years (calendar-dependent)'],
      ['P3M', 'months (calendar-dependent)'],
      ['-P90D', 'a negative duration'],
      ['-90.00:00:00', 'a negative TimeSpan'],
      ['90.24:00:00', 'hours out of range'],
      ['90.00:60:00', 'minutes out of range'],
      ['90.00:00:60', 'seconds out of range'],
      ['90.0:00', 'too few parts'],
      ['P90DT', 'trailing T'],
      ['Unlimited', 'Unlimited'],
      ['99999999.00:00:00', 'beyond TimeSpan.MaxValue'],
    ])('%j (%s)', (text) => {
      expect(timeSpanToWholeDays(text)).toBeUndefined();
    });
  });
});

describe('parseTimeSpanSeconds', () => {
  it('keeps hours, minutes, seconds and fractions', () => {
    expect(parseTimeSpanSeconds('1.02:03:04')).toBe(DAY + 2 * 3600 + 3 * 60 + 4);
    expect(parseTimeSpanSeconds('00:00:01.25')).toBeCloseTo(1.25);
    expect(parseTimeSpanSeconds('P1DT2H3M4S')).toBe(DAY + 2 * 3600 + 3 * 60 + 4);
    expect(parseTimeSpanSeconds('PT4H')).toBe(4 * 3600);
  });

  it('reads the general (d:hh:mm:ss) form like the constant one', () => {
    expect(parseTimeSpanSeconds('2:01:00:00')).toBe(parseTimeSpanSeconds('2.01:00:00'));
  });
});

describe('formatTimeSpanDays', () => {
  it.each([
    [180, '180.00:00:00'],
    [90, '90.00:00:00'],
    [1, '1.00:00:00'],
    [0, '0.00:00:00'],
  ])('%d → %s', (days, text) => {
    expect(formatTimeSpanDays(days)).toBe(text);
  });

  it.each([1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 99_999_999])('refuses %p', (days) => {
    expect(() => formatTimeSpanDays(days)).toThrow(RangeError);
  });

  it('round-trips through the parser', () => {
    for (const days of [0, 1, 90, 180, 365, 2555]) expect(timeSpanToWholeDays(formatTimeSpanDays(days))).toBe(days);
  });
});
