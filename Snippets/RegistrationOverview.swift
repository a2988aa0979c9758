// The Registration article's code: a portal over SQLite, and an agent (代理人) who logged in with its
// certificate changing its own mail address, through confirmation (確認) to completion (完了).

// snippet.overview
// snippet.hide
import CardCredentials
import CardSimulator
import Foundation
// snippet.show
import Registration

// snippet.hide
// The store's file goes to a directory of its own; so does the simulator's certification authority.
let directory = FileManager.default.temporaryDirectory.appending(path: "registration-snippet-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
_ = FileManager.default.changeCurrentDirectoryPath(directory.path)
// snippet.show
let store = try SQLiteRegistrationStore(path: "portal.sqlite")
let portal = PortalProfile(name: "調達ポータル", mailFrom: try MailAddress("noreply@portal.example.jp"))
let service = RegistrationService(store: store, portal: portal)

// snippet.hide
/// Registers 株式会社テスト建設 with its representative and an agent, each with a file credential from the
/// simulator's CA, and logs the agent in with its certificate.
func agentSession() async throws -> LoginSession {
    let authority = try TestCertificateAuthority(directory: directory.appending(path: "ca"))
    func credential(name: String) throws -> FileCredential {
        let key = try CardRSAKey.generate()
        let holder = EBiddingHolder(
            companyName: "株式会社テスト建設", name: name, prefecture: "東京都", city: "千代田区", street: "霞が関1-1-1")
        let certificate = try authority.issueEBiddingCertificate(for: holder, publicKey: key, validity: .valid())
        return try FileCredential(
            privateKeyPEM: key.pemRepresentation, certificate: certificate,
            chain: [authority.rootCertificate(.eBidding)])
    }
    func user(name: String, title: String, mail: String) throws -> UserInformation {
        try UserInformation(
            title: title, name: name, postalCode: "1000013", address: "東京都千代田区霞が関1-1-1", phone: "03-1234-5678",
            fax: "03-1234-5679", mail: mail)
    }
    let business = try BusinessInformation(
        name: "株式会社テスト建設", postalCode: "100-0013", address: "東京都千代田区霞が関1-1-1", representativeTitle: "代表取締役",
        representativeName: "入札 太郎", corporateNumber: "4011001098993", phone: "03-1234-5678")
    let representative = try credential(name: "入札 太郎")
    let registered = try await service.commit(
        try await service.prepareRegistration(
            of: business, representative: user(name: "入札 太郎", title: "代表取締役", mail: "taro@example.co.jp"),
            certificate: representative.certificate, kind: .fileCertificate, by: .portal(operator: "snippet")))
    guard let representativeID = registered.registration.representative?.id else {
        throw RegistrationError.changeNotAllowed("the registration has no representative")
    }
    let agent = try credential(name: "代理 花子")
    _ = try await service.commit(
        try await service.prepare(
            .addAgent(
                user(name: "代理 花子", title: "営業部長", mail: "agent@example.co.jp"), agent.certificate,
                .fileCertificate, powerOfAttorney: nil),
            to: registered.registration.id, by: .user(representativeID, binding: nil)))
    let login = CertificateLogin(
        store: store, validator: CertificateValidator(trustAnchors: [authority.rootCertificate(.eBidding)]))
    return try await login.login(try await login.issueChallenge().sign(for: .inProcess, with: agent))
}
let session = try await agentSession()
// snippet.show
// An agent changes its own mail address, acting with the certificate it logged in with.
guard let registration = try await store.registration(ofUser: session.userID) else {
    throw RegistrationError.userNotFound(session.userID)
}
var information = try registration.user(session.userID).information
information.mail = try MailAddress("hanako@example.co.jp")
let prepared = try await service.prepare(
    .updateUserInformation(session.userID, information), to: registration.id, by: session.actor)
for row in prepared.review.rows where row.changes {
    print(row.label, row.before ?? "", "→", row.after ?? "")
}
let done = try await service.commit(prepared)  // 完了: done.changeID is the 受付番号
// snippet.end

// snippet.hide
print(done.changeID, done.outbox.count, "messages in the outbox")
try? FileManager.default.removeItem(at: directory)
