// The opaque paging cursor of GET /v1/carrier/cdrs: the CDR log position after which the next
// page starts, plus the filter it was issued for, signed with HMAC-SHA256 over the carrier id too.
// A cursor that was altered, made up, issued to another carrier or for another filter is refused
// (400) rather than silently reinterpreted; one whose position the log no longer holds (rotated
// away) is refused as stale. The key persists beside the CDR log so cursors survive a restart.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export interface CursorState {
  /** Log position after which to continue; null: from the oldest retained. */
  readonly position: string | null;
  /** The filter (epoch ms) the cursor was issued for. */
  readonly from: number | null;
  readonly to: number | null;
}

export type CursorProblem = { readonly code: "bad_cursor" | "stale_cursor"; readonly message: string };

export class CursorCodec {
  constructor(private readonly key: Buffer) {}

  encode(carrierId: string, state: CursorState): string {
    const payload = Buffer.from(JSON.stringify([1, state.position, state.from, state.to]), "utf8").toString(
      "base64url",
    );
    return `${payload}.${this.mac(carrierId, payload)}`;
  }

  decode(
    carrierId: string,
    cursor: string,
    isValidPosition: (p: string) => boolean,
  ): CursorState | CursorProblem {
    const bad: CursorProblem = {
      code: "bad_cursor",
      message: "cursor is not one this server issued to you; pass nextCursor unchanged",
    };
    const dot = cursor.indexOf(".");
    if (dot <= 0) return bad;
    const payload = cursor.slice(0, dot);
    const mac = Buffer.from(cursor.slice(dot + 1), "base64url");
    const expected = Buffer.from(this.mac(carrierId, payload), "base64url");
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return bad;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      return bad;
    }
    if (!Array.isArray(parsed) || parsed[0] !== 1) return bad;
    const [, position, from, to] = parsed as unknown[];
    const numOrNull = (v: unknown): v is number | null => v === null || typeof v === "number";
    if (!(position === null || typeof position === "string") || !numOrNull(from) || !numOrNull(to))
      return bad;
    if (position !== null && !isValidPosition(position)) {
      return {
        code: "stale_cursor",
        message: "cursor points at records this server no longer holds; start again without a cursor",
      };
    }
    return { position, from, to };
  }

  private mac(carrierId: string, payload: string): string {
    return createHmac("sha256", this.key).update(`${carrierId}\n${payload}`).digest("base64url");
  }
}

/** Reads the cursor key at `file`, creating it (32 random bytes, mode 0600) on first use. */
export async function loadOrCreateCursorKey(file: string): Promise<Buffer> {
  try {
    const hex = (await readFile(file, "utf8")).trim();
    if (/^[0-9a-f]{64}$/.test(hex)) return Buffer.from(hex, "hex");
    throw new Error(`${file} is not a cursor key (64 hex digits); delete it to make a new one`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await mkdir(dirname(file), { recursive: true });
  const key = randomBytes(32);
  try {
    await writeFile(file, `${key.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    return key;
  } catch (err) {
    // Another instance sharing the directory created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return loadOrCreateCursorKey(file);
    throw err;
  }
}
