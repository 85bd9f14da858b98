// Bytes a transaction keeps through a long timer (Timer J: 64*T1 after a non-INVITE's final
// response). A Buffer from `serialize()` is a slice of Node's shared 8-KB allocation pool, and
// holding a 300-byte slice holds the whole slab: at 800 calls/s the answers to BYEs kept for
// Timer J pinned ~21 MB of slabs (a heap snapshot, bench/README.md). Kept as a one-byte string,
// the same bytes cost their length in the V8 heap and become bytes again only if resent, which
// a retransmitted request (rare) asks for.

export type KeptBytes = string;

export function keepBytes(data: Uint8Array): KeptBytes {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("latin1");
}

export function keptToBytes(kept: KeptBytes): Buffer {
  return Buffer.from(kept, "latin1");
}
