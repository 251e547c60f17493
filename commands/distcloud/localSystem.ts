// This site's identity (domain/distcloud/localSystem.ts): recorded at the first start, read at every start.
import { randomUUID } from 'node:crypto';
import { localSystemDecider, LOCAL_SYSTEM_STREAM, type LocalSystem } from '../../domain/distcloud/localSystem.js';
import type { CommandContext } from '../core/context.js';
import type { Handle } from '../core/handler.js';

/** The site's UUID (the first start's, whichever process recorded it) and its current name. */
export async function identifyLocalSystem(handle: Handle, name: string, ctx: CommandContext): Promise<LocalSystem> {
  const r = await handle({
    streamId: LOCAL_SYSTEM_STREAM,
    decider: localSystemDecider,
    command: { type: 'IdentifySystem', uuid: randomUUID(), name, at: ctx.now.toISOString() },
    context: ctx,
  });
  if (r.state.status !== 'active') throw new Error('the local system has no identity');
  return { uuid: r.state.uuid, name: r.state.name };
}
