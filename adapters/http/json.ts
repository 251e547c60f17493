// A response body as JSON when it is JSON: callers look at the status first and treat anything else as no body.
export function jsonOrUndefined(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
