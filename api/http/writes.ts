// Read your writes (architecture rule 6): a write is answered once the read models reached its position.
import type { Response } from 'express';
import type { ProjectionRunner } from '../../projections/core/runner.js';

export interface WriteResponder {
  /** Waits (bounded) for the projections, then sends the body. On timeout the write still stands, and the headers say so. */
  send(res: Response, position: bigint | undefined, body: unknown, status?: number): Promise<void>;
}

export function writeResponder(runner: Pick<ProjectionRunner, 'waitFor'>, timeoutMs: number): WriteResponder {
  return {
    async send(res, position, body, status = 200) {
      if (position !== undefined) {
        res.setHeader('Fleetledger-Position', position.toString());
        const caughtUp = await runner.waitFor(position, timeoutMs);
        if (!caughtUp) {
          res.setHeader('Fleetledger-Consistency', 'pending');
          res.setHeader(
            'Warning',
            '199 fleetledger "The change is recorded; read models have not caught up yet, so an immediate GET may not show it"',
          );
        }
      }
      res.status(status).json(body);
    },
  };
}
