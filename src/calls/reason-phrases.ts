// RFC 3261 §21 reason phrases, for CDRs whose final response the recorder did not see on the wire
// (a 2xx whose phrase was not reported, a call the proxy ended itself).
const PHRASES: Readonly<Record<number, string>> = {
  200: "OK",
  202: "Accepted",
  408: "Request Timeout",
  480: "Temporarily Unavailable",
  486: "Busy Here",
  487: "Request Terminated",
  500: "Server Internal Error",
  503: "Service Unavailable",
  603: "Decline",
};

export function reasonPhrase(status: number): string {
  return PHRASES[status] ?? (status < 300 ? "OK" : "");
}
