// The GEPS answer as HTTPJSONGEPSGateway reads it: the gateway posts a hand-over with its own URLSession to a
// loopback HTTP server in this process, which answers with the input — three ASCII digits for the HTTP status (201
// when the input does not begin with three digits), then the body (GEPS's JSON answer).
import Foundation
import FuzzSupport
import Registration

let server = LoopbackServer()

let gateway: HTTPJSONGEPSGateway? = server.flatMap { server in
    URL(string: "http://127.0.0.1:\(server.port)/geps").map { HTTPJSONGEPSGateway(baseURL: $0, timeout: .seconds(10)) }
}

let handOver = GEPSHandOver(
    idempotencyKey: "fuzz-0001", document: Array(#"{"change":"registration","business":"B-0001"}"#.utf8))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    guard let server, let gateway else { return 0 }
    var status = 201
    var body = Array(bytes)
    if bytes.count >= 3, bytes[0..<3].allSatisfy({ (0x30...0x39).contains($0) }) {
        status = bytes[0..<3].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        body = Array(bytes[3...])
    }
    let head =
        "HTTP/1.1 \(status) Fuzz\r\nContent-Type: application/json; charset=utf-8\r\n"
        + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
    let answer = Array(head.utf8) + body
    let served = server.serveOne { connection in
        LoopbackServer.readHTTPRequest(connection)
        LoopbackServer.write(connection, answer)
        LoopbackServer.finish(connection)
    }
    runBlocking {
        do {
            let receipt = try await gateway.handOver(handOver)
            precondition(!receipt.reference.isEmpty, "a receipt without a reference")
        } catch {
            _ = "\(error)"
        }
    }
    served.wait()
    return 0
}
