export * from './dashboard';
export * from './page';
