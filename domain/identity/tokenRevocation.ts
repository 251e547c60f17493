// A revoked token (DELETE /v3/auth/tokens). Tokens themselves are not events (a login appends nothing); a
// revocation is, so every process of the site refuses the token from then on. Stream: tokenRevocation-<token id>.
import type { Decider, DomainEvent } from '../core/decider.js';

export const tokenRevocationStream = (tokenId: string) => `tokenRevocation-${tokenId}`;

export type TokenRevocationEvent = DomainEvent<'TokenRevoked', { tokenId: string; userId: string; expiresAt: string; at: string }>;
export type TokenRevocationCommand = { type: 'RevokeToken'; tokenId: string; userId: string; expiresAt: string; at: string };
export type TokenRevocationState = { status: 'absent' } | { status: 'revoked'; tokenId: string; userId: string; expiresAt: string; revokedAt: string };

export const initialState = (): TokenRevocationState => ({ status: 'absent' });

function decide(command: TokenRevocationCommand, state: TokenRevocationState): TokenRevocationEvent[] {
  if (state.status === 'revoked') return [];
  return [{ type: 'TokenRevoked', data: { tokenId: command.tokenId, userId: command.userId, expiresAt: command.expiresAt, at: command.at } }];
}

export function evolve(_state: TokenRevocationState, event: TokenRevocationEvent): TokenRevocationState {
  const d = event.data;
  return { status: 'revoked', tokenId: d.tokenId, userId: d.userId, expiresAt: d.expiresAt, revokedAt: d.at };
}

export const tokenRevocationDecider: Decider<TokenRevocationState, TokenRevocationCommand, TokenRevocationEvent> = { decide, evolve, initialState };
