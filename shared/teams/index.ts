export * from './card-types';
export * from './cards';
export * from './payload';
export * from './webhook';
