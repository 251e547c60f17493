// A change that may rename an aggregate whose name is unique: the new name is reserved before the change, the old one
// released once the aggregate answers to the new one, and the new one released again if the change was refused.
import type { CommandContext } from './context.js';
import type { Uniqueness } from './uniqueness.js';

/** The newest of some global positions (for read-your-writes after several appends). */
export const latestPosition = (...positions: (bigint | undefined)[]) =>
  positions.reduce<bigint | undefined>((a, b) => (b === undefined ? a : a === undefined || b > a ? b : a), undefined);

export interface RenameOptions<R> {
  uniqueness: Uniqueness;
  scope: string;
  /** The aggregate's id, as the reservation's holder. */
  holder: string;
  oldName: string | undefined;
  /** The requested name; undefined, or equal to the old one, when the change renames nothing. */
  newName: string | undefined;
  context: CommandContext;
  /** Whether the holder still uses a name (for reservations left by a crashed writer). */
  stillHeld(name: string): (holder: string) => Promise<boolean>;
  /** The refusal when another holder has the name. */
  taken(name: string): Error;
  /** The change itself. */
  run(): Promise<R>;
  /** Whether the aggregate, after the change, answers to the new name. */
  renamed(result: R): boolean;
}

export async function withRename<R extends { position: bigint | undefined }>(o: RenameOptions<R>): Promise<R> {
  const renaming = o.newName !== undefined && o.oldName !== undefined && o.newName !== o.oldName;
  if (!renaming) return o.run();
  const newName = o.newName!;
  const reservation = await o.uniqueness.reserve({
    scope: o.scope,
    value: newName,
    holder: o.holder,
    context: o.context,
    stillHeld: o.stillHeld(newName),
  });
  if (!reservation.reserved) throw o.taken(newName);
  try {
    const result = await o.run();
    const released = o.renamed(result) ? await o.uniqueness.release(o.scope, o.oldName!, o.holder, o.context) : undefined;
    return { ...result, position: latestPosition(reservation.position, result.position, released) };
  } catch (error) {
    await o.uniqueness.release(o.scope, newName, o.holder, o.context).catch(() => undefined);
    throw error;
  }
}
