// The body of POST /v1.0/system-peers as the geo-redundancy tests send it: site B seen from site A.
export const SITE_B_UUID = '8a1f2f5e-4a57-4f6b-9c4e-4d5d9f0b1c01';

export const systemPeerBody = (over: Record<string, unknown> = {}, password = 'secret') => ({
  peer_uuid: SITE_B_UUID,
  peer_name: 'site-b',
  manager_endpoint: 'http://127.0.0.2:8119/v3',
  manager_username: 'site-a-peer',
  manager_password: Buffer.from(password).toString('base64'),
  peer_controller_gateway_address: '10.10.10.1',
  ...over,
});
