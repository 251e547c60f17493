// The common shape of a command on one aggregate with an id (an integer, or a UUID): run the decider on `<prefix>-<id>` and answer
// with what an API write needs (state, revision for the ETag, position for read-your-writes).
import type { Decider, DomainEvent } from '../../domain/core/decider.js';
import type { CommandContext } from './context.js';
import type { Handle } from './handler.js';

export interface WriteResult<State> {
  state: State;
  revision: bigint | 'no_stream';
  /** Global position of the last event written, for read-your-writes. */
  position: bigint | undefined;
}

export function decideOn<State, Command, Event extends DomainEvent, Id extends number | string = number>(
  handle: Handle,
  streamOf: (id: Id) => string,
  decider: Decider<State, Command, Event>,
) {
  return async (id: Id, command: Command, context: CommandContext, ifMatch?: bigint): Promise<WriteResult<State>> => {
    const r = await handle({ streamId: streamOf(id), decider, command, context, ...(ifMatch !== undefined ? { ifMatch } : {}) });
    return { state: r.state, revision: r.revision, position: r.position };
  };
}
