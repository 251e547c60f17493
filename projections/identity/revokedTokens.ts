// Read model of revoked tokens: checked on every authenticated request, so a revocation holds in every process.
import { IDENTITY_COLLECTIONS } from '../../domain/identity/collections.js';
import { evolve, initialState, type TokenRevocationEvent, type TokenRevocationState } from '../../domain/identity/tokenRevocation.js';
import { aggregateStateProjection, type StateDoc } from '../core/stateProjection.js';

export type RevokedTokenDoc = StateDoc<TokenRevocationState>;

export const revokedTokensProjection = aggregateStateProjection<TokenRevocationState, TokenRevocationEvent>({
  name: 'identity.revokedTokens.v1',
  collection: IDENTITY_COLLECTIONS.revokedTokens,
  indexes: [],
  streamPrefix: 'tokenRevocation-',
  initialState,
  evolve,
  keeps: (s) => s.status === 'revoked',
});
