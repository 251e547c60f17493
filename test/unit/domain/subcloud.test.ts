import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, UnprocessableError, ValidationError } from '../../../domain/core/errors.js';
import { fold } from '../../../domain/core/decider.js';
import {
  DEPLOY_PHASES,
  TRANSITORY_STATES,
  subcloudDecider,
  type SubcloudChanges,
  type SubcloudCommand,
  type SubcloudEvent,
} from '../../../domain/distcloud/subcloud.js';
import { deciderSpec } from '../../support/deciderSpec.js';
import { addCommand, added, at, deployed, exactly, later, managed } from './subcloudFixtures.js';

const spec = deciderSpec(subcloudDecider);
const update = (changes: SubcloudChanges, extra: Partial<Extract<SubcloudCommand, { type: 'UpdateSubcloud' }>> = {}): SubcloudCommand => ({
  type: 'UpdateSubcloud',
  changes,
  at: later,
  ...extra,
});
const state = (events: SubcloudEvent[]) => fold(subcloudDecider, events);
const ev = <T extends SubcloudEvent['type']>(type: T, data: Extract<SubcloudEvent, { type: T }>['data']) => ({ type, data }) as SubcloudEvent;
const rehomePending = [...deployed, ev('SubcloudDeployStatusChanged', { deployStatus: 'rehome-pending', at })];
const withRehomeData = [...deployed, ev('SubcloudRehomeDataUpdated', { rehomeData: { saved_payload: { name: 'subcloud1', 'bootstrap-address': '10.10.10.12' } }, at })];
const offline = [...deployed, ev('SubcloudAvailabilityChanged', { availabilityStatus: 'offline', at })];
const inPeerGroup = (events: SubcloudEvent[]) => {
  // no event sets a peer group yet (the geo-redundancy issue adds it): fold, then place the subcloud in one
  const s = state(events);
  return { ...s, peerGroupId: 3 } as typeof s;
};

describe('AddSubcloud', () => {
  it('adds a subcloud, not deployed', () => {
    spec([]).when(addCommand()).then([added]);
  });

  it('folds into the state the dcmanager representation needs', () => {
    expect(state([added])).toEqual({
      status: 'active',
      id: 5,
      name: 'subcloud1',
      description: null,
      location: null,
      softwareVersion: '24.03',
      managementState: 'unmanaged',
      availabilityStatus: 'offline',
      deployStatus: 'not-deployed',
      backupStatus: null,
      backupDatetime: null,
      errorDescription: 'No errors present',
      regionName: '0123456789abcdef0123456789abcdef',
      managementSubnet: '192.168.101.0/24',
      managementStartIp: '192.168.101.2',
      managementEndIp: '192.168.101.50',
      managementGatewayIp: '192.168.101.1',
      systemcontrollerGatewayIp: '192.168.204.101',
      openstackInstalled: false,
      prestageStatus: null,
      prestageVersions: null,
      dataInstall: null,
      groupId: 1,
      peerGroupId: null,
      rehomeData: null,
      rehomed: false,
      oamFloatingAddress: '10.10.10.12',
      bootstrapAddress: '10.10.10.12',
      hasSysadminPassword: true,
      hasBmcPassword: false,
      hasDeployConfig: false,
      endpointSyncStatus: {
        platform: 'unknown', patching: 'unknown', identity: 'unknown', load: 'unknown', 'dc-cert': 'unknown',
        firmware: 'unknown', kubernetes: 'unknown', 'kube-rootca': 'unknown', usm: 'unknown',
      },
      alarmSummary: null,
      operation: null,
      createdAt: at,
      updatedAt: null,
    });
  });
});

describe('UpdateSubcloud: fields', () => {
  it('records only the fields that change', () => {
    spec(deployed)
      .when(update({ description: 'edge', groupId: 1 }))
      .then([ev('SubcloudUpdated', { description: 'edge', at: later })]);
    spec(deployed).when(update({ groupId: 2, location: 'Ottawa' })).then([ev('SubcloudUpdated', { location: 'Ottawa', groupId: 2, at: later })]);
  });

  it('records nothing when every value is already set', () => {
    spec([...deployed, ev('SubcloudUpdated', { description: 'edge', at })]).when(update({ description: 'edge' })).thenNothingHappens();
  });

  it('needs a body and an existing subcloud', () => {
    spec(deployed).when(update({})).thenThrows(ValidationError, exactly('Body required'));
    spec([]).when(update({ description: 'x' })).thenThrows(NotFoundError, exactly('Subcloud not found'));
    spec([...deployed, ev('SubcloudDeleted', { at })]).when(update({ description: 'x' })).thenThrows(NotFoundError, exactly('Subcloud not found'));
  });

  it('Invalid group', () => {
    spec(deployed).when(update({ groupId: null })).thenThrows(ValidationError, exactly('Invalid group'));
  });
});

describe('UpdateSubcloud: management state', () => {
  it('manages a deployed online subcloud, unmanages it again', () => {
    spec(deployed).when(update({ managementState: 'managed' })).then([
      ev('SubcloudManagementStateChanged', { managementState: 'managed', force: false, at: later }),
    ]);
    spec(managed).when(update({ managementState: 'unmanaged' })).then([
      ev('SubcloudManagementStateChanged', { managementState: 'unmanaged', force: false, at: later }),
    ]);
  });

  it('Invalid management-state', () => {
    spec(deployed).when(update({ managementState: 'Managed' })).thenThrows(ValidationError, exactly('Invalid management-state'));
  });

  it('not while in a peer group, unless a peer site asks', () => {
    const s = inPeerGroup(deployed);
    const message = 'Cannot update the management state of a subcloud that is associated with a peer group.';
    expect(() => subcloudDecider.decide(update({ managementState: 'managed' }), s)).toThrow(exactly(message));
    expect(subcloudDecider.decide(update({ managementState: 'managed' }, { fromAnotherDc: true }), s)).toHaveLength(1);
  });

  it('force must be a boolean, and only with managed', () => {
    spec(deployed).when(update({ managementState: 'managed', force: 'yes' })).thenThrows(ValidationError, exactly('Invalid force value'));
    spec(managed).when(update({ managementState: 'unmanaged', force: true })).thenThrows(ValidationError, exactly('Invalid option: force'));
    spec(deployed).when(update({ force: false })).thenThrows(ValidationError, exactly('Invalid option: force'));
  });

  it('already unmanaged / already managed (422)', () => {
    spec(deployed).when(update({ managementState: 'unmanaged' })).thenThrows(UnprocessableError, exactly('Bad subcloud request: Subcloud subcloud1 already unmanaged'));
    spec(managed).when(update({ managementState: 'managed' })).thenThrows(UnprocessableError, exactly('Bad subcloud request: Subcloud subcloud1 already managed'));
  });

  it('managing needs complete (or rehome-pending) and online, unless forced', () => {
    spec([added]).when(update({ managementState: 'managed' })).thenThrows(
      UnprocessableError,
      exactly("Bad subcloud request: Unable to manage subcloud1: its deploy_status must be either 'complete' or 'rehome-pending'"),
    );
    spec(offline).when(update({ managementState: 'managed' })).thenThrows(UnprocessableError, exactly('Subcloud is not online.'));
    spec([added]).when(update({ managementState: 'managed', force: true })).then([
      ev('SubcloudManagementStateChanged', { managementState: 'managed', force: true, at: later }),
    ]);
  });

  it('managing a rehome-pending subcloud (even offline) makes it complete', () => {
    const pendingOffline = [...rehomePending, ev('SubcloudAvailabilityChanged', { availabilityStatus: 'offline', at })];
    spec(pendingOffline).when(update({ managementState: 'managed' })).then([
      ev('SubcloudManagementStateChanged', { managementState: 'managed', force: false, at: later }),
      ev('SubcloudDeployStatusChanged', { deployStatus: 'complete', at: later }),
    ]);
  });
});

describe('UpdateSubcloud: migrate (rehome-pending)', () => {
  it('sets rehome-pending on a complete unmanaged subcloud, once', () => {
    spec(deployed).when(update({ migrate: 'true' })).then([ev('SubcloudDeployStatusChanged', { deployStatus: 'rehome-pending', at: later })]);
    spec(rehomePending).when(update({ migrate: 'true' })).thenNothingHappens();
  });

  it('only from complete, unless a peer site asks', () => {
    const message = "The deploy status can only be updated to 'rehome-pending' if the current deploy status is 'complete'";
    spec([added]).when(update({ migrate: 'true' })).thenThrows(ValidationError, exactly(message));
    spec([added]).when(update({ migrate: 'true' }, { fromAnotherDc: true })).then([
      ev('SubcloudDeployStatusChanged', { deployStatus: 'rehome-pending', at: later }),
    ]);
  });

  it('only unmanaged or being unmanaged; that message wins when both fail', () => {
    const message = "Subcloud must be unmanaged for its deploy status to be updated to 'rehome-pending'";
    spec(managed).when(update({ migrate: 'true' })).thenThrows(ValidationError, exactly(message));
    spec(deployed).when(update({ migrate: 'true', managementState: 'managed' })).thenThrows(ValidationError, exactly(message));
    spec([added, ev('SubcloudManagementStateChanged', { managementState: 'managed', force: true, at })])
      .when(update({ migrate: 'true' }))
      .thenThrows(ValidationError, exactly(message));
    spec(managed).when(update({ migrate: 'true', managementState: 'unmanaged' })).then([
      ev('SubcloudManagementStateChanged', { managementState: 'unmanaged', force: false, at: later }),
      ev('SubcloudDeployStatusChanged', { deployStatus: 'rehome-pending', at: later }),
    ]);
  });
});

describe('UpdateSubcloud: rename (R24.03 wording)', () => {
  it('renames a deployed unmanaged subcloud', () => {
    spec(deployed).when(update({ name: 'edge-1.site' })).then([
      ev('SubcloudRenamed', { name: 'edge-1.site', previousName: 'subcloud1', rehomeData: null, at: later }),
    ]);
  });

  it('rewrites the saved payload name', () => {
    spec(withRehomeData).when(update({ name: 'edge2' })).then([
      ev('SubcloudRenamed', { name: 'edge2', previousName: 'subcloud1', rehomeData: { saved_payload: { name: 'edge2', 'bootstrap-address': '10.10.10.12' } }, at: later }),
    ]);
  });

  it('must be deployed, unmanaged, no prestage going on', () => {
    const message = 'Subcloud subcloud1 must be deployed, unmanaged and no ongoing prestage for the subcloud rename operation.';
    spec(managed).when(update({ name: 'edge2' })).thenThrows(ValidationError, exactly(message));
    spec([added]).when(update({ name: 'edge2' })).thenThrows(ValidationError, exactly(message));
    const prestaging = { ...state(deployed), prestageStatus: 'prestaging-images' } as ReturnType<typeof state>;
    expect(() => subcloudDecider.decide(update({ name: 'edge2' }), prestaging)).toThrow(exactly(message));
  });

  it('the name format and a different name', () => {
    for (const bad of ['Edge', 'edge_1', '-edge', 'edge-', 'edge..1', '']) {
      spec(deployed).when(update({ name: bad })).thenThrows(ValidationError, exactly('new name must contain alphabetic characters'));
    }
    spec(deployed).when(update({ name: 'subcloud1' })).thenThrows(
      ValidationError,
      exactly('Provided subcloud name subcloud1 is the same as the current subcloud subcloud1. A different name is required to rename the subcloud'),
    );
  });

  it('rename is checked before migrate and management-state', () => {
    spec(managed).when(update({ name: 'x', managementState: 'bogus' })).thenThrows(ValidationError, /must be deployed, unmanaged/);
  });
});

describe('UpdateSubcloud: rehome data', () => {
  it('bootstrap values replace the saved payload, without passwords, keeping the bootstrap-address', () => {
    spec(withRehomeData)
      .when(update({ bootstrapValues: { name: 'subcloud1', sysadmin_password: 's', ansible_ssh_pass: 'a', ansible_become_pass: 'b', admin_password: 'pw', system_mode: 'duplex' } }))
      .then([
        ev('SubcloudRehomeDataUpdated', {
          rehomeData: { saved_payload: { name: 'subcloud1', admin_password: Buffer.from('pw').toString('base64'), system_mode: 'duplex', 'bootstrap-address': '10.10.10.12' } },
          at: later,
        }),
      ]);
  });

  it('bootstrap values and a new address together', () => {
    spec(deployed).when(update({ bootstrapValues: { name: 'subcloud1' }, bootstrapAddress: '10.10.10.13' })).then([
      ev('SubcloudRehomeDataUpdated', { rehomeData: { saved_payload: { name: 'subcloud1', 'bootstrap-address': '10.10.10.13' } }, at: later }),
    ]);
  });

  it('an address alone needs rehome data first (422)', () => {
    spec(deployed).when(update({ bootstrapAddress: '10.10.10.13' })).thenThrows(
      UnprocessableError,
      exactly('Bad subcloud request: Cannot update bootstrap_address into rehome data, need to import bootstrap_values first'),
    );
    spec(withRehomeData).when(update({ bootstrapAddress: '10.10.10.13' })).then([
      ev('SubcloudRehomeDataUpdated', { rehomeData: { saved_payload: { name: 'subcloud1', 'bootstrap-address': '10.10.10.13' } }, at: later }),
    ]);
  });

  it('the bootstrap-address of the rehome data is where the next rehome goes: the subcloud is reached there once it completes', () => {
    const updated = [...withRehomeData, ev('SubcloudRehomeDataUpdated', { rehomeData: { saved_payload: { 'bootstrap-address': '10.10.10.99' } }, at })];
    const before = state(updated);
    expect(before.status === 'active' && before.bootstrapAddress).toBe('10.10.10.12');
    const rehomed = state([
      ...updated,
      ev('SubcloudDeployPhaseStarted', { operationId: 'op-r', phase: 'rehome', deployStatus: 'pre-rehome', at }),
      ev('SubcloudDeployPhaseCompleted', { operationId: 'op-r', phase: 'rehome', deployStatus: 'complete', at }),
    ]);
    expect(rehomed.status === 'active' && rehomed.bootstrapAddress).toBe('10.10.10.99');
  });
});

describe('UpdateSubcloud: peer group rules', () => {
  it('peerGroupRules lets everything through today', () => {
    spec(deployed).when(update({ description: 'x', peerGroup: 'none' })).then([ev('SubcloudUpdated', { description: 'x', at: later })]);
  });
});

describe('DeleteSubcloud', () => {
  it('deletes an unmanaged subcloud', () => {
    spec(deployed).when({ type: 'DeleteSubcloud', at }).then([ev('SubcloudDeleted', { at })]);
    expect(state([...deployed, ev('SubcloudDeleted', { at: later })])).toMatchObject({ status: 'deleted', updatedAt: later });
  });

  it('refuses a managed one (2403 wording), or one in a peer group, unless a peer site asks', () => {
    spec(managed).when({ type: 'DeleteSubcloud', at }).thenThrows(ValidationError, exactly('Cannot delete a subcloud that is "managed" status'));
    const s = inPeerGroup(deployed);
    expect(() => subcloudDecider.decide({ type: 'DeleteSubcloud', at }, s)).toThrow(exactly('Cannot delete a subcloud that is part of a peer group on this site'));
    expect(subcloudDecider.decide({ type: 'DeleteSubcloud', at, fromAnotherDc: true }, s)).toHaveLength(1);
    spec(managed).when({ type: 'DeleteSubcloud', at, fromAnotherDc: true }).then([ev('SubcloudDeleted', { at })]);
  });

  it('a missing subcloud', () => {
    spec([]).when({ type: 'DeleteSubcloud', at }).thenThrows(NotFoundError, exactly('Subcloud not found'));
  });
});

describe('deploy phases', () => {
  const started = ev('SubcloudDeployPhaseStarted', { operationId: 'op-9', phase: 'install', deployStatus: 'pre-install', at });
  const createDone = deployed.slice(0, 3);

  it('install: pre-install -> installing -> install-complete', () => {
    spec(createDone).when({ type: 'StartDeployPhase', operationId: 'op-9', phase: 'install', at }).then([started]);
    spec([...createDone, started]).when({ type: 'ReportDeployProgress', operationId: 'op-9', running: true, at }).then([
      ev('SubcloudDeployPhaseProgressed', { operationId: 'op-9', deployStatus: 'installing', detail: null, at }),
    ]);
    const running = [...createDone, started, ev('SubcloudDeployPhaseProgressed', { operationId: 'op-9', deployStatus: 'installing', detail: null, at })];
    spec(running).when({ type: 'ReportDeployProgress', operationId: 'op-9', running: true, at }).thenNothingHappens();
    spec(running).when({ type: 'ReportDeployProgress', operationId: 'op-9', detail: 'writing image', at }).then([
      ev('SubcloudDeployPhaseProgressed', { operationId: 'op-9', deployStatus: 'installing', detail: 'writing image', at }),
    ]);
    spec(running).when({ type: 'CompleteDeployPhase', operationId: 'op-9', at: later }).then([
      ev('SubcloudDeployPhaseCompleted', { operationId: 'op-9', phase: 'install', deployStatus: 'install-complete', at: later }),
    ]);
  });

  it('bootstrap and config, ending in complete; a software version may come with the result', () => {
    const b = ev('SubcloudDeployPhaseStarted', { operationId: 'b', phase: 'bootstrap', deployStatus: 'pre-bootstrap', at });
    spec(createDone).when({ type: 'StartDeployPhase', operationId: 'b', phase: 'bootstrap', at }).then([b]);
    const c = ev('SubcloudDeployPhaseStarted', { operationId: 'c', phase: 'config', deployStatus: 'pre-config', at });
    spec([...createDone, c]).when({ type: 'CompleteDeployPhase', operationId: 'c', softwareVersion: '24.09', at }).then([
      ev('SubcloudDeployPhaseCompleted', { operationId: 'c', phase: 'config', deployStatus: 'complete', softwareVersion: '24.09', at }),
    ]);
    expect(state([...createDone, c, ev('SubcloudDeployPhaseCompleted', { operationId: 'c', phase: 'config', deployStatus: 'complete', softwareVersion: '24.09', at })])).toMatchObject({
      deployStatus: 'complete',
      softwareVersion: '24.09',
      operation: { id: 'c', phase: 'config', status: 'completed' },
    });
  });

  it('the last phase of a deployment without config ends in complete', () => {
    const b = ev('SubcloudDeployPhaseStarted', { operationId: 'b', phase: 'bootstrap', deployStatus: 'pre-bootstrap', at });
    spec([...createDone, b]).when({ type: 'CompleteDeployPhase', operationId: 'b', deployComplete: true, at }).then([
      ev('SubcloudDeployPhaseCompleted', { operationId: 'b', phase: 'bootstrap', deployStatus: 'complete', at }),
    ]);
  });

  it('a failure while preparing gives the prep-failed state, while running the failed one, with the error description', () => {
    spec([...createDone, started]).when({ type: 'FailDeployPhase', operationId: 'op-9', errorDescription: 'no BMC', at }).then([
      ev('SubcloudDeployPhaseFailed', { operationId: 'op-9', deployStatus: 'pre-install-failed', errorDescription: 'no BMC', at }),
    ]);
    const b = ev('SubcloudDeployPhaseStarted', { operationId: 'b', phase: 'bootstrap', deployStatus: 'pre-bootstrap', at });
    const running = ev('SubcloudDeployPhaseProgressed', { operationId: 'b', deployStatus: 'bootstrapping', detail: null, at });
    const failed = ev('SubcloudDeployPhaseFailed', { operationId: 'b', deployStatus: 'bootstrap-failed', errorDescription: 'playbook failed', at });
    spec([...createDone, b, running]).when({ type: 'FailDeployPhase', operationId: 'b', errorDescription: 'playbook failed', at }).then([failed]);
    expect(state([...createDone, b, running, failed])).toMatchObject({ deployStatus: 'bootstrap-failed', errorDescription: 'playbook failed' });
    // a new phase clears the error description
    expect(state([...createDone, b, running, failed, ev('SubcloudDeployPhaseStarted', { operationId: 'b2', phase: 'bootstrap', deployStatus: 'pre-bootstrap', at })])).toMatchObject({
      errorDescription: 'No errors present',
    });
  });

  it('rehome marks the subcloud rehomed; its failures are rehome-prep-failed / rehome-failed', () => {
    const r = ev('SubcloudDeployPhaseStarted', { operationId: 'r', phase: 'rehome', deployStatus: 'pre-rehome', at });
    spec(createDone).when({ type: 'StartDeployPhase', operationId: 'r', phase: 'rehome', at }).then([r]);
    spec([...createDone, r]).when({ type: 'FailDeployPhase', operationId: 'r', errorDescription: 'x', at }).then([
      ev('SubcloudDeployPhaseFailed', { operationId: 'r', deployStatus: 'rehome-prep-failed', errorDescription: 'x', at }),
    ]);
    const done = ev('SubcloudDeployPhaseCompleted', { operationId: 'r', phase: 'rehome', deployStatus: 'complete', at });
    expect(state([...createDone, r, done])).toMatchObject({ rehomed: true, deployStatus: 'complete' });
  });

  it('one phase at a time; repeats of the same operation change nothing', () => {
    spec([...createDone, started]).when({ type: 'StartDeployPhase', operationId: 'op-10', phase: 'bootstrap', at }).thenThrows(
      ConflictError,
      exactly("Subcloud subcloud1 current deploy_status is 'pre-install'. Please wait until it finishes before running this operation."),
    );
    spec([...createDone, started]).when({ type: 'StartDeployPhase', operationId: 'op-9', phase: 'install', at }).thenNothingHappens();
    const completed = [...createDone, started, ev('SubcloudDeployPhaseCompleted', { operationId: 'op-9', phase: 'install', deployStatus: 'install-complete', at })];
    spec(completed).when({ type: 'CompleteDeployPhase', operationId: 'op-9', at }).thenNothingHappens();
    spec(completed).when({ type: 'FailDeployPhase', operationId: 'op-9', errorDescription: 'late', at }).thenNothingHappens();
    spec(completed).when({ type: 'ReportDeployProgress', operationId: 'op-9', running: true, at }).thenNothingHappens();
  });

  it('a report for another operation is refused', () => {
    spec([...createDone, started]).when({ type: 'CompleteDeployPhase', operationId: 'other', at }).thenThrows(
      ConflictError,
      exactly('Deploy operation other is not in progress on subcloud subcloud1'),
    );
    spec([]).when({ type: 'CompleteDeployPhase', operationId: 'x', at }).thenThrows(NotFoundError);
  });

  it('the phase table uses dcmanager\'s strings', () => {
    expect(DEPLOY_PHASES.install).toEqual({ pre: 'pre-install', running: 'installing', complete: 'install-complete', prepFailed: 'pre-install-failed', failed: 'install-failed' });
    expect(DEPLOY_PHASES.config.complete).toBe('complete');
  });
});

describe('MarkInterruptedDeploy (after a restart)', () => {
  it.each(Object.entries(TRANSITORY_STATES))('%s -> %s', (from, to) => {
    const given = [added, ev('SubcloudDeployStatusChanged', { deployStatus: from as never, at })];
    spec(given).when({ type: 'MarkInterruptedDeploy', at: later }).then([
      ev('SubcloudDeployInterrupted', { previousStatus: from as never, deployStatus: to as never, at: later }),
    ]);
  });

  it('covers the spec\'s examples', () => {
    expect(TRANSITORY_STATES).toMatchObject({
      'pre-rehome': 'rehome-prep-failed', rehoming: 'rehome-failed', creating: 'create-failed', installing: 'install-failed',
      bootstrapping: 'bootstrap-failed', configuring: 'config-failed', 'reconfiguring-network': 'network-reconfiguration-failed',
    });
  });

  it('does nothing in a settled state; fails the running operation', () => {
    spec(deployed).when({ type: 'MarkInterruptedDeploy', at }).thenNothingHappens();
    const b = ev('SubcloudDeployPhaseStarted', { operationId: 'b', phase: 'bootstrap', deployStatus: 'pre-bootstrap', at });
    const s = state([...deployed.slice(0, 3), b, ev('SubcloudDeployInterrupted', { previousStatus: 'pre-bootstrap', deployStatus: 'pre-bootstrap-failed', at })]);
    expect(s).toMatchObject({ deployStatus: 'pre-bootstrap-failed', operation: { id: 'b', status: 'failed' } });
  });
});

describe('audit', () => {
  const avail = (reachable: boolean, consecutiveFailures: number): SubcloudCommand => ({ type: 'RecordAvailability', reachable, consecutiveFailures, at: later });

  it('online at the first success, offline after 2 failures in a row', () => {
    spec([added]).when(avail(true, 0)).then([ev('SubcloudAvailabilityChanged', { availabilityStatus: 'online', at: later })]);
    spec(deployed).when(avail(false, 1)).thenNothingHappens();
    spec(deployed).when(avail(false, 2)).then([ev('SubcloudAvailabilityChanged', { availabilityStatus: 'offline', at: later })]);
    spec(deployed).when(avail(true, 0)).thenNothingHappens();
    spec(offline).when(avail(false, 3)).thenNothingHappens();
  });

  it('going offline makes every endpoint unknown', () => {
    const synced = [...deployed, ev('SubcloudEndpointSyncStatusChanged', { endpoints: { platform: 'in-sync' }, at })];
    const s = state([...synced, ev('SubcloudAvailabilityChanged', { availabilityStatus: 'offline', at })]);
    expect(s.status === 'active' && s.endpointSyncStatus.platform).toBe('unknown');
  });

  it('endpoint sync statuses: only the changed ones', () => {
    spec(deployed).when({ type: 'RecordEndpointSyncStatus', endpoints: { platform: 'in-sync', identity: 'unknown' }, at }).then([
      ev('SubcloudEndpointSyncStatusChanged', { endpoints: { platform: 'in-sync' }, at }),
    ]);
    spec(deployed).when({ type: 'RecordEndpointSyncStatus', endpoints: { platform: 'unknown' }, at }).thenNothingHappens();
    const s = state([...deployed, ev('SubcloudEndpointSyncStatusChanged', { endpoints: { platform: 'in-sync' }, at: later })]);
    expect(s).toMatchObject({ endpointSyncStatus: { platform: 'in-sync', identity: 'unknown' }, updatedAt: later });
  });

  it('alarm summary: only on change', () => {
    const summary = { criticalAlarms: 0, majorAlarms: 1, minorAlarms: 0, warnings: 2, cloudStatus: 'degraded' };
    const changed = ev('SubcloudAlarmSummaryChanged', { alarmSummary: summary, at });
    spec(deployed).when({ type: 'RecordAlarmSummary', alarmSummary: summary, at }).then([changed]);
    spec([...deployed, changed]).when({ type: 'RecordAlarmSummary', alarmSummary: { ...summary }, at }).thenNothingHappens();
    spec([...deployed, changed]).when({ type: 'RecordAlarmSummary', alarmSummary: { ...summary, majorAlarms: 0, cloudStatus: 'OK' }, at }).then([
      ev('SubcloudAlarmSummaryChanged', { alarmSummary: { ...summary, majorAlarms: 0, cloudStatus: 'OK' }, at }),
    ]);
    expect(state([...deployed, changed])).toMatchObject({ alarmSummary: summary });
  });

  it('needs an existing subcloud', () => {
    spec([]).when(avail(true, 0)).thenThrows(NotFoundError, exactly('Subcloud not found'));
  });
});

describe('evolve round-trips', () => {
  it('every event a decide gives folds into the state the next decide sees', () => {
    const events: SubcloudEvent[] = [];
    const run = (cmd: SubcloudCommand) => {
      const out = subcloudDecider.decide(cmd, state(events));
      events.push(...out);
      return out;
    };
    run(addCommand());
    run({ type: 'StartDeployPhase', operationId: '1', phase: 'create', at });
    run({ type: 'CompleteDeployPhase', operationId: '1', at });
    run({ type: 'StartDeployPhase', operationId: '2', phase: 'bootstrap', at });
    run({ type: 'ReportDeployProgress', operationId: '2', running: true, at });
    run({ type: 'CompleteDeployPhase', operationId: '2', at });
    run({ type: 'StartDeployPhase', operationId: '3', phase: 'config', at });
    run({ type: 'CompleteDeployPhase', operationId: '3', at });
    run({ type: 'RecordAvailability', reachable: true, consecutiveFailures: 0, at });
    run(update({ managementState: 'managed', description: 'edge' }));
    expect(run({ type: 'MarkInterruptedDeploy', at })).toEqual([]);
    run(update({ managementState: 'unmanaged' }));
    run(update({ name: 'edge-2' }));
    run(update({ migrate: 'true' }));
    expect(state(events)).toMatchObject({
      name: 'edge-2',
      description: 'edge',
      managementState: 'unmanaged',
      deployStatus: 'rehome-pending',
      availabilityStatus: 'online',
      updatedAt: later,
    });
    expect(events.map((e) => e.type)).toEqual([
      'SubcloudAdded',
      'SubcloudDeployPhaseStarted', 'SubcloudDeployPhaseCompleted',
      'SubcloudDeployPhaseStarted', 'SubcloudDeployPhaseProgressed', 'SubcloudDeployPhaseCompleted',
      'SubcloudDeployPhaseStarted', 'SubcloudDeployPhaseCompleted',
      'SubcloudAvailabilityChanged',
      'SubcloudUpdated', 'SubcloudManagementStateChanged',
      'SubcloudManagementStateChanged',
      'SubcloudRenamed',
      'SubcloudDeployStatusChanged',
    ]);
    // events are plain JSON: a stored and re-read history folds to the same state
    expect(state(JSON.parse(JSON.stringify(events)))).toEqual(state(events));
  });
});

describe('the peer group audit mirrors the peer site', () => {
  const mirror = (deployStatus: 'secondary' | 'rehome-pending' | 'rehome-failed'): SubcloudCommand => ({ type: 'MirrorPeerDeployStatus', deployStatus, at: later });

  it('given a managed, online subcloud, when the peer manages it, then unmanaged, secondary and offline', () => {
    spec(managed).when(mirror('secondary')).then([
      ev('SubcloudManagementStateChanged', { managementState: 'unmanaged', force: false, at: later }),
      ev('SubcloudDeployStatusChanged', { deployStatus: 'secondary', at: later }),
      ev('SubcloudAvailabilityChanged', { availabilityStatus: 'offline', at: later }),
    ]);
  });

  it('when the peer migrates, then unmanaged and rehome-pending; a failed rehome there is rehome-failed here', () => {
    spec(managed).when(mirror('rehome-pending')).then([
      ev('SubcloudManagementStateChanged', { managementState: 'unmanaged', force: false, at: later }),
      ev('SubcloudDeployStatusChanged', { deployStatus: 'rehome-pending', at: later }),
    ]);
    spec(rehomePending).when(mirror('rehome-failed')).then([ev('SubcloudDeployStatusChanged', { deployStatus: 'rehome-failed', at: later })]);
  });

  it('what already is, appends nothing (a repeated audit)', () => {
    spec(rehomePending).when(mirror('rehome-pending')).thenNothingHappens();
  });

  it("copies the peer's rehome data, keeping this site's systemcontroller_gateway_address", () => {
    const local = [...deployed, ev('SubcloudRehomeDataUpdated', { rehomeData: { saved_payload: { 'bootstrap-address': '10.0.0.1', systemcontroller_gateway_address: '192.168.204.101' } }, at })];
    const remote = { saved_payload: { 'bootstrap-address': '10.0.0.9', systemcontroller_gateway_address: '192.168.205.1' } };
    const corrected = { saved_payload: { 'bootstrap-address': '10.0.0.9', systemcontroller_gateway_address: '192.168.204.101' } };
    spec(local).when({ type: 'CopyPeerRehomeData', rehomeData: remote, at: later }).then([ev('SubcloudRehomeDataUpdated', { rehomeData: corrected, at: later })]);
    spec([...local, ev('SubcloudRehomeDataUpdated', { rehomeData: corrected, at })]).when({ type: 'CopyPeerRehomeData', rehomeData: remote, at: later }).thenNothingHappens();
  });
});
