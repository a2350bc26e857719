export * from './events';
export * from './retry';
export * from './semaphore';
export * from './text';
