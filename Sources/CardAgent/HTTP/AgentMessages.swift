import Foundation

/// A request as the HTTP layer received it: what ``CardAgent/handle(_:)`` decides on. Any server (Hummingbird,
/// SwiftNIO, a test) fills it in from the wire; the agent needs nothing else.
public struct AgentRequest: Sendable {
    /// The method, upper case (`GET`, `POST`, `OPTIONS`).
    public var method: String
    /// The path, without the query (`/v1/authenticate`).
    public var path: String
    /// The header fields in the order received; names compare case-insensitively and a name may repeat.
    public var headers: [(name: String, value: String)]
    /// The body's bytes (empty when there is none).
    public var body: [UInt8]
    /// The user ID of the program at the other end of the connection, as the kernel says (``LoopbackPeer``); nil
    /// when unknown.
    public var clientUserID: UInt32?

    /// A request from its parts.
    public init(
        method: String, path: String, headers: [(name: String, value: String)], body: [UInt8] = [],
        clientUserID: UInt32? = nil
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.clientUserID = clientUserID
    }

    /// Every value of the header `name` (case-insensitive), in order.
    public func values(of name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// The value of the header `name` when it appears exactly once; nil when it is missing or repeated.
    public func value(of name: String) -> String? {
        let values = values(of: name)
        return values.count == 1 ? values[0] : nil
    }
}

/// The agent's answer: a status, header fields, and a JSON body (empty for a preflight's `204`).
public struct AgentResponse: Sendable {
    /// The HTTP status (`200`, `204`, `403`, …).
    public var status: Int
    /// The header fields to send (`Content-Type`, the CORS fields).
    public var headers: [(name: String, value: String)]
    /// The body: UTF-8 JSON, or empty.
    public var body: [UInt8]

    /// An answer from its parts.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// An answer whose body is `value` as JSON (keys sorted), with `Content-Type: application/json` and
    /// `Cache-Control: no-store`.
    public init(status: Int, json value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every type the agent encodes is made of strings, numbers and arrays, which always encode.
        let body = (try? encoder.encode(value)).map { [UInt8]($0) } ?? Array(#"{"error":{"code":"encoding"}}"#.utf8)
        self.init(
            status: status,
            headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
            body: body)
    }

    /// The value of the header `name` (case-insensitive) when it appears; the first one when it repeats.
    public func value(of name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
