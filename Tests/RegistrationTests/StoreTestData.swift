import CardCredentials
import Crypto
import Foundation
import Registration
import X509

/// Test data for the store tests: registrations with users, certificates (self-signed P-256, made in memory),
/// powers of attorney, qualifications, and the commits that store them.
enum StoreTestData {
    /// A moment with a fraction below the millisecond, so that a round trip that rounds dates fails.
    static let epoch = Date(timeIntervalSinceReferenceDate: 785_000_000.123_456_789)

    /// `epoch` plus `seconds`.
    static func at(_ seconds: Double) -> Date { epoch.addingTimeInterval(seconds) }

    /// A login challenge as a store keeps it, with an identifier made of `number` (32 hexadecimal digits).
    static func challenge(
        _ number: Int, nonce: [UInt8] = Array(repeating: 7, count: 32), expiresAt: Date, owner: String? = nil
    ) throws -> IssuedChallenge {
        IssuedChallenge(
            try EvidenceChallenge(
                id: String(format: "%032x", number), nonce: nonce, purpose: .login, expiresAt: expiresAt),
            owner: owner, issuedAt: epoch)
    }

    /// A self-signed certificate with a fresh P-256 key: every call gives another fingerprint.
    static func certificate(_ commonName: String, company: String = "株式会社テスト商事") throws -> Certificate {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CountryName("JP")
            OrganizationName(company)
            CommonName(commonName)
        }
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey), notValidBefore: at(-86_400),
            notValidAfter: at(365 * 86_400), issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: Certificate.Extensions(), issuerPrivateKey: Certificate.PrivateKey(key))
    }

    /// A binding of a new certificate to `user`.
    static func binding(
        for user: UserID, _ commonName: String, kind: CredentialKind = .icCard, status: BindingStatus = .active,
        at date: Date
    ) throws -> CertificateBinding {
        var binding = try CertificateBinding(
            certificate: try certificate(commonName), kind: kind, userID: user, at: date)
        binding.recordedStatus = status
        if status != .active { binding.endedAt = date.addingTimeInterval(3_600.5) }
        return binding
    }

    static func businessInformation(_ name: String = "株式会社テスト商事", corporateNumber: String? = nil) throws
        -> BusinessInformation
    {
        try BusinessInformation(
            name: name, postalCode: "100-0013", address: "東京都千代田区霞が関1-1-1", representativeTitle: "代表取締役",
            representativeName: "調達 太郎", corporateNumber: corporateNumber ?? Self.corporateNumber(for: name),
            phone: "03-1234-5678")
    }

    /// A valid 法人番号 of its own for each business name (the default name keeps 4011001098993), since the stores
    /// refuse two businesses with one number.
    static func corporateNumber(for name: String) -> String {
        if name == "株式会社テスト商事" { return "4011001098993" }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let base = (0..<12).map { index in Int((hash >> (UInt64(index) * 5)) % 10) }
        // The check digit: 9 − ((Σ Pn × Qn) mod 9), Pn the n-th digit from the right, Qn 1 for odd n, 2 for even.
        let sum = base.reversed().enumerated().reduce(0) { $0 + $1.element * ($1.offset % 2 == 0 ? 1 : 2) }
        return "\(9 - sum % 9)" + base.map(String.init).joined()
    }

    static func representative(at date: Date) throws -> User {
        User(
            role: .representative,
            information: try UserInformation(
                title: "代表取締役", name: "調達 太郎", postalCode: "1000013", address: "東京都千代田区霞が関1-1-1",
                phone: "03-1234-5678", mail: "taro@example.co.jp"),
            at: date)
    }

    static func agent(at date: Date) throws -> User {
        User(
            role: .agent,
            information: try UserInformation(
                title: "営業部長", name: "入札 花子", postalCode: "530-0001", address: "大阪府大阪市北区梅田1-1",
                phone: "06-1234-5678", fax: "06-1234-5679", mail: "hanako@example.co.jp"),
            at: date)
    }

    /// A registration at version 1 with only a representative and one active IC card.
    static func simpleRegistration(name: String = "株式会社テスト商事", at date: Date = epoch) throws
        -> BusinessRegistration
    {
        var registration = BusinessRegistration(business: try businessInformation(name), at: date)
        let representative = try representative(at: date)
        registration.users = [representative]
        registration.bindings = [try binding(for: representative.id, "調達 太郎", at: date)]
        registration.version = 1
        return registration
    }

    /// A registration at version 1 with everything the model has: a business with a 法人番号, qualifications, a
    /// representative and an agent (deleted status not yet), bindings of several statuses, a power of attorney.
    static func fullRegistration() throws -> BusinessRegistration {
        var registration = BusinessRegistration(business: try businessInformation(), at: epoch)
        registration.qualifications = [
            Qualification(kind: .sales, grade: .a), Qualification(kind: .services, grade: .c),
            Qualification(kind: .manufacturing, grade: .d),
        ]
        let representative = try representative(at: epoch)
        let agent = try agent(at: at(10.25))
        registration.users = [representative, agent]
        var old = try binding(for: representative.id, "調達 太郎 (旧)", status: .superseded, at: at(1))
        let current = try binding(for: representative.id, "調達 太郎", at: at(2))
        old.supersededBy = current.id
        registration.bindings = [
            old, current,
            try binding(for: agent.id, "入札 花子 (削除)", kind: .fileCertificate, status: .removed, at: at(11)),
            try binding(for: agent.id, "入札 花子 (失効)", kind: .myNumberCard, status: .revoked, at: at(12)),
            try binding(for: agent.id, "入札 花子", kind: .myNumberCard, at: at(13)),
        ]
        registration.powersOfAttorney = [
            try PowerOfAttorney(
                agentID: agent.id, principal: "株式会社テスト商事 代表取締役 調達 太郎", agent: "入札 花子",
                authority: ["入札に関する一切の件", "見積に関する件"], validFrom: at(0.001), validUntil: at(180 * 86_400.5),
                provider: "テスト委任状サービス", reference: "POA-2026-0001")
        ]
        registration.version = 1
        return registration
    }

    /// The commit that stores a new `registration` (expected version 0), with a hand-over and a mail after it.
    static func newRegistrationCommit(_ registration: BusinessRegistration, at date: Date = epoch) -> RegistrationCommit
    {
        change(of: registration, kind: "register", at: date)
    }

    /// The commit of `registration` (already at its new version), with a hand-over and a mail that waits for it.
    static func change(
        of registration: BusinessRegistration, kind: String = "updateUserInformation", actor: UserID? = nil,
        at date: Date
    ) -> RegistrationCommit {
        let record = ChangeRecord(
            businessID: registration.id, actor: actor, kind: kind, summary: "利用者情報を更新しました (\(kind))",
            version: registration.version, committedAt: date)
        let handOver = OutboxMessage(
            changeID: record.id, businessID: registration.id, kind: .gepsHandOver,
            payload: Array(#"{"change":"\#(record.id)"}"#.utf8), at: date)
        let mail = OutboxMessage(
            changeID: record.id, businessID: registration.id, kind: .mail, payload: Array(#"{"to":"taro"}"#.utf8),
            after: handOver.id, at: date)
        return RegistrationCommit(
            expectedVersion: registration.version - 1, registration: registration, record: record,
            outbox: [handOver, mail])
    }

    /// `registration` one version on, with its business's telephone number changed.
    static func nextVersion(of registration: BusinessRegistration, phone: String = "03-9999-0000") throws
        -> BusinessRegistration
    {
        var next = registration
        next.business.phone = try PhoneNumber(phone)
        next.version += 1
        return next
    }
}
