// The subcloud's part in a prestage (spec §4): the single-subcloud request's checks, and its prestage-status as a
// prestage (a strategy step's or a single request's) moves on. Part of the subcloud aggregate (subcloud.ts).
import { ManagerError, ValidationError } from '../core/errors.js';
import { initialPrestageCheck, precheckVerdict, prestageFailureMessage } from './prestage.js';
import { isSecondaryState, type ActiveSubcloud, type SubcloudCommand, type SubcloudEvent } from './subcloud.js';

export const prestageStrategyInProgress = (name: string) =>
  prestageFailureMessage({ subcloud: name, details: 'Prestage operations are not allowed while a prestage strategy is in progress.', skip: false });

/**
 * Why PATCH /subclouds/{ref}/prestage is refused before the subcloud is asked anything: a secondary subcloud (500),
 * a prestage strategy in progress, or initial_subcloud_validate (400, the exception's text).
 */
export function prestageRequestRefusal(s: ActiveSubcloud, strategyInProgress: boolean): Error | undefined {
  if (isSecondaryState(s.deployStatus)) return new ManagerError(`Cannot perform on ${s.deployStatus} state subcloud`);
  if (strategyInProgress) return new ValidationError(prestageStrategyInProgress(s.name));
  const initial = initialPrestageCheck(s);
  return initial ? new ValidationError(prestageFailureMessage(initial)) : undefined;
}

export function decidePrestage(command: SubcloudCommand, s: ActiveSubcloud): SubcloudEvent[] {
  switch (command.type) {
    case 'RequestPrestage': {
      const refusal = prestageRequestRefusal(s, command.strategyInProgress);
      if (refusal) throw refusal;
      const verdict = precheckVerdict(s.name, command.facts, command.force);
      if (verdict) throw new ValidationError(prestageFailureMessage(verdict));
      const { requestId, release, force, sysadminPassword, at } = command;
      return [{ type: 'SubcloudPrestageRequested', data: { requestId, release, force, sysadminPassword, at } }];
    }
    case 'RecordPrestageStatus': {
      const versions = command.prestageVersions ?? s.prestageVersions;
      if (command.prestageStatus === s.prestageStatus && versions === s.prestageVersions) return [];
      return [
        {
          type: 'SubcloudPrestageStatusChanged',
          data: {
            prestageStatus: command.prestageStatus,
            prestageVersions: versions,
            ...(command.reason !== undefined ? { reason: command.reason } : {}),
            at: command.at,
          },
        },
      ];
    }
    default:
      return [];
  }
}
