// dcmanager's reference to a resource in a URL or a form field: all digits is its integer id (the document's _id),
// anything else names it.
import type { Doc, ReadStore } from './port.js';

/** The document `ref` names: by id when `ref` is all digits, else the first matching `byName` (the caller's name
 *  field, or a UUID, or a region, as the resource is looked up). */
export async function findByRef<T extends Doc>(
  readStore: ReadStore,
  collection: string,
  ref: string,
  byName: Record<string, unknown>,
): Promise<T | undefined> {
  if (/^\d+$/.test(ref)) return (await readStore.get<T>(collection, String(Number(ref)))) ?? undefined;
  return (await readStore.find<T>(collection, byName, { limit: 1 }))[0];
}
