export * from './errors';
export * from './links';
export * from './page';
export * from './principal';
export { ApprovalSigningKey, MIN_SIGNING_KEY_BYTES, toSigningKey } from './signing-key';
