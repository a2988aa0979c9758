#!/usr/bin/python3
"""A reference GEPS hand-over service (the receiving side of HTTPJSONGEPSGateway) for the Delivery tests.

Listens on 127.0.0.1 at a free port, prints the port on stdout, serves until stdin closes (or it is terminated).

  POST /handovers   body: a JSON document; headers Content-Type: application/json, Idempotency-Key: KEY
                    201 {"reference": "GEPS-000001"} the first time a key is seen,
                    200 with the same reference when the key was seen before (the document is not taken again),
                    400 {"error": ...} without a key or with a body that is not a JSON object,
                    415 when the Content-Type is not application/json.
  GET /handovers    200 [{"key": ..., "reference": ..., "document": {...}, "deliveries": N}, ...] in order taken.
  POST /control     body {"failFirst": N, "failStatus": S, "dropAnswerFirst": M, "omitReferenceFirst": R}: changes
                    the faults at run time.

  --fail-first N         answer FAIL_STATUS (503) to the next N POST /handovers, taking nothing
  --fail-status S        the status for --fail-first (503 unless given)
  --drop-answer-first M  take the next M hand-overs, then close the connection without answering (a lost answer)
  --omit-reference-first R  take the next R hand-overs, answering 201 with an empty JSON object (no reference)
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--fail-status", type=int, default=503)
    parser.add_argument("--drop-answer-first", type=int, default=0)
    parser.add_argument("--omit-reference-first", type=int, default=0)
    options = parser.parse_args()
    lock = threading.Lock()
    state = {
        "failFirst": options.fail_first,
        "failStatus": options.fail_status,
        "dropAnswerFirst": options.drop_answer_first,
        "omitReferenceFirst": options.omit_reference_first,
        "handovers": [],
        "byKey": {},
    }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass

        def answer(self, status, value):
            body = json.dumps(value, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def read_body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        def do_GET(self):
            if self.path != "/handovers":
                return self.answer(404, {"error": "no such resource"})
            with lock:
                listing = [dict(h) for h in state["handovers"]]
            self.answer(200, listing)

        def do_POST(self):
            body = self.read_body()
            if self.path == "/control":
                try:
                    change = json.loads(body)
                except ValueError:
                    return self.answer(400, {"error": "the control body is not JSON"})
                with lock:
                    for name in ("failFirst", "failStatus", "dropAnswerFirst", "omitReferenceFirst"):
                        if name in change:
                            state[name] = int(change[name])
                return self.answer(200, {"ok": True})
            if self.path != "/handovers":
                return self.answer(404, {"error": "no such resource"})
            with lock:
                if state["failFirst"] > 0:
                    state["failFirst"] -= 1
                    status = state["failStatus"]
                    return self.answer(status, {"error": "GEPS is in maintenance (メンテナンス中)"})
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type != "application/json":
                return self.answer(415, {"error": "the body must be application/json"})
            key = self.headers.get("Idempotency-Key")
            if not key:
                return self.answer(400, {"error": "the Idempotency-Key header is missing"})
            try:
                document = json.loads(body.decode("utf-8"))
            except ValueError:
                return self.answer(400, {"error": "the body is not a JSON document"})
            if not isinstance(document, dict):
                return self.answer(400, {"error": "the body is not a JSON object"})
            with lock:
                existing = state["byKey"].get(key)
                if existing is not None:
                    existing["deliveries"] += 1
                    return self.answer(200, {"reference": existing["reference"]})
                entry = {
                    "key": key,
                    "reference": "GEPS-%06d" % (len(state["handovers"]) + 1),
                    "document": document,
                    "deliveries": 1,
                }
                state["handovers"].append(entry)
                state["byKey"][key] = entry
                drop = state["dropAnswerFirst"] > 0
                if drop:
                    state["dropAnswerFirst"] -= 1
                omit = not drop and state["omitReferenceFirst"] > 0
                if omit:
                    state["omitReferenceFirst"] -= 1
            if omit:
                return self.answer(201, {})
            if drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.answer(201, {"reference": entry["reference"]})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
