/**
 * Deterministic randomness for the simulated tenant. Everything a test can observe about the
 * tenant (ids, names, which mailbox drifted how, random faults) comes from these generators, so a
 * seed reproduces a run exactly. Math.random is never used.
 */

/** A source of uniformly distributed 32-bit unsigned integers. */
export interface Prng {
  /** Next unsigned 32-bit integer. */
  nextUint32(): number;
  /** Next float in [0, 1). */
  next(): number;
  /** Next integer in [0, bound). */
  nextInt(bound: number): number;
  /** True with the given probability. */
  chance(probability: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
}

// Module-level copies of the built-ins used per draw: inside jest's sandbox every global lookup
// goes through the context's interceptors and is many times slower than a closure variable.
const { imul, floor } = Math;
const fromCharCode = String.fromCharCode;

/**
 * mulberry32: tiny, fast, and good enough for test data (passes gjrand's basic tests). Its state is a
 * single 32-bit word, so a generator per stream costs nothing.
 */
export function mulberry32(seed: number): Prng {
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => nextUint32() / 4294967296;
  return {
    nextUint32,
    next,
    nextInt: (bound) => floor(next() * bound),
    chance: (probability) => next() < probability,
    pick<T>(items: readonly T[]): T {
      const item = items[floor(next() * items.length)];
      if (item === undefined) throw new RangeError('pick() needs a non-empty array');
      return item;
    },
  };
}

/**
 * Derives an independent 32-bit seed for one named stream from the user's seed, so adding a draw to
 * one stream (say, faults) does not shift every id in another (say, users).
 */
export function deriveSeed(seed: number, stream: string): number {
  // FNV-1a over the stream name, mixed with the seed, then a murmur3 finaliser to spread the bits.
  let hash = 0x811c9dc5 ^ (seed >>> 0) ^ Math.floor(seed / 4294967296);
  for (let i = 0; i < stream.length; i++) {
    hash ^= stream.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

export function streamFor(seed: number, stream: string): Prng {
  return mulberry32(deriveSeed(seed, stream));
}

const HEX_CODES = Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0));
/** Character codes of the GUID being written; the dashes never change. */
const GUID_CODES: number[] = new Array<number>(36).fill(0x2d);
/** Positions of the 32 hex digits in the 8-4-4-4-12 layout. */
const GUID_DIGIT_OFFSETS = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35];

/**
 * A version-4-shaped GUID (lower case, as Graph and Exchange print them) from four draws. Built
 * with String.fromCharCode so the result is one flat string: concatenation would leave a tree of
 * cons-strings, several hundred bytes per id, which matters at 300,000 ids.
 */
export function nextGuid(prng: Prng): string {
  writeHexWord(prng.nextUint32(), 0);
  // Version nibble 4 (digit 12) and variant bits 10xx (digit 16), as in the ids Entra issues.
  writeHexWord(((prng.nextUint32() & 0xffff0fff) | 0x00004000) >>> 0, 8);
  writeHexWord(((prng.nextUint32() & 0x3fffffff) | 0x80000000) >>> 0, 16);
  writeHexWord(prng.nextUint32(), 24);
  return fromCharCode(...GUID_CODES);
}

function writeHexWord(word: number, firstDigit: number): void {
  for (let i = 0; i < 8; i++) {
    GUID_CODES[GUID_DIGIT_OFFSETS[firstDigit + i] as number] = HEX_CODES[(word >>> (28 - 4 * i)) & 0xf] as number;
  }
}
