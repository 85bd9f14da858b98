// A carrier's CDR webhook receiver: verifies Dialgate-Signature, refuses replays, de-duplicates.
// WEBHOOK_SECRET=... PORT=9000 node examples/webhook-receiver.mjs
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const secret = process.env.WEBHOOK_SECRET;
if (!secret) {
  console.error("WEBHOOK_SECRET is not set: set it to the value of the variable cdrWebhook.secretEnv names");
  process.exit(1);
}
const seen = new Set(); // delivery is at-least-once: a record may come twice, same id

function verify(header, body, now = Math.floor(Date.now() / 1000)) {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (m === null) return false;
  if (Math.abs(now - Number(m[1])) > 300) return false; // older than 5 minutes: a replay
  const mac = createHmac("sha256", secret).update(`${m[1]}.`).update(body).digest();
  return timingSafeEqual(mac, Buffer.from(m[2], "hex"));
}

function recordsOf(body) {
  try {
    const records = JSON.parse(body).records;
    return Array.isArray(records) ? records : null;
  } catch {
    return null; // correctly signed, but not JSON
  }
}

createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("error", () => res.destroy()); // the sender went away mid-body: it will send again
  req.on("end", () => {
    const body = Buffer.concat(chunks); // verify the raw bytes, before any JSON parsing
    if (!verify(req.headers["dialgate-signature"], body)) return res.writeHead(401).end();
    const records = recordsOf(body);
    if (records === null) return res.writeHead(400).end('expected {"records": [...]}\n');
    for (const cdr of records) {
      if (typeof cdr?.id !== "string" || seen.has(cdr.id)) continue;
      seen.add(cdr.id);
      console.log(cdr.id, cdr.callType, cdr.calleeNumber, cdr.duration);
    }
    res.writeHead(204).end(); // any 2xx acknowledges the batch
  });
}).listen(Number(process.env.PORT ?? 9000), "127.0.0.1");
