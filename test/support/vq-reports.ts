// RFC 6035 vq-rtcpxr bodies for tests.

/** RFC 6035 §A.1-style session report (values of our own). */
export const SESSION_REPORT = sessionReport("6dg37f1890463@10.0.0.9");

/** A session report for `callId` from Alice (the originator) about her call to a gateway. */
export function sessionReport(callId: string): string {
  return [
    "VQSessionReport: CallTerm",
    `CallID: ${callId}`,
    "LocalID: Alice <sip:alice@contoso.com>",
    "RemoteID: <sip:+14255550123@sbc1.contoso.com>",
    "OrigID: Alice <sip:alice@contoso.com>",
    "LocalAddr: IP=10.10.1.100 PORT=5000 SSRC=1a4bc5",
    "LocalMetrics:",
    "Timestamps: START=2026-12-02T18:23:43Z STOP=2026-12-02T18:24:23Z",
    'SessionDesc: PT=18 PD=G729 SR=8000 FD=20 FO=20 FPP=2 PPS=50 FMTP="annexb=no" PLC=3 SSUP=on',
    "JitterBuffer: JBA=3 JBR=2 JBN=40 JBM=80 JBX=120",
    "PacketLoss: NLR=5.0 JDR=2.0",
    "Delay: RTD=200 ESD=140 SOWD=200 IAJ=2 MAJ=10",
    "QualityEst: RLQ=88 RCQ=85 MOSLQ=4.1 MOSCQ=4.0",
    "RemoteMetrics:",
    "PacketLoss: NLR=9.0 JDR=1.0",
    "QualityEst: MOSLQ=2.0",
    "",
  ].join("\r\n");
}
