export * from './client';
export * from './cmdlets';
export * from './errors';
export * from './records';
export * from './timespan';
