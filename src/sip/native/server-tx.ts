import type { InviteServerTransaction } from "./invite-server-transaction.js";
import type { NonInviteServerTransaction } from "./non-invite-server-transaction.js";

/** Either kind of server transaction; both answer `respond(status, bytes)`. */
export type ServerTx = InviteServerTransaction | NonInviteServerTransaction;
