// Changing the routing objects in Redis (config push and admin writes): read the active
// version, apply the change, validate the result exactly as a configuration file is validated,
// then switch versions atomically and announce which users' effective plans changed. A writer
// that loses the race to another rebuilds its change on the newer version.
import type { ConfigProblem } from "../../config/problem.js";
import {
  affectedUsers,
  diffRoutingDocuments,
  emptyRoutingDocument,
  isEmptyDiff,
  type RoutingDiff,
  type RoutingDocument,
  validateRoutingDocument,
} from "../routing-document.js";
import type { RedisRoutingStore } from "./routing-store.js";

export type RoutingMutation =
  | { readonly ok: true; readonly document: RoutingDocument }
  | { readonly ok: false; readonly status: 400 | 404 | 409; readonly problems: readonly ConfigProblem[] };

export type RoutingWriteResult =
  | {
      readonly ok: true;
      /** The version now in force (unchanged when the diff is empty or on a dry run). */
      readonly version: number | null;
      readonly previousVersion: number | null;
      readonly diff: RoutingDiff;
      readonly switched: boolean;
    }
  | { readonly ok: false; readonly status: 400 | 404 | 409; readonly problems: readonly ConfigProblem[] };

const MAX_ATTEMPTS = 20;

export async function writeRouting(
  store: RedisRoutingStore,
  mutate: (current: RoutingDocument) => RoutingMutation,
  options: { readonly dryRun?: boolean } = {},
): Promise<RoutingWriteResult> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const active = await store.readActive();
    const current = active?.document ?? emptyRoutingDocument();
    const mutated = mutate(current);
    if (!mutated.ok) return mutated;
    const valid = validateRoutingDocument(mutated.document);
    if (!valid.ok) return { ok: false, status: 400, problems: valid.problems };
    const diff = diffRoutingDocuments(current, valid.document);
    const previousVersion = active?.version ?? null;
    if (options.dryRun || isEmptyDiff(diff))
      return { ok: true, version: previousVersion, previousVersion, diff, switched: false };
    const users = [...affectedUsers(current, valid.document)];
    const version = await store.switchVersion(previousVersion, valid.document, users);
    if (version === null) continue;
    // Instances also poll the pointer, so a lost announcement delays a change, never loses it.
    await store.publishChange({ version, users }).catch(() => undefined);
    return { ok: true, version, previousVersion, diff, switched: true };
  }
  return {
    ok: false,
    status: 409,
    problems: [{ path: "(routing)", message: "the routing objects kept changing concurrently; try again" }],
  };
}
