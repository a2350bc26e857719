export * from './events';
export * from './pipeline';
export * from './retry';
export * from './retry-strategies';
export * from './semaphore';
export * from './text';
export * from './token';
