import { InvalidArgumentError } from "../errors.js";

/**
 * NATS-style subject patterns over `<namespace>.<ActorType>.<EventType>`: tokens separated by `.`,
 * `*` matches exactly one token, `>` (last token only) matches one or more remaining tokens.
 *
 * @example
 * new SubjectPattern("default.Cart.*").matches("default.Cart.ItemAdded"); // true
 * new SubjectPattern("*.Cart.>").spansNamespaces; // true: needs an explicit opt-in on the bus
 */
export class SubjectPattern {
  readonly tokens: readonly string[];

  /** @throws InvalidArgumentError for an empty token or `>` before the end */
  constructor(readonly pattern: string) {
    if (typeof pattern !== "string" || pattern.length === 0) {
      throw new InvalidArgumentError(`a subject pattern must be a non-empty string like "default.Cart.*"`);
    }
    const tokens = pattern.split(".");
    tokens.forEach((token, i) => {
      if (token === "") throw new InvalidArgumentError(`subject pattern "${pattern}" has an empty token`);
      if (token === ">" && i !== tokens.length - 1) {
        throw new InvalidArgumentError(`subject pattern "${pattern}": ">" may only be the last token`);
      }
      if (token.length > 1 && (token.includes("*") || token.includes(">"))) {
        throw new InvalidArgumentError(
          `subject pattern "${pattern}": "*" and ">" must be whole tokens (got "${token}")`,
        );
      }
    });
    this.tokens = tokens;
  }

  /** True when the first token is a wildcard: the pattern matches more than one namespace. */
  get spansNamespaces(): boolean {
    return this.tokens[0] === "*" || this.tokens[0] === ">";
  }

  /** The namespace the pattern names, or undefined when it spans namespaces. */
  get namespace(): string | undefined {
    return this.spansNamespaces ? undefined : this.tokens[0];
  }

  matches(subject: string): boolean {
    return matchTokens(this.tokens, subject.split("."));
  }
}

/** Pattern tokens against subject tokens (see {@link SubjectPattern}). */
export function matchTokens(pattern: readonly string[], subject: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const token = pattern[i];
    if (token === ">") return subject.length > i;
    if (i >= subject.length) return false;
    if (token !== "*" && token !== subject[i]) return false;
  }
  return pattern.length === subject.length;
}

/** The subject of an event: `<namespace>.<ActorType>.<EventType>`. */
export function subjectOf(namespace: string, actorType: string, eventType: string): string {
  return `${namespace}.${actorType}.${eventType}`;
}
