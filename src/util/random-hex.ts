// Random hex strings for SIP tags and entity tags, from a pool of CSPRNG bytes refilled 4 KiB at a
// time. A randomBytes call per tag costs ~6 µs (a synchronous job into OpenSSL), against ~0.2 µs
// from the pool; every 503 admission control sends carries a fresh To tag, and under overload
// that was ~4% of the proxy's CPU (bench/README.md). Node's own randomUUID batches the same way.
import { randomBytes, randomFillSync } from "node:crypto";

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** `bytes` random bytes as lower-case hex. */
export function randomHex(bytes: number): string {
  if (bytes > POOL_BYTES) return randomBytes(bytes).toString("hex");
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString("hex", offset, offset + bytes);
  offset += bytes;
  return hex;
}
