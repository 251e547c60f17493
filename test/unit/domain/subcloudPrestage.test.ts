// The subcloud's part in a prestage (domain/distcloud/subcloudPrestage.ts through the subcloud decider),
// given/when/then: PATCH /subclouds/{ref}/prestage (RequestPrestage) and its refusals, and the prestage-status as a
// prestage moves on (RecordPrestageStatus).
import { describe, expect, it } from 'vitest';
import { fold } from '../../../domain/core/decider.js';
import { ManagerError, NotFoundError, ValidationError } from '../../../domain/core/errors.js';
import type { SealedSecret } from '../../../domain/core/sealed.js';
import { subcloudDecider, type SubcloudCommand, type SubcloudEvent } from '../../../domain/distcloud/subcloud.js';
import { deciderSpec, thrownBy } from '../../support/deciderSpec.js';
import { added, at, deployed, exactly, later, managed } from './subcloudFixtures.js';

const spec = deciderSpec(subcloudDecider);
const name = added.data.name;
const sealed: SealedSecret = { alg: 'A256GCM', kid: '0123456789abcdef', iv: 'aXY=', tag: 'dGFn', ct: 'Y3Q=' };
const ev = <T extends SubcloudEvent['type']>(type: T, data: Extract<SubcloudEvent, { type: T }>['data']) => ({ type, data }) as SubcloudEvent;
const state = (events: SubcloudEvent[]) => fold(subcloudDecider, events);

const requestPrestage = (over: Partial<Extract<SubcloudCommand, { type: 'RequestPrestage' }>> = {}): SubcloudCommand => ({
  type: 'RequestPrestage',
  requestId: 'req-1',
  release: '24.03',
  force: false,
  sysadminPassword: sealed,
  facts: { systemMode: 'simplex', managementAffectingAlarms: 0 },
  strategyInProgress: false,
  at: later,
  ...over,
});
const requested = ev('SubcloudPrestageRequested', { requestId: 'req-1', release: '24.03', force: false, sysadminPassword: sealed, at: later });
const record = (over: Partial<Extract<SubcloudCommand, { type: 'RecordPrestageStatus' }>> = {}): SubcloudCommand => ({
  type: 'RecordPrestageStatus',
  prestageStatus: 'prestaging-packages',
  at: later,
  ...over,
});
/** dcmanager answers with the exception's text; the status is the error's. */
const refusal = (command: SubcloudCommand, given: SubcloudEvent[]) => thrownBy(() => subcloudDecider.decide(command, state(given))) as Error & { status: number };

describe('RequestPrestage', () => {
  it('given a complete, managed, online simplex subcloud without alarms, the prestage is requested', () => {
    spec(managed).when(requestPrestage()).then([requested]);
  });

  it('the requested subcloud\'s prestage status is prestage-prepare', () => {
    expect(state([...managed, requested])).toMatchObject({ prestageStatus: 'prestage-prepare', prestageRequestId: 'req-1', updatedAt: later });
  });

  it('refuses a secondary subcloud (500), before anything else', () => {
    const secondary = [...managed, ev('SubcloudDeployStatusChanged', { deployStatus: 'secondary', at })];
    spec(secondary).when(requestPrestage()).thenThrows(ManagerError, exactly('Cannot perform on secondary state subcloud'));
    expect(refusal(requestPrestage({ strategyInProgress: true }), secondary)).toBeInstanceOf(ManagerError);
    expect(refusal(requestPrestage(), secondary).status).toBe(500);
  });

  it('refuses while a prestage strategy is in progress (400)', () => {
    const message = `Prestage failed '${name}': Prestage operations are not allowed while a prestage strategy is in progress.`;
    spec(managed).when(requestPrestage({ strategyInProgress: true })).thenThrows(ValidationError, exactly(message));
    expect(refusal(requestPrestage({ strategyInProgress: true }), managed).status).toBe(400);
  });

  it('skips an offline subcloud (400)', () => {
    const offline = [...managed, ev('SubcloudAvailabilityChanged', { availabilityStatus: 'offline', at })];
    spec(offline).when(requestPrestage()).thenThrows(ValidationError, exactly(`Prestage skipped '${name}': Subcloud is offline.`));
    expect(refusal(requestPrestage(), offline).status).toBe(400);
  });

  it('skips an unmanaged subcloud', () => {
    spec(deployed).when(requestPrestage()).thenThrows(ValidationError, exactly(`Prestage skipped '${name}': Subcloud is not managed.`));
  });

  it('skips a subcloud whose prestage is still running', () => {
    spec([...managed, requested])
      .when(requestPrestage({ requestId: 'req-2' }))
      .thenThrows(
        ValidationError,
        exactly(
          `Prestage skipped '${name}': Prestage operation is only allowed while subcloud prestage status is one of: failed, complete. The current prestage status is prestage-prepare.`,
        ),
      );
  });

  it('skips a subcloud that is not simplex, even forced', () => {
    const message = `Prestage skipped '${name}': Prestage operation is only accepted for a simplex subcloud.`;
    spec(managed).when(requestPrestage({ facts: { systemMode: 'duplex', managementAffectingAlarms: 0 } })).thenThrows(ValidationError, exactly(message));
    spec(managed)
      .when(requestPrestage({ force: true, facts: { systemMode: 'duplex', managementAffectingAlarms: 0 } }))
      .thenThrows(ValidationError, exactly(message));
  });

  it('fails a subcloud with management affecting alarms unless forced', () => {
    const facts = { systemMode: 'simplex', managementAffectingAlarms: 1 };
    spec(managed)
      .when(requestPrestage({ facts }))
      .thenThrows(
        ValidationError,
        exactly(
          `Prestage failed '${name}': Subcloud has management affecting alarm(s). Please resolve the alarm condition(s) or use --force option and try again.`,
        ),
      );
    spec(managed)
      .when(requestPrestage({ facts, force: true }))
      .then([ev('SubcloudPrestageRequested', { requestId: 'req-1', release: '24.03', force: true, sysadminPassword: sealed, at: later })]);
  });

  it('accepts again once the last prestage failed or completed', () => {
    for (const prestageStatus of ['failed', 'complete'] as const) {
      const ended = [...managed, requested, ev('SubcloudPrestageStatusChanged', { prestageStatus, prestageVersions: null, at: later })];
      spec(ended).when(requestPrestage()).then([requested]);
    }
  });

  it('refuses a subcloud that is not there', () => {
    spec([]).when(requestPrestage()).thenThrows(NotFoundError, exactly('Subcloud not found'));
  });
});

describe('RecordPrestageStatus', () => {
  it('records the new status and versions', () => {
    spec([...managed, requested])
      .when(record({ prestageVersions: '24.03' }))
      .then([ev('SubcloudPrestageStatusChanged', { prestageStatus: 'prestaging-packages', prestageVersions: '24.03', at: later })]);
  });

  it('folds the status and versions into the subcloud', () => {
    const changed = ev('SubcloudPrestageStatusChanged', { prestageStatus: 'complete', prestageVersions: '24.03', at: later });
    expect(state([...managed, requested, changed])).toMatchObject({ prestageStatus: 'complete', prestageVersions: '24.03', updatedAt: later });
  });

  it('the same status and versions append nothing', () => {
    const packages = [...managed, requested, ev('SubcloudPrestageStatusChanged', { prestageStatus: 'prestaging-packages', prestageVersions: '24.03', at })];
    spec(packages).when(record({ prestageVersions: '24.03' })).thenNothingHappens();
    spec(packages).when(record()).thenNothingHappens();
  });

  it('keeps the versions when none are given', () => {
    const packages = [...managed, requested, ev('SubcloudPrestageStatusChanged', { prestageStatus: 'prestaging-packages', prestageVersions: '22.12', at })];
    spec(packages)
      .when(record({ prestageStatus: 'prestaging-images' }))
      .then([ev('SubcloudPrestageStatusChanged', { prestageStatus: 'prestaging-images', prestageVersions: '22.12', at: later })]);
  });

  it('the same status with other versions is recorded', () => {
    const packages = [...managed, requested, ev('SubcloudPrestageStatusChanged', { prestageStatus: 'complete', prestageVersions: '22.12', at })];
    spec(packages)
      .when(record({ prestageStatus: 'complete', prestageVersions: '22.12,24.03' }))
      .then([ev('SubcloudPrestageStatusChanged', { prestageStatus: 'complete', prestageVersions: '22.12,24.03', at: later })]);
  });

  it('carries the reason a prestage failed', () => {
    spec([...managed, requested])
      .when(record({ prestageStatus: 'failed', reason: 'prestaging-packages: boom' }))
      .then([ev('SubcloudPrestageStatusChanged', { prestageStatus: 'failed', prestageVersions: null, reason: 'prestaging-packages: boom', at: later })]);
  });
});
