// dcmanager's "request from another DC" (utils.is_req_from_another_dc): in dcmanager the User-Agent
// `dcmanager/1.0` alone, which any client can send. In fleetledger the header counts only when the request also
// carries the token of a user holding the `peer` role (the user a system peer signs in with); the header alone,
// even with an admin's token, gets no relaxation.
import type { Request } from 'express';

export const DCMANAGER_USER_AGENT = 'dcmanager/1.0';
export const PEER_ROLE = 'peer';

export const fromAnotherDc = (req: Request): boolean =>
  req.headers['user-agent'] === DCMANAGER_USER_AGENT && req.actor?.roles?.includes(PEER_ROLE) === true;
