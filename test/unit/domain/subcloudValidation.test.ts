// Every input rule of POST /subclouds, through the decider, each message asserted exactly and in dcmanager's order.
import { describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../../domain/core/errors.js';
import { subcloudDecider } from '../../../domain/distcloud/subcloud.js';
import { decodeBase64Text, savedPayload, validateAddRequest } from '../../../domain/distcloud/subcloudValidation.js';
import { deciderSpec } from '../../support/deciderSpec.js';
import { SYSADMIN_B64, addCommand, added, context, exactly, request } from './subcloudFixtures.js';

const spec = deciderSpec(subcloudDecider);
const refuse = (req: ReturnType<typeof request>, message: string, ctx = context()) =>
  spec([]).when(addCommand(req, ctx)).thenThrows(ValidationError, exactly(message));

describe('POST /subclouds form options (R24.03 wording)', () => {
  it.each([
    [{ migrate: 'yes' }, false, 'The migrate option is invalid, valid options are true and false.'],
    [{ migrate: 'True' }, false, 'The migrate option is invalid, valid options are true and false.'],
    [{ migrate: 'true' }, true, 'migrate with deploy-config is not allowed'],
    [{ secondary: 'maybe' }, false, 'The secondary option is invalid, valid options are true and false.'],
    [{ secondary: 'true' }, true, 'secondary with deploy-config is not allowed'],
    [{ secondary: 'true', migrate: 'false' }, false, 'secondary with migrate is not allowed'],
  ])('%o (deploy config %s) -> %s', (form, hasDeployConfig, message) => {
    refuse(request(form, {}, { hasDeployConfig }), message);
  });

  it('migrate is checked before secondary', () => {
    refuse(request({ migrate: 'x', secondary: 'y' }), 'The migrate option is invalid, valid options are true and false.');
  });

  it('under migrate, the bootstrap file must name the same subcloud as the form', () => {
    refuse(request({ migrate: 'true', name: 'other' }), 'subcloud name does not match the name defined in bootstrap file');
    spec([]).when(addCommand(request({ migrate: 'true', name: 'subcloud1' }))).then([
      { ...added, data: { ...added.data, migrate: true, bootstrapValues: { ...added.data.bootstrapValues, name: 'subcloud1', migrate: 'true' } } },
    ]);
  });

  it('the form name wins over the bootstrap file without migrate', () => {
    const [e] = subcloudDecider.decide(addCommand(request({ name: 'fromform' })), subcloudDecider.initialState());
    expect(e?.type === 'SubcloudAdded' && e.data.name).toBe('fromform');
  });
});

describe('sysadmin_password', () => {
  it('is required unless secondary', () => {
    refuse(request({ sysadmin_password: '' }), 'subcloud sysadmin_password required');
    const req = request();
    delete req.form.sysadmin_password;
    refuse(req, 'subcloud sysadmin_password required');
    req.form.secondary = 'true';
    expect(() => validateAddRequest(req)).not.toThrow();
  });

  it('must be base64 of UTF-8 text', () => {
    refuse(request({ sysadmin_password: 'abc' }), 'Failed to decode subcloud sysadmin_password, verify the password is base64 encoded');
    refuse(request({ sysadmin_password: Buffer.from([0xff, 0xfe]).toString('base64') }), 'Failed to decode subcloud sysadmin_password, verify the password is base64 encoded');
    expect(decodeBase64Text(SYSADMIN_B64)).toBe('St8rlingX*');
    expect(decodeBase64Text('c3Rh\ncg==')).toBe('star'); // characters outside the alphabet are dropped, as Python does
  });

  it('never lands in the event', () => {
    const events = subcloudDecider.decide(addCommand(request({ bmc_password: 'Ym1j' })), subcloudDecider.initialState());
    expect(JSON.stringify(events)).not.toContain(SYSADMIN_B64);
    expect(JSON.stringify(events)).not.toContain('Ym1j');
    expect(events[0]?.type === 'SubcloudAdded' && events[0].data.hasBmcPassword).toBe(true);
  });
});

describe('validate_bootstrap_values: required keys in order', () => {
  it.each([
    ['name', 'name required'],
    ['system_mode', 'system_mode required'],
    ['management_subnet', 'management_subnet required'],
    ['management_start_address', 'management_start_address required'],
    ['management_end_address', 'management_end_address required'],
    ['management_gateway_address', 'management_gateway_address required'],
    ['systemcontroller_gateway_address', 'systemcontroller_gateway_address required'],
    ['external_oam_subnet', 'external_oam_subnet required'],
    ['external_oam_gateway_address', 'external_oam_gateway_address required'],
    ['external_oam_floating_address', 'external_oam_floating_address required'],
  ])('without %s', (key, message) => {
    refuse(request({}, { [key]: '' }), message);
  });

  it('the admin network is all or nothing', () => {
    refuse(request({}, { admin_subnet: '192.168.102.0/24' }), 'admin_start_address required');
    refuse(request({}, { admin_gateway_address: '192.168.102.1' }), 'admin_subnet required');
    refuse(request({}, { admin_subnet: '192.168.102.0/24', admin_start_address: '192.168.102.2' }), 'admin_end_address required');
    refuse(
      request({}, { admin_subnet: '192.168.102.0/24', admin_start_address: '192.168.102.2', admin_end_address: '192.168.102.9' }),
      'admin_gateway_address required',
    );
    refuse(
      request({}, { admin_subnet: 'a', admin_start_address: 'b', admin_end_address: 'c', admin_gateway_address: 'd' }),
      'admin_gateway_address and management_gateway_address cannot be specified at the same time',
    );
  });

  it('floating addresses', () => {
    refuse(request({}, { management_floating_address: '192.168.101.3' }), 'management_floating_address does not match management_start_address');
    refuse(request({}, { admin_floating_address: '192.168.102.3' }), 'admin_floating_address does not match admin_start_address');
    // simplex: the floating address stands for the whole range
    const payload = validateAddRequest(
      request({}, { system_mode: 'simplex', management_floating_address: '192.168.101.3', management_start_address: undefined, management_end_address: undefined }),
    );
    expect([payload.management_start_address, payload.management_end_address]).toEqual(['192.168.101.3', '192.168.101.3']);
  });
});

describe('validate_subcloud_config', () => {
  it('names', () => {
    refuse(request({ name: '1234' }), 'name must contain alphabetic characters');
    refuse(request({ name: 'RegionOne' }), 'name cannot be RegionOne or SystemController');
    refuse(request({ name: 'SystemController' }), 'name cannot be RegionOne or SystemController');
  });

  it.each([
    [{ management_subnet: 'nonsense' }, 'management_subnet invalid: Invalid subnet - not a valid IP subnet'],
    [{ management_subnet: '192.168.101.0/30' }, 'management_subnet invalid: Subnet too small - must have at least 8 addresses'],
    [{ management_subnet: 'fd01::/60', management_start_address: 'fd01::2' }, 'management_subnet invalid: IPv6 minimum prefix length is 64'],
    [{ management_start_address: '192.168.101.0' }, 'management_start_address invalid: Cannot use network address'],
    [{ management_start_address: 'fd01::2' }, 'management_start_address invalid: Invalid IP version - must match network version IPv4'],
    [{ management_start_address: '192.168.1.2' }, 'management_start_address invalid: Address must be in subnet 192.168.101.0/24'],
    [{ management_start_address: '192.168.101' }, 'management_start_address invalid: Invalid address - not a valid IP address'],
    [{ management_end_address: '192.168.101.255' }, 'management_end_address invalid: Cannot use broadcast address'],
    [{ management_start_address: '192.168.101.60' }, 'management_start_address greater than management_end_address'],
    [{ management_end_address: '192.168.101.3' }, 'management address range must contain at least 3 addresses'],
    [{ management_gateway_address: '10.0.0.1' }, 'management_gateway_address invalid: Address must be in subnet 192.168.101.0/24'],
    [{ management_gateway_address: '192.168.101.10' }, 'management_gateway_address invalid, is within management pool: 192.168.101.2 - 192.168.101.50'],
    [{ systemcontroller_gateway_address: '10.1.1.1' }, 'systemcontroller_gateway_address invalid: Address must be in subnet 192.168.204.0/24'],
    [{ systemcontroller_gateway_address: '192.168.204.50' }, 'systemcontroller_gateway_address invalid, is within management pool: 192.168.204.2 - 192.168.204.100'],
    [{ external_oam_subnet: '10.10.10.0/31' }, 'external_oam_subnet invalid: Subnet too small - must have at least 3 addresses'],
    [{ external_oam_gateway_address: '10.10.11.1' }, 'oam_gateway_address invalid: Address must be in subnet 10.10.10.0/24'],
    [{ external_oam_floating_address: '10.10.10.255' }, 'oam_floating_address invalid: Cannot use broadcast address'],
  ])('%o -> %s', (values, message) => {
    refuse(request({}, values), message);
  });

  it('simplex: subnet of 4, a range of 1', () => {
    const simplex = { system_mode: 'simplex', management_subnet: '192.168.101.0/29', management_start_address: '192.168.101.2', management_end_address: '192.168.101.2', management_gateway_address: '192.168.101.1' };
    expect(() => validateAddRequest(request({}, simplex))).not.toThrow();
    spec([]).when(addCommand(request({}, simplex))).then([
      expect.objectContaining({ type: 'SubcloudAdded', data: expect.objectContaining({ managementEndIp: '192.168.101.2' }) }),
    ]);
    refuse(request({}, { ...simplex, management_subnet: '192.168.101.0/31' }), 'management_subnet invalid: Subnet too small - must have at least 4 addresses');
    refuse(request({}, { ...simplex, management_end_address: '192.168.101.1' }), 'management_start_address greater than management_end_address');
  });

  it('a management range may not overlap another subcloud\'s', () => {
    const other = { id: 2, name: 'subcloud2', managementSubnet: '192.168.101.0/24', managementStartIp: '192.168.101.40', managementEndIp: '192.168.101.60' };
    refuse(request(), 'Management address range overlaps with that of subcloud subcloud2', context({ existingSubclouds: [other] }));
    // the same subnet with disjoint ranges is fine (the rule is on ranges, not subnets)
    const disjoint = { ...other, managementStartIp: '192.168.101.51', managementEndIp: '192.168.101.60' };
    spec([]).when(addCommand(request(), context({ existingSubclouds: [disjoint] }))).then([added]);
  });

  it('the OAM subnet may not start inside another subcloud\'s management subnet', () => {
    const other = { id: 2, name: 'subcloud2', managementSubnet: '10.10.0.0/16', managementStartIp: '10.10.200.2', managementEndIp: '10.10.200.9' };
    refuse(request(), 'external_oam_subnet invalid: Subnet overlaps with another configured subnet', context({ existingSubclouds: [other] }));
  });

  it('admin network rules', () => {
    const admin = {
      management_gateway_address: undefined,
      admin_subnet: '192.168.102.0/24',
      admin_start_address: '192.168.102.2',
      admin_end_address: '192.168.102.50',
      admin_gateway_address: '192.168.102.1',
    };
    const [e] = subcloudDecider.decide(addCommand(request({}, admin)), subcloudDecider.initialState());
    expect(e?.data).toMatchObject({ managementSubnet: '192.168.102.0/24', managementStartIp: '192.168.102.2', managementGatewayIp: '192.168.102.1' });
    refuse(request({}, { ...admin, admin_subnet: 'x' }), 'admin_subnet invalid: Invalid subnet - not a valid IP subnet');
    refuse(request({}, { ...admin, admin_start_address: '192.168.102.60' }), 'admin_start_address greater than admin_end_address');
    refuse(request({}, { ...admin, admin_end_address: '192.168.102.3' }), 'admin address range must contain at least 3 addresses');
    refuse(request({}, { ...admin, admin_gateway_address: '192.168.102.10' }), 'admin_gateway_address invalid, is within admin pool: 192.168.102.2 - 192.168.102.50');
    const other = { id: 2, name: 'subcloud2', managementSubnet: '192.168.102.0/24', managementStartIp: '192.168.102.50', managementEndIp: '192.168.102.60' };
    refuse(request({}, admin), 'Admin address range overlaps with that of subcloud subcloud2', context({ existingSubclouds: [other] }));
  });

  it('IPv6', () => {
    const v6 = {
      management_subnet: 'FD01:0:0:0::/64',
      management_start_address: 'fd01::0002',
      management_end_address: 'fd01::50',
      management_gateway_address: 'fd01::1',
      systemcontroller_gateway_address: 'fd02::101',
    };
    const ctx = context({ systemControllerManagement: { subnet: 'fd02::/64', startIp: 'fd02::2', endIp: 'fd02::100' } });
    const [e] = subcloudDecider.decide(addCommand(request({}, v6), ctx), subcloudDecider.initialState());
    expect(e?.data).toMatchObject({ managementStartIp: 'fd01::2', managementEndIp: 'fd01::50', systemcontrollerGatewayIp: 'fd02::101' });
    refuse(request({}, { ...v6, systemcontroller_gateway_address: '192.168.204.101' }), 'systemcontroller_gateway_address invalid: Expected IPv6', ctx);
    refuse(request({}, { ...v6, management_gateway_address: 'fd01::10' }), 'management_gateway_address invalid, is within management pool: fd01::2 - fd01::50', ctx);
    const other = { id: 2, name: 'v6cloud', managementSubnet: 'fd01::/64', managementStartIp: 'fd01::50', managementEndIp: 'fd01::60' };
    refuse(request({}, v6), 'Management address range overlaps with that of subcloud v6cloud', context({ ...ctx, existingSubclouds: [other] }));
  });

  it('group', () => {
    refuse(request({ group_id: '9' }), 'Invalid group_id');
    refuse(request({ group_id: 'edge' }), 'Invalid group_id');
    spec([]).when(addCommand(request({ group_id: '2' }))).then([
      { ...added, data: { ...added.data, groupId: 2, bootstrapValues: { ...added.data.bootstrapValues, group_id: '2' } } },
    ]);
  });

  it('the first failing rule wins: bootstrap values before names before networks', () => {
    refuse(request({ name: '1234' }, { system_mode: '' }), 'system_mode required');
    refuse(request({ name: '1234' }, { management_subnet: 'x' }), 'name must contain alphabetic characters');
  });

  it('the same id twice is a conflict', () => {
    spec([added]).when(addCommand()).thenThrows(ConflictError, exactly('Subcloud with name=subcloud1 already exists'));
  });
});

describe('secondary subclouds and saved payloads', () => {
  it('a secondary subcloud keeps its payload for a later rehome, without passwords, admin_password in base64', () => {
    const req = request({ secondary: 'true', sysadmin_password: SYSADMIN_B64 }, { admin_password: 'Li69nux*', ansible_ssh_pass: 'x', ansible_become_pass: 'y' });
    const [e] = subcloudDecider.decide(addCommand(req), subcloudDecider.initialState());
    if (e?.type !== 'SubcloudAdded') throw new Error('expected SubcloudAdded');
    expect(e.data.deployStatus).toBe('secondary');
    const saved = e.data.rehomeData?.saved_payload ?? {};
    expect(saved).toMatchObject({ name: 'subcloud1', admin_password: Buffer.from('Li69nux*').toString('base64'), 'bootstrap-address': '10.10.10.12' });
    for (const k of ['secondary', 'sysadmin_password', 'ansible_ssh_pass', 'ansible_become_pass']) expect(saved).not.toHaveProperty(k);
  });

  it('savedPayload drops the BMC password of install values', () => {
    expect(savedPayload({ install_values: { bmc_password: 'x', bmc_address: '1.2.3.4' } })).toEqual({ install_values: { bmc_address: '1.2.3.4' } });
  });

  it('install values are kept without the BMC password', () => {
    const values = { bootstrap_interface: 'eno1', bootstrap_address: '10.10.10.12', bootstrap_address_prefix: 24, install_type: 2, bmc_username: 'root', bmc_address: '10.10.20.5' };
    const req = request({ bmc_password: 'Ym1j' }, {}, { installValues: values });
    const [e] = subcloudDecider.decide(addCommand(req), subcloudDecider.initialState());
    expect(e?.data).toMatchObject({ dataInstall: { bootstrap_interface: 'eno1' }, hasBmcPassword: true });
    expect(JSON.stringify(e)).not.toContain('Ym1j');
  });
});
