// Step 11 of POST /subclouds: the install_values file, each rule through the decider with dcmanager's message.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../domain/core/errors.js';
import { subcloudDecider, type SubcloudCommand } from '../../../domain/distcloud/subcloud.js';
import { deciderSpec } from '../../support/deciderSpec.js';
import { addCommand, exactly, request } from './subcloudFixtures.js';

const spec = deciderSpec(subcloudDecider);
const BMC = Buffer.from('bmc-secret').toString('base64');

const install = (over: Record<string, unknown> = {}) => ({
  bootstrap_interface: 'eno1',
  bootstrap_address: '10.10.10.12',
  bootstrap_address_prefix: 24,
  install_type: 2,
  bmc_username: 'root',
  bmc_address: '10.10.20.5',
  ...over,
});
const withInstall = (values: Record<string, unknown>, form: Record<string, string> = { bmc_password: BMC }) =>
  request(form, {}, { installValues: values });
const refuse = (values: Record<string, unknown>, message: string, form?: Record<string, string>) =>
  spec([]).when(addCommand(withInstall(values, form))).thenThrows(ValidationError, exactly(message));
const dataInstall = (values: Record<string, unknown>) => {
  const [e] = subcloudDecider.decide(addCommand(withInstall(values)), subcloudDecider.initialState());
  return e?.type === 'SubcloudAdded' ? e.data.dataInstall : undefined;
};

describe('install values (validate_install_values)', () => {
  it('keeps the values without the BMC password, filling in the software version', () => {
    const kept = dataInstall(install({ bootstrap_address: 'FD01::0012', bmc_address: 'fd01::5' }));
    expect(kept).toEqual({ ...install(), bootstrap_address: 'fd01::12', bmc_address: 'fd01::5', software_version: '24.03' });
    expect(JSON.stringify(kept)).not.toContain(BMC);
  });

  it('needs a base64 BMC password', () => {
    refuse(install(), 'subcloud bmc_password required', {});
    refuse(install(), 'Failed to decode subcloud bmc_password, verify the password is base64 encoded', { bmc_password: 'abc' });
  });

  it('a software version must be the subcloud\'s', () => {
    refuse(
      install({ software_version: '22.12' }),
      'The software_version value 22.12 in the install values yaml file does not match with the specified/current software version of 24.03. Please correct or remove this parameter from the yaml file and try again.',
    );
    expect(dataInstall(install({ software_version: '24.03' }))).toMatchObject({ software_version: '24.03' });
  });

  it.each([
    [{ persistent_size: '40000' }, 'The install value persistent_size (in MB) must be a whole number greater than or equal to 30000'],
    [{ persistent_size: 20000 }, 'persistent_size of 20000 MB is less than the permitted minimum 30000 MB '],
    [{ hw_settle: 1.5 }, 'The install value hw_settle (in seconds) must be a whole number greater than or equal to 0'],
    [{ hw_settle: -1 }, 'hw_settle of -1 seconds is less than 0'],
    [{ extra_boot_params: '' }, 'The install value extra_boot_params must not be empty.'],
    [{ extra_boot_params: 'a=1 b=2' }, "Invalid install value 'extra_boot_params=a=1 b=2'. Spaces are not allowed (use ',' to separate multiple arguments)"],
    [{ install_type: 6 }, 'install_type invalid: 6'],
    [{ install_type: '2' }, 'install_type invalid: 2'],
    [{ bootstrap_address: 'bmc' }, "bootstrap_address invalid: failed to detect a valid IP address from 'bmc'"],
    [{ bmc_address: '10.10.20' }, "bmc_address invalid: failed to detect a valid IP address from '10.10.20'"],
    [{ bmc_address: 'fd01::5' }, 'bmc_address and bootstrap_address must be the same IP version'],
    [{ nexthop_gateway: 'fd01::1' }, 'nexthop_gateway and bootstrap_address must be the same IP version'],
    [{ network_address: '10.20.0.0', network_mask: 16 }, 'nexthop_gateway is required when network_address is present'],
    [{ nexthop_gateway: '10.10.10.1', network_address: '10.20.0.0' }, 'The network mask is required when network address is present'],
    [{ nexthop_gateway: '10.10.10.1', network_address: '10.20.0.0', network_mask: 40 }, 'network address invalid: Invalid subnet - not a valid IP subnet'],
    [{ 'rd.net.timeout.ipv6dad': 'soon' }, "rd.net.timeout.ipv6dad invalid: invalid literal for int() with base 10: 'soon'"],
    [{ 'rd.net.timeout.ipv6dad': 0 }, 'rd.net.timeout.ipv6dad must be greater than 0: 0'],
    [{ rvmc_debug_level: 5 }, 'rvmc_debug_level must be an integer between 0 and 4.'],
    [{ rvmc_debug_level: 'x' }, "Invalid value of rvmc_debug_level: invalid literal for int() with base 10: 'x'"],
  ])('%o -> %s', (over, message) => refuse(install(over), message));

  it('names the first missing mandatory value, in dcmanager\'s order', () => {
    const { bootstrap_address_prefix: _p, bmc_username: _u, ...missing } = install();
    refuse(missing, 'Mandatory install value bootstrap_address_prefix not present');
    const { bmc_address: _a, ...noBmc } = install();
    refuse(noBmc, 'Mandatory install value bmc_address not present');
  });

  it('runs after the bootstrap values and network rules', () => {
    spec([]).when(addCommand(request({ bmc_password: BMC }, { management_subnet: 'x' }, { installValues: install({ install_type: 9 }) })))
      .thenThrows(ValidationError, exactly('management_subnet invalid: Invalid subnet - not a valid IP subnet'));
  });

  it('a peer site\'s secondary subcloud is not checked again', () => {
    const req = request({ secondary: 'true', region_name: 'r1' }, {}, { installValues: { install_type: 9, bmc_password: BMC } });
    const fromPeer = { ...(addCommand(req) as Extract<SubcloudCommand, { type: 'AddSubcloud' }>), fromAnotherDc: true };
    const [e] = subcloudDecider.decide(fromPeer, subcloudDecider.initialState());
    expect(e?.type === 'SubcloudAdded' && e.data.dataInstall).toEqual({ install_type: 9 });
    spec([]).when(addCommand(req)).thenThrows(ValidationError, /^subcloud bmc_password required$/);
  });
});
