import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Registration
import RegistrationPostgres
import SimulatorDesk
import SwiftASN1
import Synchronization
import Testing
import X509

@testable import portal_server

/// A clock the tests move by hand.
final class TestClock: Sendable {
    private let current = Mutex(Date())
    var now: Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// The audit lines a server wrote, for the tests to read.
final class AuditRecorder: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }
    private let lines = Mutex<[Line]>([])
    var all: [Line] { lines.withLock { $0 } }
    func append(_ line: Line) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let recorder: AuditRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            recorder.append(
                Line(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
        }
    }

    var logger: Logger { Logger(label: "portal-server.audit") { _ in Handler(recorder: self) } }
}

/// Which store a test runs on: a real SQLite file, or the test bench's PostgreSQL server in a schema of its own.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// The PostgreSQL server of the test bench, as RegistrationTests' PostgresTestDatabase names it (the same URL, the
/// same `t_<seconds>_<random>` schemas, which its clean-up drops after an hour).
enum PostgresTestServer {
    static var url: String {
        ProcessInfo.processInfo.environment["PI_TEST_POSTGRES_URL"]
            ?? "postgres://pi_test:pi_test@127.0.0.1:5432/pi_test"
    }

    static func store() async throws -> PostgresRegistrationStore {
        var configuration = try PostgresStoreConfiguration(url: url, environment: [:])
        configuration.schema =
            "t_\(Int(Date().timeIntervalSince1970))_"
            + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        configuration.maximumConnections = 2
        configuration.applicationName = "pi-test-server"
        return try await PostgresRegistrationStore(configuration)
    }
}

/// A registered business (a representative and an agent, each with a file credential from a test CA), a store,
/// and the server's parts over them.
final class ServerTestBench: Sendable {
    static let companyName = "株式会社テスト建設"
    static let origin = "http://127.0.0.1:8080"

    let directory: URL
    let authority: TestCertificateAuthority
    let store: any RegistrationStore
    let clock = TestClock()
    let service: RegistrationService
    let sessions: SessionDesk
    let registry = PrometheusCollectorRegistry()
    let audit = AuditRecorder()
    let settings: PortalServerSettings
    /// The reissue's certification authority (the example's, in a folder); its root is trusted for login.
    let reissueAuthority: FolderReissueAuthority

    init(_ kind: StoreKind = .sqlite, settings: PortalServerSettings? = nil) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("portal-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        authority = try TestCertificateAuthority(directory: directory.appendingPathComponent("ca"))
        reissueAuthority = try FolderReissueAuthority(folder: directory.appendingPathComponent("reissue-ca").path)
        switch kind {
        case .sqlite: store = try SQLiteRegistrationStore(path: directory.appendingPathComponent("portal.sqlite").path)
        case .postgres: store = try await PostgresTestServer.store()
        }
        let clock = clock
        service = RegistrationService(
            store: store, portal: PortalProfile(name: "調達ポータル", mailFrom: try MailAddress("noreply@portal.example.jp")),
            now: { clock.now })
        self.settings = settings ?? PortalServerSettings(origin: Self.origin, secureCookies: false)
        sessions = SessionDesk(store: store, idleLifetime: self.settings.sessionLifetime, now: { clock.now })
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// A store object of its own over the same database, as a second instance of the server opens it: the SQLite
    /// file again, or a pool of its own on the same PostgreSQL schema.
    func secondStore() async throws -> any RegistrationStore {
        if let postgres = store as? PostgresRegistrationStore {
            return try await PostgresRegistrationStore(postgres.configuration)
        }
        return try SQLiteRegistrationStore(path: directory.appendingPathComponent("portal.sqlite").path)
    }

    var dependencies: PortalServerDependencies { dependencies(over: store) }

    /// The dependencies of an instance over `store` (a second instance: its own store object on the same database).
    func dependencies(over store: any RegistrationStore) -> PortalServerDependencies {
        let clock = clock
        let service = RegistrationService(store: store, portal: service.portal, now: { clock.now })
        let sessions = SessionDesk(store: store, idleLifetime: settings.sessionLifetime, now: { clock.now })
        return PortalServerDependencies(
            store: store, service: service,
            login: CertificateLogin(
                store: store, validator: validator, origin: try! PortalOrigin(settings.origin), now: { clock.now }),
            sessions: sessions,
            renewal: RemoteICCardRenewal(
                environment: LifecycleEnvironment(service: service, validator: validator),
                origin: try! PortalOrigin(settings.origin)),
            certificateUpdate: RemoteCertificateUpdate(
                environment: LifecycleEnvironment(service: service, validator: validator),
                origin: try! PortalOrigin(settings.origin)),
            powerOfAttorney: RemotePowerOfAttorney(
                environment: LifecycleEnvironment(service: service, validator: validator),
                origin: try! PortalOrigin(settings.origin), provider: NoPowerOfAttorneyProvider(), linkage: nil),
            revocation: RemoteRevocationRequest(
                environment: LifecycleEnvironment(service: service, validator: validator),
                origin: try! PortalOrigin(settings.origin), authority: SimulatorRevocationDesk(authority: authority)),
            reissue: ReissueDesk(
                environment: LifecycleEnvironment(service: service, validator: validator),
                accounts: StoredReissueAccounts(store: store), authority: reissueAuthority),
            registry: registry, now: { clock.now }, audit: audit.logger)
    }

    var validator: CertificateValidator {
        CertificateValidator(
            trustAnchors: [authority.rootCertificate(.eBidding), reissueAuthority.root], revocation: .whenAvailable)
    }

    func application(over store: (any RegistrationStore)? = nil) throws -> some ApplicationProtocol {
        try buildApplication(
            settings: settings, dependencies: dependencies(over: store ?? self.store),
            address: .hostname("127.0.0.1", port: 0),
            logger: Logger(label: "portal-server-test"))
    }

    /// A file credential whose certificate the test CA issued for `name` of the company.
    func credential(name: String = "入札 太郎", company: String = companyName) throws -> FileCredential {
        let key = try CardRSAKey.generate()
        let holder = EBiddingHolder(
            companyName: company, name: name, prefecture: "東京都", city: "千代田区", street: "霞が関1-1-1")
        let certificate = try authority.issueEBiddingCertificate(
            for: holder, publicKey: key, validity: .valid(days: 395, from: clock.now.addingTimeInterval(-60)))
        return try FileCredential(
            privateKeyPEM: key.pemRepresentation, certificate: certificate,
            chain: [authority.rootCertificate(.eBidding)])
    }

    static func user(name: String, mail: String, title: String) throws -> UserInformation {
        try UserInformation(
            title: title, name: name, postalCode: "1000013", address: "東京都千代田区霞が関1-1-1", phone: "03-1234-5678",
            fax: "03-1234-5679", mail: mail)
    }

    struct Registered: Sendable {
        var businessID: BusinessID
        var representativeID: UserID
        var agentID: UserID
        var representative: FileCredential
        var agent: FileCredential
    }

    /// 新規登録 (by the portal, as `portal register` does) and an agent added by the representative.
    func registered() async throws -> Registered {
        let representative = try credential()
        let business = try BusinessInformation(
            name: Self.companyName, postalCode: "100-0013", address: "東京都千代田区霞が関1-1-1", representativeTitle: "代表取締役",
            representativeName: "入札 太郎", corporateNumber: nil, phone: "03-1234-5678")
        let prepared = try await service.prepareRegistration(
            of: business, representative: Self.user(name: "入札 太郎", mail: "taro@example.co.jp", title: "代表取締役"),
            certificate: representative.certificate, kind: .fileCertificate, by: .portal(operator: "test"))
        let registration = try await service.commit(prepared).registration
        let representativeID = try #require(registration.representative?.id)
        let agent = try credential(name: "代理 花子")
        let added = try await service.commit(
            try await service.prepare(
                .addAgent(
                    Self.user(name: "代理 花子", mail: "hanako@example.co.jp", title: "営業部長"), agent.certificate,
                    .fileCertificate, powerOfAttorney: nil),
                to: registration.id, by: .user(representativeID, binding: nil)))
        let agentID = try #require(added.registration.users.first { $0.role == .agent }?.id)
        return Registered(
            businessID: registration.id, representativeID: representativeID, agentID: agentID,
            representative: representative, agent: agent)
    }

    /// The registration's version and the length of its history: what an error must leave as it was.
    func state(_ id: BusinessID) async throws -> [Int] {
        let registration = try #require(try await store.registration(id))
        return [registration.version, try await store.history(of: id).count]
    }
}

// MARK: Talking to the server

/// A login challenge as the server sends it: the library's own JSON form.
typealias ChallengeReply = EvidenceChallenge

struct ProblemReply: Decodable {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var rule: String
    var field: String?
}

extension TestClientProtocol {
    /// A request as a browser page of the portal's origin sends it.
    @discardableResult
    func send(
        _ uri: String, _ method: HTTPRequest.Method, cookie: String? = nil, json: String? = nil,
        headers extra: HTTPFields = [:], origin: String? = ServerTestBench.origin
    ) async throws -> TestResponse {
        var headers = extra
        if let origin, headers[.origin] == nil { headers[.origin] = origin }
        if let cookie { headers[.cookie] = cookie }
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(
            uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    func challenge() async throws -> ChallengeReply {
        let response = try await send("/api/v1/login/challenge", .post)
        #expect(response.status == .created)
        return try JSONDecoder().decode(ChallengeReply.self, from: Data(buffer: response.body))
    }

    /// The evidence for `challenge`, signed by `credential` for `origin` (the server's by default), as JSON; with
    /// `bytes`, the signature is over those bytes instead.
    func answer(
        _ challenge: ChallengeReply, with credential: FileCredential, bytes: [UInt8]? = nil,
        origin: String = ServerTestBench.origin
    ) async throws -> String {
        var evidence = try await challenge.sign(for: try PortalOrigin(origin), with: credential)
        if let bytes { evidence.signature = try await credential.sign(bytes, algorithm: .rsaPKCS1SHA256) }
        return String(decoding: try JSONEncoder().encode(evidence), as: UTF8.self)
    }

    /// Logs in with `credential`; returns the `Cookie` header of the session.
    func login(_ credential: FileCredential) async throws -> String {
        let body = try await answer(try await challenge(), with: credential)
        let response = try await send("/api/v1/login", .post, json: body)
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        let setCookie = try #require(response.headers[.setCookie])
        return String(setCookie.prefix { $0 != ";" })
    }
}

extension TestResponse {
    /// The problem document; fails the test unless the answer is `application/problem+json`.
    func problem() throws -> ProblemReply {
        #expect(headers[.contentType] == "application/problem+json")
        return try JSONDecoder().decode(ProblemReply.self, from: Data(buffer: body))
    }

    func json<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(buffer: body))
    }
}

extension Data {
    init(buffer: ByteBuffer) { self.init(buffer.readableBytesView) }
}

/// A certificate's DER.
func der(_ certificate: Certificate) throws -> [UInt8] {
    var serializer = DER.Serializer()
    try serializer.serialize(certificate)
    return serializer.serializedBytes
}
