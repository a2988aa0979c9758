// The IC card renewal article's code: a renewal set up over the reader "Virtual PCD 00 00" (pcscd) and driven
// screen by screen. The hidden setup registers a business whose representative holds a simulated card close to
// expiry; with `--vpcd` the run serves that card and then the new one in the reader, as a person would swap them.

// snippet.setUp
import CardCredentials
// snippet.hide
import CardSimulator
// snippet.show
import CertificateRenewal
// snippet.hide
import Foundation
// snippet.show
import PCSC
import Registration
// snippet.hide
import X509

let directory = FileManager.default.temporaryDirectory.appending(path: "renewal-snippet-\(UUID().uuidString)")
let authority = try TestCertificateAuthority(directory: directory)
let holder = EBiddingHolder(
    companyName: "株式会社テスト建設", name: "入札\u{3000}太郎", prefecture: "東京都", city: "千代田区", street: "霞が関1-1-1")
let typed = "OLD-PIN-1234"
let typedNew = "NEW-PIN-5678"
let currentCard = try PrivateCAICCard.issue(
    by: authority, holder: holder, pin: typed, validity: .expiring(inDays: 20))
let newCard = try PrivateCAICCard.issue(by: authority, holder: holder, pin: typedNew)
let acceptedCARoots = [authority.rootCertificate(.eBidding)]
let currentCRLs = [try CertificateRevocationList(bytes: authority.publishCRL(for: .eBidding))]

/// Registers the business with the representative's current card and logs in with it.
func representativeSession(service: RegistrationService) async throws -> LoginSession {
    let business = try BusinessInformation(
        name: holder.companyName, postalCode: "100-0013", address: "東京都千代田区霞が関1-1-1", representativeTitle: "代表取締役",
        representativeName: "入札 太郎", corporateNumber: "4011001098993", phone: "03-1234-5678")
    let representative = try UserInformation(
        title: "代表取締役", name: "入札 太郎", postalCode: "1000013", address: "東京都千代田区霞が関1-1-1", phone: "03-1234-5678",
        fax: "03-1234-5679", mail: "taro@example.co.jp")
    let certificate = try Certificate(derEncoded: currentCard.snapshot.holderCertificate)
    _ = try await service.commit(
        try await service.prepareRegistration(
            of: business, representative: representative, certificate: certificate, kind: .icCard,
            by: .portal(operator: "snippet")))
    let loginSlot = SimulatedSlot(name: "Login")
    loginSlot.insert(currentCard)
    defer { loginSlot.remove() }
    let client = try await ICCard.connect(
        transport: try await loginSlot.connect(), profile: .procurementIdentitySimulator)
    let policy = ICCardProfile.procurementIdentitySimulator.pinPolicy
    let key = try await client.signingKey(pin: try SecretPIN(typed, policy: policy))
    let login = CertificateLogin(
        store: service.store, validator: CertificateValidator(trustAnchors: acceptedCARoots))
    return try await login.login(try await login.issueChallenge().sign(for: .inProcess, with: key))
}
let service = RegistrationService(
    store: InMemoryRegistrationStore(),
    portal: PortalProfile(name: "電子入札システム", mailFrom: try MailAddress("noreply@portal.example.jp")))
let loginSession = try await representativeSession(service: service)

// snippet.show
let environment = LifecycleEnvironment(
    service: service,  // the portal's RegistrationService
    validator: CertificateValidator(
        trustAnchors: acceptedCARoots, crls: currentCRLs, revocation: .whenAvailable),
    cardProfiles: [.procurementIdentitySimulator],  // the IC cards the portal reads
    cardWaitTimeout: .seconds(120))
let slot = try PCSCContext().slot(named: "Virtual PCD 00 00")
let renewal = ICCardRenewal(session: loginSession, slot: slot, environment: environment)
// snippet.end

// snippet.hide
if CommandLine.arguments.contains("--vpcd") {
    // The current card goes into the reader; once the flow asks for the swap, the new card replaces it.
    let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: 0))
    try await server.insert(currentCard)
    let swapper = Task {
        while true {
            if case .swapCards = await renewal.step { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await server.swap(to: newCard)
    }
    // snippet.show
    // snippet.drive
    let policy = ICCardProfile.procurementIdentitySimulator.pinPolicy

    try await renewal.readCurrentCard()  // waits for the card, checks it
    let pin = try SecretPIN(typed, policy: policy)
    do {
        try await renewal.verifyCurrentPIN(pin)
    } catch let error where error.code == .wrongPIN {
        print("\(error.triesLeft ?? 0) tries left")  // the step stays enterCurrentPIN: ask again
    } catch {
        throw error  // anything else: show error.description; 戻る starts over
    }
    try await renewal.swapCards()  // waits for the removal and the new card
    try await renewal.verifyNewPIN(try SecretPIN(typedNew, policy: policy))
    if case .confirm(let confirmation) = await renewal.step {
        for block in confirmation.blocks {
            print(block.heading)  // 現在使用しているICカード / 新規に使用するICカード
            for row in block.rows { print("\(row.label)\t: \(row.value)") }
        }
        confirmation.notes.forEach { print($0) }
    }
    let completion = try await renewal.update()  // 更新: one transaction
    // snippet.end
    // snippet.hide
    try await swapper.value
    print(RenewalCompletion.message, completion.changeID)
    await server.remove()
}
try? FileManager.default.removeItem(at: directory)
