import Foundation
import Testing

@testable import Registration

/// What the reference GEPS server holds.
struct DeliveryGEPSEntry: Decodable {
    var key: String
    var reference: String
    var deliveries: Int
    var document: DeliveryJSON
}

/// Any JSON value, for reading back the documents GEPS took.
enum DeliveryJSON: Decodable, Equatable {
    case string(String), number(Double), bool(Bool), null
    case array([DeliveryJSON]), object([String: DeliveryJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([DeliveryJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: DeliveryJSON].self))
        }
    }

    subscript(key: String) -> DeliveryJSON? {
        if case .object(let members) = self { members[key] } else { nil }
    }
}

extension DeliveryFixtureServer {
    var gepsURL: URL { URL(string: "http://127.0.0.1:\(port)") ?? URL(fileURLWithPath: "/") }

    /// GET /handovers.
    func gepsHandOvers() async throws -> [DeliveryGEPSEntry] {
        let (data, _) = try await URLSession.shared.data(from: gepsURL.appendingPathComponent("handovers"))
        return try JSONDecoder().decode([DeliveryGEPSEntry].self, from: data)
    }
}

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("Delivery: GEPS hand-over over HTTP-JSON against the reference server")
struct DeliveryGEPSTests {
    static func handOver(_ key: String = "6F0D0E2C-0000-4000-8000-000000000001/gepsHandOver", name: String = "株式会社テスト")
        -> GEPSHandOver
    {
        GEPSHandOver(
            idempotencyKey: key,
            document: Array(#"{"kind":"updateUserInformation","商号又は名称":"\#(name)"}"#.utf8))
    }

    @Test func firstDeliveryIsCreatedAndTheSecondIsADuplicateWithTheSameReference() async throws {
        let server = try await DeliveryFixtureServer.start("geps-reference-server.py")
        defer { server.stop() }
        let geps = HTTPJSONGEPSGateway(baseURL: server.gepsURL, timeout: .seconds(10))
        let first = try await geps.handOver(Self.handOver())
        #expect(first == GEPSReceipt(reference: "GEPS-000001", wasDuplicate: false))
        let again = try await geps.handOver(Self.handOver())
        #expect(again == GEPSReceipt(reference: "GEPS-000001", wasDuplicate: true))
        let other = try await geps.handOver(Self.handOver("OTHER/gepsHandOver"))
        #expect(other == GEPSReceipt(reference: "GEPS-000002", wasDuplicate: false))

        let held = try await server.gepsHandOvers()
        #expect(held.map(\.key) == ["6F0D0E2C-0000-4000-8000-000000000001/gepsHandOver", "OTHER/gepsHandOver"])
        #expect(held.first?.deliveries == 2)
        #expect(held.first?.document["商号又は名称"] == .string("株式会社テスト"))
    }

    @Test func unavailableServiceIsRetryable() async throws {
        let server = try await DeliveryFixtureServer.start("geps-reference-server.py", ["--fail-first", "1"])
        defer { server.stop() }
        let geps = HTTPJSONGEPSGateway(baseURL: server.gepsURL, timeout: .seconds(10))
        let error = try #require(
            await deliveryError { () async throws(RegistrationError) in _ = try await geps.handOver(Self.handOver()) })
        guard case .gepsRejected(let status, let message) = error else {
            Issue.record("expected gepsRejected, got \(error)")
            return
        }
        #expect(status == 503)
        #expect(message.contains("メンテナンス中"))
        #expect(error.isRetryable)
        #expect(try await server.gepsHandOvers().isEmpty)
        #expect(try await geps.handOver(Self.handOver()).wasDuplicate == false)
    }

    @Test(arguments: [(429, true), (408, true), (500, true), (404, false), (409, false)])
    func statusesMapToRetryableOrPermanent(status: Int, retryable: Bool) async throws {
        let server = try await DeliveryFixtureServer.start(
            "geps-reference-server.py", ["--fail-first", "1", "--fail-status", "\(status)"])
        defer { server.stop() }
        let geps = HTTPJSONGEPSGateway(baseURL: server.gepsURL, timeout: .seconds(10))
        let error = try #require(
            await deliveryError { () async throws(RegistrationError) in _ = try await geps.handOver(Self.handOver()) })
        guard case .gepsRejected(let got, _) = error else {
            Issue.record("expected gepsRejected, got \(error)")
            return
        }
        #expect(got == status)
        #expect(error.isRetryable == retryable)
    }

    @Test func faultsCanBeSetWhileTheServerRuns() async throws {
        let server = try await DeliveryFixtureServer.start("geps-reference-server.py")
        defer { server.stop() }
        var control = URLRequest(url: server.gepsURL.appendingPathComponent("control"))
        control.httpMethod = "POST"
        control.httpBody = Data(#"{"failFirst": 1, "failStatus": 502}"#.utf8)
        let (_, response) = try await URLSession.shared.data(for: control)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let geps = HTTPJSONGEPSGateway(baseURL: server.gepsURL, timeout: .seconds(10))
        let error = await deliveryError { () async throws(RegistrationError) in
            _ = try await geps.handOver(Self.handOver())
        }
        #expect(error == .gepsRejected(status: 502, message: "GEPS is in maintenance (メンテナンス中)"))
        #expect(try await geps.handOver(Self.handOver()) == GEPSReceipt(reference: "GEPS-000001", wasDuplicate: false))
    }

    @Test func malformedDocumentIsRefusedForGood() async throws {
        let server = try await DeliveryFixtureServer.start("geps-reference-server.py")
        defer { server.stop() }
        let geps = HTTPJSONGEPSGateway(baseURL: server.gepsURL, timeout: .seconds(10))
        let error = try #require(
            await deliveryError { () async throws(RegistrationError) in
                _ = try await geps.handOver(
                    GEPSHandOver(idempotencyKey: "K/gepsHandOver", document: Array("{\"a\":".utf8)))
            })
        guard case .gepsRejected(let status, let message) = error else {
            Issue.record("expected gepsRejected, got \(error)")
            return
        }
        #expect(status == 400)
        #expect(message == "the body is not a JSON document")
        #expect(!error.isRetryable)
        #expect(try await server.gepsHandOvers().isEmpty)
    }

    @Test func lostAnswerIsRetriedAndGEPSHoldsTheHandOverOnce() async throws {
        let server = try await DeliveryFixtureServer.start("geps-reference-server.py", ["--drop-answer-first", "1"])
        defer { server.stop() }
        let geps = HTTPJSONGEPSGateway(baseURL: server.gepsURL, timeout: .seconds(10))
        let error = try #require(
            await deliveryError { () async throws(RegistrationError) in _ = try await geps.handOver(Self.handOver()) })
        guard case .gepsUnavailable = error else {
            Issue.record("expected gepsUnavailable, got \(error)")
            return
        }
        #expect(error.isRetryable)
        let receipt = try await geps.handOver(Self.handOver())
        #expect(receipt == GEPSReceipt(reference: "GEPS-000001", wasDuplicate: true))
        let held = try await server.gepsHandOvers()
        #expect(held.count == 1)
        #expect(held.first?.deliveries == 2)
    }

    @Test("201 without a reference: GEPS took it, so it is asked again with the same key, not refused for good")
    func createdWithoutReferenceIsRetriedWithTheSameKey() async throws {
        let server = try await DeliveryFixtureServer.start("geps-reference-server.py", ["--omit-reference-first", "1"])
        defer { server.stop() }
        let geps = HTTPJSONGEPSGateway(baseURL: server.gepsURL, timeout: .seconds(10))
        let error = try #require(
            await deliveryError { () async throws(RegistrationError) in _ = try await geps.handOver(Self.handOver()) })
        guard case .gepsRejected(let status, let message) = error else {
            Issue.record("expected gepsRejected, got \(error)")
            return
        }
        #expect(status == 201)
        #expect(message.contains("no reference"), "\(message)")
        #expect(error.isRetryable, "GEPS holds the document: a refusal for good would make a person enter it twice")
        let receipt = try await geps.handOver(Self.handOver())
        #expect(receipt == GEPSReceipt(reference: "GEPS-000001", wasDuplicate: true))
        let held = try await server.gepsHandOvers()
        #expect(held.count == 1)
        #expect(held.first?.deliveries == 2)
    }

    @Test func serverNotListeningIsUnavailable() async throws {
        let server = try await DeliveryFixtureServer.start("geps-reference-server.py")
        let url = server.gepsURL
        server.stop()
        let geps = HTTPJSONGEPSGateway(baseURL: url, timeout: .seconds(5))
        let error = try #require(
            await deliveryError { () async throws(RegistrationError) in _ = try await geps.handOver(Self.handOver()) })
        guard case .gepsUnavailable = error else {
            Issue.record("expected gepsUnavailable, got \(error)")
            return
        }
        #expect(error.isRetryable)
    }

    @Test(arguments: ["", "with space", "line\r\nbreak", String(repeating: "k", count: 201)])
    func badIdempotencyKeysAreRefusedBeforeSending(key: String) async throws {
        let geps = HTTPJSONGEPSGateway(baseURL: URL(fileURLWithPath: "/nonexistent"), timeout: .seconds(1))
        let error = await deliveryError { () async throws(RegistrationError) in
            _ = try await geps.handOver(Self.handOver(key))
        }
        guard case .invalidField(let field, _) = try #require(error) else {
            Issue.record("expected invalidField, got \(String(describing: error))")
            return
        }
        #expect(field == "Idempotency-Key")
    }
}
