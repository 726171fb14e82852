import type { ProjectOptions } from "../project-options.js";

/** `src/silo.ts`: a long-running silo; standalone on embedded SQLite, or a cluster member with --cluster. */
export function siloSource(options: ProjectOptions): string {
  const where = options.cluster
    ? `// Joins the cluster named by GRANARY_REDIS_URL (events, snapshots and the directory in Redis).
// Start it several times with different GRANARY_PORT values to grow the cluster.`
    : `// Standalone: events and snapshots in embedded SQLite under ./.granary/, no servers needed.`;
  return `import { Silo } from "@granary/runtime";
import { Account } from "./account.js";

${where}
const silo = await Silo.start({ actors: [Account] });

// SIGTERM / Ctrl-C: drain the mailboxes, snapshot, leave, then exit.
let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    silo.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
`;
}

/** `src/dev.ts`: one process that starts a silo, calls the actor and prints what was recorded. */
export function devSource(): string {
  return `import { Silo } from "@granary/runtime";
import { Account } from "./account.js";

// Standalone silo on embedded SQLite in ./.granary/dev: run it twice and the balance keeps growing,
// because the account is rebuilt from its events.
process.env.GRANARY_LOG_LEVEL ??= "warn";
const silo = await Silo.start({ actors: [Account], dataDir: ".granary/dev" });
try {
  const account = silo.get(Account, "acc-1", { userId: "dev" });
  if ((await account.balance()) === 0) await account.open("ada");
  const balance = await account.deposit(10);
  process.stdout.write(\`acc-1 balance: \${balance}\\n\`);
} finally {
  await silo.stop();
}
`;
}

/** `src/client.ts`: calls the actor from another process through the cluster. */
export function clientSource(): string {
  return `import { Client } from "@granary/runtime";
import { Account } from "./account.js";

// Finds the silos through the same Redis (GRANARY_REDIS_URL, GRANARY_CLUSTER_KEY).
const client = await Client.connect({});
try {
  const balance = await client.get(Account, process.argv[2] ?? "acc-1").deposit(5);
  process.stdout.write(\`balance: \${balance}\\n\`);
} finally {
  await client.close();
}
`;
}

/** `scripts/redis.sh`: a throwaway Redis for the cluster variant, without Docker or compose. */
export function redisScript(): string {
  return `#!/usr/bin/env bash
# Starts a local Redis with AOF on (Granary's event store needs it) in ./.granary/redis.
# Needs redis-server on PATH (apt-get install redis-server / brew install redis).
set -euo pipefail
dir="$(cd "$(dirname "$0")/.." && pwd)/.granary/redis"
mkdir -p "$dir"
exec redis-server --port "\${REDIS_PORT:-6379}" --dir "$dir" --appendonly yes --appendfsync everysec --save ""
`;
}
