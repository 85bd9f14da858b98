// A carrier's CDR webhook receiver: verifies Dialgate-Signature, refuses replays, de-duplicates.
// WEBHOOK_SECRET=... PORT=9000 node examples/webhook-receiver.mjs
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const secret = process.env.WEBHOOK_SECRET;
const seen = new Set(); // delivery is at-least-once: a record may come twice, same id

function verify(header, body, now = Math.floor(Date.now() / 1000)) {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (m === null) return false;
  if (Math.abs(now - Number(m[1])) > 300) return false; // older than 5 minutes: a replay
  const mac = createHmac("sha256", secret).update(`${m[1]}.`).update(body).digest();
  return timingSafeEqual(mac, Buffer.from(m[2], "hex"));
}

createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks); // verify the raw bytes, before any JSON parsing
    if (!verify(req.headers["dialgate-signature"], body)) return res.writeHead(401).end();
    for (const cdr of JSON.parse(body).records) {
      if (seen.has(cdr.id)) continue;
      seen.add(cdr.id);
      console.log(cdr.id, cdr.callType, cdr.calleeNumber, cdr.duration);
    }
    res.writeHead(204).end(); // any 2xx acknowledges the batch
  });
}).listen(Number(process.env.PORT ?? 9000), "127.0.0.1");
