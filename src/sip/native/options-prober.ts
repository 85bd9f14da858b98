// OPTIONS requests the edge originates to gateways (routing.md health checks): one non-INVITE
// client transaction each, resolved with the final status or null (timeout, transport error).
import type { RouteTarget } from "../../routing/decision.js";
import { createRequest, randomTag, type SipResponse } from "../index.js";
import { NonInviteClientTransaction } from "./non-invite-client-transaction.js";
import { type ClientTx, ownVia, type ProxyContext } from "./proxy-context.js";
import type { ServerTx } from "./server-tx.js";
import { clientTransactionKey } from "./transaction-key.js";
import type { TransactionLayer } from "./transaction-layer.js";
import type { TransportLayer } from "./transport-layer.js";
import type { Destination } from "./transport-types.js";

export interface OptionsProberDeps {
  readonly ctx: ProxyContext;
  readonly transport: TransportLayer;
  readonly layer: TransactionLayer<ServerTx, ClientTx>;
  /** The host part of the From URI. */
  readonly fromHost: string;
}

export function sendOptions(
  deps: OptionsProberDeps,
  target: RouteTarget["destination"],
  requestUri: string,
): Promise<number | null> {
  const { ctx, transport, layer } = deps;
  const dest: Destination = { host: target.host, port: target.port, transport: target.transport };
  const local = transport.localFor(dest);
  if (local === null) return Promise.resolve(null);
  const request = createRequest({
    method: "OPTIONS",
    requestUri,
    via: [],
    from: `<sip:dialgate@${deps.fromHost}>;tag=${randomTag()}`,
    to: `<${requestUri}>`,
    callId: `${randomTag()}${randomTag()}@dialgate`,
    cseq: 1,
    headers: [["Accept", "application/sdp"]],
  });
  const branch = ctx.newBranch(request);
  request.pushVia(ownVia(dest.transport, ctx.sentByFor(local), branch));
  return new Promise((resolve) => {
    let settled = false;
    const finish = (v: number | null) => {
      if (!settled) {
        settled = true;
        resolve(v);
      }
    };
    const tx: NonInviteClientTransaction<SipResponse> = new NonInviteClientTransaction<SipResponse>({
      key: clientTransactionKey(branch, "OPTIONS"),
      request: request.serialize(),
      channel: ctx.channelTo(dest),
      timers: ctx.timers,
      timerService: ctx.timerService,
      user: {
        onResponse: (r) => {
          if (r.status >= 200) finish(r.status);
        },
        onTimeout: () => finish(null),
        onTransportError: () => finish(null),
        onTerminated: () => {
          layer.removeClient(tx);
          finish(null);
        },
      },
    });
    layer.addClient(tx);
    tx.start();
  });
}
