import { InvalidConfigurationError } from "../errors.js";
import { Upcasters } from "../events/upcasting.js";
import { describeValue } from "./describe-value.js";

/** The `upcasters` option of a store: undefined, or Upcasters from any copy of @granary/core. */
export function checkUpcastersOption(value: unknown): Upcasters | undefined {
  if (value === undefined || Upcasters.isUpcasters(value)) return value;
  throw new InvalidConfigurationError(
    "upcasters",
    `expected an Upcasters instance (\`new Upcasters().register(...)\`), got ${describeValue(value)}`,
  );
}
