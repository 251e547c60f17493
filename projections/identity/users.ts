// Read model of users: one document per live user, the aggregate's state (the login path reads the password hash
// from it; no API ever renders that field).
import { IDENTITY_COLLECTIONS } from '../../domain/identity/collections.js';
import { evolve, initialState, type UserEvent, type UserState } from '../../domain/identity/user.js';
import { aggregateStateProjection, type StateDoc } from '../core/stateProjection.js';

export type UserDoc = StateDoc<UserState>;

export const usersProjection = aggregateStateProjection<UserState, UserEvent>({
  name: 'identity.users.v1',
  collection: IDENTITY_COLLECTIONS.users,
  indexes: [{ keys: { name: 1 }, unique: true }],
  streamPrefix: 'user-',
  initialState,
  evolve,
});
