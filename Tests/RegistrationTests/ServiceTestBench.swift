import CardCredentials
import CardSimulator
import Foundation
import Registration
import Synchronization
import X509

/// A clock the tests move by hand.
final class TestClock: Sendable {
    private let current: Mutex<Date>
    init(_ date: Date = Date()) { current = Mutex(date) }
    var now: Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A portal over an in-memory store, a test e-bidding CA, and helpers to make users and their file credentials.
struct ServiceTestBench {
    static let companyName = "株式会社テスト建設"
    let directory: URL
    let authority: TestCertificateAuthority
    let store: any RegistrationStore
    let clock: TestClock
    let service: RegistrationService
    let portal: PortalProfile

    init(store: (any RegistrationStore)? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("registration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        authority = try TestCertificateAuthority(directory: directory)
        self.store = store ?? InMemoryRegistrationStore()
        let clock = TestClock()
        self.clock = clock
        portal = PortalProfile(name: "調達ポータル", mailFrom: try MailAddress("noreply@portal.example.jp"))
        service = RegistrationService(store: self.store, portal: portal, now: { clock.now })
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// A file credential whose certificate the test CA issued for `name` of `company`.
    func credential(
        name: String = "入札 太郎", company: String = companyName, validity: CertificateValidity? = nil
    ) throws -> FileCredential {
        let key = try CardRSAKey.generate()
        let holder = EBiddingHolder(
            companyName: company, name: name, prefecture: "東京都", city: "千代田区", street: "霞が関1-1-1")
        let certificate = try authority.issueEBiddingCertificate(
            for: holder, publicKey: key,
            validity: validity ?? .valid(days: 395, from: clock.now.addingTimeInterval(-60)))
        return try FileCredential(
            privateKeyPEM: key.pemRepresentation, certificate: certificate,
            chain: [authority.rootCertificate(.eBidding)])
    }

    func validator(crls: [CertificateRevocationList] = []) -> CertificateValidator {
        CertificateValidator(
            trustAnchors: [authority.rootCertificate(.eBidding)], crls: crls, revocation: .whenAvailable)
    }

    func login() -> CertificateLogin {
        let clock = clock
        return CertificateLogin(store: store, validator: validator(), now: { clock.now })
    }

    static func business(name: String = companyName, corporateNumber: String? = "4011001098993") throws
        -> BusinessInformation
    {
        try BusinessInformation(
            name: name, postalCode: "100-0013", address: "東京都千代田区霞が関1-1-1", representativeTitle: "代表取締役",
            representativeName: "入札 太郎", corporateNumber: corporateNumber, phone: "03-1234-5678")
    }

    static func user(name: String = "入札 太郎", mail: String = "taro@example.co.jp", title: String = "代表取締役") throws
        -> UserInformation
    {
        try UserInformation(
            title: title, name: name, postalCode: "1000013", address: "東京都千代田区霞が関1-1-1", phone: "03-1234-5678",
            fax: "03-1234-5679", mail: mail)
    }

    /// Registers the business with its representative and an agent; returns the registration and credentials.
    func registered() async throws -> (
        registration: BusinessRegistration, representative: FileCredential,
        agent: FileCredential
    ) {
        let representative = try credential()
        let prepared = try await service.prepareRegistration(
            of: Self.business(), representative: Self.user(), certificate: representative.certificate,
            kind: .fileCertificate, by: .portal(operator: "test"))
        let registration = try await service.commit(prepared).registration
        let agent = try credential(name: "代理 花子")
        let representativeID = try require(registration.representative?.id)
        let added = try await service.prepare(
            .addAgent(
                Self.user(name: "代理 花子", mail: "hanako@example.co.jp", title: "営業部長"), agent.certificate,
                .fileCertificate, powerOfAttorney: nil),
            to: registration.id, by: .user(representativeID, binding: nil))
        let done = try await service.commit(added)
        return (done.registration, representative, agent)
    }
}

/// `#require` outside a test function.
func require<T>(_ value: T?, _ what: String = "value") throws -> T {
    guard let value else { throw TestFailure(what: what) }
    return value
}

struct TestFailure: Error { let what: String }
