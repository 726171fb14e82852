import type { ProjectOptions } from "../project-options.js";

/** The generated README: what the project is, its two commands, and where to go next. */
export function readme(options: ProjectOptions): string {
  const cluster = options.cluster
    ? `
## Run a cluster

\`\`\`sh
pnpm redis                                    # a local Redis with AOF on, in ./.granary/redis
export GRANARY_REDIS_URL=redis://127.0.0.1:6379 GRANARY_CLUSTER_KEY=$(openssl rand -hex 32)
GRANARY_PORT=11111 pnpm silo &                # start as many silos as you like, one port each
GRANARY_PORT=11112 pnpm silo &
pnpm client acc-1                             # calls Account acc-1 through whichever silo owns it
\`\`\`

Each actor lives on exactly one silo at a time; stop a silo (Ctrl-C drains it) and its actors
re-activate on the others with their whole history.
`
    : "";
  return `# ${options.name}

A [Granary](https://github.com/granary) project: event-sourced virtual actors in TypeScript.

\`\`\`sh
pnpm install && pnpm dev   # starts a silo on embedded SQLite (./.granary/dev), deposits into acc-1, prints the balance
pnpm test                  # type-checks and runs the Account specification (given events, when a command, then events)
\`\`\`

- \`src/account.ts\` — the \`Account\` actor: events, a pure \`apply\` fold, commands that \`raise\` events.
- \`src/account.test.ts\` — its specification with \`ActorSpec\` from \`@granary/testing\`.
- \`src/dev.ts\` — one process: a silo plus a few calls. Run it twice: the balance is rebuilt from the events.
- \`src/silo.ts\` — a long-running silo (\`pnpm silo\`); Ctrl-C drains it before exiting.
${options.cluster ? "- `src/client.ts` — calls the actor through the cluster from another process.\n- `scripts/redis.sh` — a throwaway Redis, no Docker needed.\n" : ""}${cluster}`;
}
