// The 200 to a BYE, held until the call's CDR is durable, as the native edge holds it
// (native/proxy-call.ts, calls/call-recorder.ts `recorded`): once the party who hung up has its
// answer, the record survives a crash. The wait is bounded by the recorder (BYE_WAIT_FOR_CDR_MS),
// so a failing CDR log never stops calls from ending.
//
// drachtio-srf answers a BYE itself, inside `Dialog#handle`: `res.send(200)`, then the `destroy`
// event, with no hook in between (srf-types.ts). So the dialog's `handle` is wrapped: for a BYE
// the response's `send` is captured, the original handler runs (the call ends in the `destroy`
// listener and the recorder builds the CDR synchronously), and the captured answer goes out once
// the record is durable. A BYE that arrives before the wrap is in place (read in the same chunk
// as the 200 that created the dialog) is answered at once, as before.
import type { CallRecordDurability } from "../../calls/call-recorder.js";
import type { SendOptions, SrfDialog, SrfRequest, SrfResponse } from "./srf-types.js";

export function holdByeAnswer(dialog: SrfDialog, callId: string, records: CallRecordDurability): void {
  const handle = dialog.handle.bind(dialog);
  dialog.handle = (req: SrfRequest, res: SrfResponse, next?: () => void) => {
    if (req.method !== "BYE") {
      handle(req, res, next);
      return;
    }
    const send = res.send.bind(res);
    let answer: (() => void) | null = null;
    res.send = (status: number, reason?: string, opts?: SendOptions, callback?: (err: unknown) => void) => {
      answer = () => send(status, reason, opts, callback);
    };
    handle(req, res, next);
    res.send = send;
    const deliver = answer as (() => void) | null;
    if (deliver === null) return;
    const recorded = records.recorded(callId);
    if (recorded === null) deliver();
    else void recorded.then(deliver);
  };
}
