// /v1.0/subclouds: dcmanager-compatible routes. POST and PATCH take multipart/form-data (bootstrap_values,
// install_values and deploy_config as files on POST; PATCH parts are text, with install_values, force and
// bootstrap_values YAML); writes go through commands, reads come from the subclouds read model.
import { Router, type Request } from 'express';
import { parse as parseYaml } from 'yaml';
import type { ReadStore } from '../../adapters/readstore/port.js';
import type { SubcloudCommands, SubcloudPatch } from '../../commands/distcloud/subclouds.js';
import type { Clock } from '../../domain/core/clock.js';
import { ManagerError, NotFoundError, ValidationError } from '../../domain/core/errors.js';
import type { PrestageRequestBody, SubcloudPrestageCommands } from '../../commands/distcloud/subcloudPrestage.js';
import { jsonObjectBody } from '../http/validation.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { SUBCLOUD_NOT_FOUND, type SubcloudState } from '../../domain/distcloud/subcloud.js';
import type { AddSubcloudRequest } from '../../domain/distcloud/subcloudValidation.js';
import type { SubcloudDoc } from '../../projections/distcloud/subclouds.js';
import { commandContext } from '../http/context.js';
import { findByRef } from '../../adapters/readstore/byRef.js';
import { fromAnotherDc } from '../http/peer.js';
import { authorize } from '../http/policy.js';
import { parseMultipart, type MultipartBody } from '../http/multipart.js';
import type { WriteResponder } from '../http/writes.js';
import { presentSubcloud, presentSubcloudDetail, presentSubcloudListEntry } from './presenters.js';

export interface SubcloudRoutesDeps {
  commands: SubcloudCommands;
  /** PATCH /{ref}/prestage (absent: the route answers 500 `Unable to prestage subcloud`). */
  prestage?: SubcloudPrestageCommands;
  readStore: ReadStore;
  clock: Clock;
  writes: WriteResponder;
}


/** A YAML document that must be a mapping (bootstrap values, install values). */
function yamlMapping(text: string, part: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    const line = (error as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new ValidationError(`Error: Unable to load ${part} file contents${line !== undefined ? ` (problem on line: ${line})` : ''}.`, part);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(`Error: Unable to load ${part} file contents (it must be a YAML mapping).`, part);
  }
  return value as Record<string, unknown>;
}

function yamlScalar(text: string, part: string): unknown {
  try {
    return parseYaml(text);
  } catch {
    throw new ValidationError(`Invalid ${part} value`, part);
  }
}

/** POST's parts as the decider takes them. */
function addRequest(body: MultipartBody): AddSubcloudRequest {
  const file = (name: string) => body.files[name]?.content ?? body.fields[name];
  const bootstrap = file('bootstrap_values');
  const install = file('install_values');
  const deployConfig = file('deploy_config');
  return {
    form: Object.fromEntries(Object.entries(body.fields).filter(([k]) => !['bootstrap_values', 'install_values', 'deploy_config'].includes(k))),
    ...(bootstrap !== undefined ? { bootstrapValues: yamlMapping(bootstrap, 'bootstrap_values') } : {}),
    ...(install !== undefined ? { installValues: yamlMapping(install, 'install_values') } : {}),
    hasDeployConfig: deployConfig !== undefined,
    ...(deployConfig !== undefined ? { deployConfig } : {}),
  };
}

/** PATCH's parts: every part is text; `force` and the values documents are YAML. */
function patch(body: MultipartBody): SubcloudPatch {
  const part = (name: string) => body.fields[name] ?? body.files[name]?.content;
  const p: SubcloudPatch = {};
  const text = (name: string, set: (v: string) => void) => {
    const v = part(name);
    if (v !== undefined) set(v);
  };
  text('management-state', (v) => (p.managementState = v));
  text('force', (v) => (p.force = yamlScalar(v, 'force')));
  text('description', (v) => (p.description = v));
  text('location', (v) => (p.location = v));
  text('group_id', (v) => (p.groupRef = v));
  text('name', (v) => (p.name = v));
  text('bootstrap_values', (v) => (p.bootstrapValues = yamlMapping(v, 'bootstrap_values')));
  text('bootstrap_address', (v) => (p.bootstrapAddress = v));
  text('migrate', (v) => (p.migrate = v));
  text('peer_group', (v) => (p.peerGroup = v));
  return p;
}

function active(state: SubcloudState) {
  if (state.status !== 'active') throw new NotFoundError(SUBCLOUD_NOT_FOUND);
  return state;
}

export function subcloudsRouter(d: SubcloudRoutesDeps): Router {
  const router = Router({ strict: false });
  const collection = COLLECTIONS.subclouds;

  /** Numeric: an id; otherwise a name (a peer site's GET/PATCH name a region, as in dcmanager). */
  async function findSubcloud(req: Request, ref: string): Promise<SubcloudDoc> {
    const byRegion = fromAnotherDc(req) && req.method !== 'DELETE';
    const doc = await findByRef<SubcloudDoc>(d.readStore, collection, ref, byRegion ? { regionName: ref } : { name: ref });
    if (!doc) throw new NotFoundError(SUBCLOUD_NOT_FOUND);
    return doc;
  }

  /** Parses the multipart body and keeps it as req.body, so an Idempotency-Key's hash covers it. */
  async function multipart(req: Request): Promise<MultipartBody> {
    const body = await parseMultipart(req);
    req.body = body;
    return body;
  }

  router.get('/', async (_req, res) => {
    const docs = await d.readStore.find<SubcloudDoc>(collection, {}, { sort: { id: 1 } });
    res.json({ subclouds: docs.map(presentSubcloudListEntry) });
  });

  router.get('/:ref', async (req, res) => {
    res.json(presentSubcloud(await findSubcloud(req, req.params.ref)));
  });

  router.get('/:ref/detail', async (req, res) => {
    res.json(presentSubcloudDetail(await findSubcloud(req, req.params.ref)));
  });

  router.post('/', async (req, res) => {
    const body = await multipart(req);
    const request = addRequest(body);
    const ctx = commandContext(req, d.clock);
    const result = await d.commands.add(request, ctx, fromAnotherDc(req));
    await d.writes.send(res, result.position, presentSubcloud(active(result.state)));
  });

  router.patch('/:ref', async (req, res) => {
    const body = await multipart(req);
    const changes = patch(body);
    // dcmanager's authorize_user: a body with a management-state is dc_api:subclouds:manage_unmanage (the operator
    // role too), whatever else it holds; any other is dc_api:subclouds:modify (admin or configurator). The policy
    // table let both through to here.
    const manage = Boolean(changes.managementState);
    authorize(req, manage ? 'subclouds:manage_unmanage' : 'subclouds:modify', manage ? 'admin_or_operator_or_configurator' : 'admin_or_configurator');
    const doc = await findSubcloud(req, req.params.ref);
    const ctx = commandContext(req, d.clock);
    const result = await d.commands.update(doc, changes, ctx, fromAnotherDc(req));
    const view = presentSubcloud(active(result.state));
    await d.writes.send(res, result.position, result.infoMessage ? { ...view, info_message: result.infoMessage } : view);
  });

  // PATCH /{ref}/prestage: JSON {sysadmin_password, force, release}; the answer is the subcloud with the release
  // being prestaged (dcmanager adds prestage-software-version).
  router.patch('/:ref/prestage', async (req, res) => {
    const doc = await findSubcloud(req, req.params.ref);
    if (!d.prestage) throw new ManagerError('Unable to prestage subcloud');
    const body = jsonObjectBody<PrestageRequestBody>(req.body);
    const result = await d.prestage.request(doc.id, body, commandContext(req, d.clock));
    await d.writes.send(res, result.position, { ...presentSubcloud(active(result.state)), 'prestage-software-version': result.release });
  });

  router.delete('/:ref', async (req, res) => {
    const doc = await findSubcloud(req, req.params.ref);
    const ctx = commandContext(req, d.clock);
    const result = await d.commands.remove(doc.id, ctx, fromAnotherDc(req));
    await d.writes.send(res, result.position, null);
  });

  return router;
}
