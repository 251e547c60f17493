// Names of the identity read-model collections.
export const IDENTITY_COLLECTIONS = {
  users: 'users',
  revokedTokens: 'revoked_tokens',
} as const;
