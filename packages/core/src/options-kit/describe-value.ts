/** A bad option value as an error message shows it: strings quoted and cut, objects by class name. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return String(value);
}
