public import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The reference hand-over (連携) to GEPS (政府電子調達システム): one JSON document per change, posted over HTTP
/// with an idempotency key.
///
/// ## Wire protocol
///
/// This is the protocol an integrator implements on the GEPS side (a small service in front of GEPS):
///
/// ```
/// POST <baseURL>/handovers
/// Content-Type: application/json
/// Idempotency-Key: 4F1C…-…/gepsHandOver
///
/// { …the change's JSON document, as the outbox holds it… }
/// ```
///
/// - **201 Created** with `{"reference": "…"}`: GEPS took the hand-over and gives its reference.
/// - **200 OK** with `{"reference": "…"}`: GEPS had already taken a hand-over with this `Idempotency-Key` (an
///   earlier delivery whose answer was lost); the reference is the one given the first time, and GEPS must not
///   take the document a second time.
/// - **4xx** (other than 408 and 429): the hand-over is refused for good (a malformed document, an unknown
///   business); the outbox marks it failed and a person looks at it. A body `{"error": "…"}` (or plain text) is
///   kept as the reason.
/// - **5xx, 408, 429**: GEPS cannot take it now; the outbox tries again later with backoff, with the same key.
///
/// - **200 or 201 without a reference** (no body, not JSON, an empty `reference`): GEPS took the document but did
///   not say under which reference. This is not a refusal (GEPS has the document; a person re-entering it would
///   make a duplicate): it is ``RegistrationError/gepsRejected(status:message:)`` with the 2xx status, which is
///   retryable, and the outbox asks again later with the same key, which a conforming service answers with 200
///   and the reference. After the outbox's last try the message is marked failed, naming the missing reference.
///
/// The key is the same on every retry of one change, so the receiving side can keep a table of keys it has seen;
/// a key is at most 200 ASCII characters. Any other answer (a redirect at the end of the chain, another 1xx–3xx
/// status) is a refusal for good. The whole protocol, for the people who write the receiving side, is in
/// `Documentation/GEPSHandOver.md`.
///
/// Transport failures (no connection, a reset, no answer within ``timeout``) are
/// ``RegistrationError/gepsUnavailable(_:)``, tried again.
///
/// ```swift
/// let geps = HTTPJSONGEPSGateway(baseURL: URL(string: "https://geps-bridge.example.go.jp/api")!)
/// let receipt = try await geps.handOver(GEPSHandOver(idempotencyKey: key, document: json))
/// ```
public struct HTTPJSONGEPSGateway: GEPSGateway {
    /// The service's base URL; hand-overs go to `<baseURL>/handovers`.
    public var baseURL: URL
    /// How long one request may take.
    public var timeout: Duration
    private let session: URLSession

    /// A gateway to the service at `baseURL`.
    public init(baseURL: URL, timeout: Duration = .seconds(30)) {
        self.baseURL = baseURL
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        let seconds = Self.seconds(timeout)
        configuration.timeoutIntervalForRequest = seconds
        configuration.timeoutIntervalForResource = seconds
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    /// Posts `handOver` to `<baseURL>/handovers` and reads GEPS's receipt.
    ///
    /// - Throws: ``RegistrationError/gepsRejected(status:message:)`` for a refusal (retryable for 5xx, 408 and
    ///   429), ``RegistrationError/gepsUnavailable(_:)`` when GEPS could not be reached.
    public func handOver(_ handOver: GEPSHandOver) async throws(RegistrationError) -> GEPSReceipt {
        guard !handOver.idempotencyKey.isEmpty, handOver.idempotencyKey.utf8.count <= 200,
            handOver.idempotencyKey.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
        else {
            throw .invalidField(field: "Idempotency-Key", reason: "it must be 1 to 200 ASCII characters, no spaces")
        }
        var request = URLRequest(url: baseURL.appendingPathComponent("handovers"))
        request.httpMethod = "POST"
        request.timeoutInterval = Self.seconds(timeout)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue(handOver.idempotencyKey, forHTTPHeaderField: "Idempotency-Key")
        request.httpBody = Data(handOver.document)

        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw .gepsUnavailable("\(request.url?.absoluteString ?? "GEPS"): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else {
            throw .gepsUnavailable("the answer was not HTTP")
        }
        let status = http.statusCode
        switch status {
        case 200, 201:
            guard let answer = try? JSONDecoder().decode(Answer.self, from: data), let reference = answer.reference,
                !reference.isEmpty
            else {
                throw .gepsRejected(
                    status: status,
                    message:
                        "GEPS took the hand-over but its answer has no reference (\(Self.excerpt(data))); it will be "
                        + "asked again with the same Idempotency-Key")
            }
            return GEPSReceipt(reference: reference, wasDuplicate: status == 200)
        default:
            let reason = (try? JSONDecoder().decode(Answer.self, from: data))?.error ?? Self.excerpt(data)
            throw .gepsRejected(status: status, message: reason.isEmpty ? "no reason given" : reason)
        }
    }

    private struct Answer: Decodable {
        var reference: String?
        var error: String?
    }

    private static func excerpt(_ data: Data) -> String {
        let text = String(decoding: data.prefix(200), as: UTF8.self)
        return text.unicodeScalars.filter { $0.properties.generalCategory != .control }.map(String.init).joined()
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let components = duration.components
        return max(0.001, TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18)
    }
}
