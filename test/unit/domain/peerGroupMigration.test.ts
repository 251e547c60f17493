// PATCH /subcloud-peer-groups/{ref}/migrate: the request's checks (planMigration) and the migration's two events on
// the peer group (StartPeerGroupMigration, CompletePeerGroupMigration), given/when/then.
import { describe, expect, it } from 'vitest';
import { ConflictError, ManagerError, ValidationError } from '../../../domain/core/errors.js';
import type { SealedSecret } from '../../../domain/core/sealed.js';
import { planMigration, pythonList, SYSADMIN_PASSWORD_NOT_BASE64, type MigrationMember } from '../../../domain/distcloud/peerGroupMigration.js';
import { migrationInProgress, subcloudPeerGroupDecider, type SubcloudPeerGroupEvent } from '../../../domain/distcloud/subcloudPeerGroup.js';
import { deciderSpec, expectValidationError, thrownBy } from '../../support/deciderSpec.js';

const group = { peerGroupName: 'pg1' };
const PW = Buffer.from('St8rlingX*').toString('base64');
const saved = (over: Record<string, unknown> = {}) => ({ saved_payload: { name: 'x', 'bootstrap-address': '10.0.0.2', ...over } });
const member = (id: number, deployStatus: string, rehomeData: MigrationMember['rehomeData'] = saved()): MigrationMember => ({ id, name: `sc${id}`, deployStatus, rehomeData });

describe('planMigration (the /migrate request)', () => {
  it('needs a body, then a sysadmin_password, in base64', () => {
    expectValidationError(() => planMigration({}, group, []), 'Body required');
    expectValidationError(() => planMigration(undefined, group, []), 'Body required');
    expectValidationError(() => planMigration({ other: 1 } as never, group, []), 'Unable to migrate subcloud peer group: pg1 need sysadmin_password', 'sysadmin_password');
    expectValidationError(() => planMigration({ sysadmin_password: 'not base64!' }, group, []), SYSADMIN_PASSWORD_NOT_BASE64, 'sysadmin_password');
  });

  it('collects every member that cannot take part into one 500, in dcmanager\'s words', () => {
    const err = thrownBy(() =>
      planMigration({ sysadmin_password: PW }, group, [
        member(1, 'secondary', null),
        member(2, 'secondary', {} as never),
        member(3, 'secondary', { saved_payload: {} }),
        member(4, 'secondary', { saved_payload: { name: 'sc4' } }),
        member(5, 'rehoming'),
        member(6, 'secondary'),
      ]),
    );
    expect(err).toBeInstanceOf(ManagerError);
    expect((err as ManagerError).status).toBe(500);
    expect((err as ManagerError).message).toBe(
      'Batch migrate subclouds error: ' +
        pythonList([
          'Unable to migrate subcloud: sc1 required rehoming data is missing',
          'Unable to migrate subcloud: sc2 saved_payload is missing in rehoming data',
          'Unable to migrate subcloud: sc3 saved_payload is empty',
          'Unable to migrate subcloud: sc4, bootstrap-address is missing in rehoming data',
          'Unable to migrate subcloud peer group pg1, subcloud sc5 already in rehoming process',
        ]),
    );
    expect(pythonList(['a', "b'c"])).toBe(`['a', "b'c"]`);
  });

  it('migrates the secondary, rehome-failed and rehome-prep-failed members; none of them is a 400', () => {
    const members = [member(1, 'secondary'), member(2, 'complete'), member(3, 'rehome-failed'), member(4, 'rehome-prep-failed')];
    expect(planMigration({ sysadmin_password: PW }, group, members)).toEqual({ sysadminPassword: PW, eligible: [members[0], members[2], members[3]] });
    const err = thrownBy(() => planMigration({ sysadmin_password: PW }, group, [member(2, 'complete')]));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toBe('Nothing to migrate, no secondary, rehome-failed or rehome-prep-failed subcloud in peer group pg1');
  });
});

describe('the migration on the peer group', () => {
  const at = '2026-03-01T10:00:00.000Z';
  const sealed: SealedSecret = { alg: 'A256GCM', kid: '0123456789abcdef', iv: 'aXY=', tag: 'dGFn', ct: 'Y3Q=' };
  const A = { systemLeaderId: '11111111-2222-4333-8444-555555555555', systemLeaderName: 'site-a' };
  const B = { systemLeaderId: '66666666-7777-4888-9999-aaaaaaaaaaaa', systemLeaderName: 'site-b' };
  const added: SubcloudPeerGroupEvent = {
    type: 'SubcloudPeerGroupAdded',
    data: { id: 1, peerGroupName: 'pg1', groupPriority: 2, groupState: 'enabled', maxSubcloudRehoming: 10, ...A, at },
  };
  const started: SubcloudPeerGroupEvent = { type: 'PeerGroupMigrationStarted', data: { migrationId: 'm1', subcloudIds: [3, 4], sysadminPassword: sealed, at } };
  const spec = deciderSpec(subcloudPeerGroupDecider);

  it('given a group, when a migration starts, then PeerGroupMigrationStarted (migrating); the same start again is nothing', () => {
    spec([added]).when({ type: 'StartPeerGroupMigration', migrationId: 'm1', subcloudIds: [3, 4], sysadminPassword: sealed, at }).then([started]);
    spec([added, started]).when({ type: 'StartPeerGroupMigration', migrationId: 'm1', subcloudIds: [3, 4], sysadminPassword: sealed, at }).thenNothingHappens();
  });

  it('one migration at a time', () => {
    spec([added, started])
      .when({ type: 'StartPeerGroupMigration', migrationId: 'm2', subcloudIds: [3], sysadminPassword: sealed, at })
      .thenThrows(ConflictError, migrationInProgress('pg1'));
  });

  it('when it completes, whatever became of the subclouds, the site that ran it leads and the status is complete', () => {
    spec([added, started]).when({ type: 'CompletePeerGroupMigration', migrationId: 'm1', leader: B, at }).then([
      { type: 'PeerGroupLeaderChanged', data: { ...B, previous: A, at } },
      { type: 'PeerGroupMigrationStatusChanged', data: { migrationStatus: 'complete', at } },
    ]);
    const completed: SubcloudPeerGroupEvent[] = [added, started, { type: 'PeerGroupMigrationStatusChanged', data: { migrationStatus: 'complete', at } }];
    spec(completed).when({ type: 'CompletePeerGroupMigration', migrationId: 'm1', leader: B, at }).thenNothingHappens();
    spec(completed).when({ type: 'StartPeerGroupMigration', migrationId: 'm2', subcloudIds: [3], sysadminPassword: sealed, at }).then([
      { type: 'PeerGroupMigrationStarted', data: { migrationId: 'm2', subcloudIds: [3], sysadminPassword: sealed, at } },
    ]);
  });
});
