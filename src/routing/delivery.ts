// Delivering a call to a user (inbound from a gateway, or internal): all current
// registrations at once, else the static `contact`, else nobody (routing.md inbound step 4).
import type { DirectoryUser } from "../directory/directory.js";
import type { AttemptStep } from "./decision.js";
import type { RoutingContext } from "./routing-context.js";
import { contactsStep, uriStep } from "./targets.js";

export async function userDeliveryStep(
  ctx: RoutingContext,
  user: DirectoryUser,
): Promise<AttemptStep | null> {
  const bindings = await ctx.registrations.list(user.id, ctx.clock.now());
  if (bindings.length > 0) return contactsStep(user.id, bindings);
  if (user.config.contact !== undefined)
    return uriStep(user.config.contact, `${user.id} (static)`, ctx.gateways);
  return null;
}
