export * from './client';
export * from './codec';
export * from './messages';
export * from './names';
export * from './delivery';
