// The part of a requested change that changes something: setting a field to the value it has is no change, so a
// decider records nothing for it (and updated-at stays).
export function changedFields<T extends object>(changes: Partial<T>, current: T): Partial<T> {
  return Object.fromEntries(Object.entries(changes).filter(([k, v]) => current[k as keyof T] !== v)) as Partial<T>;
}
