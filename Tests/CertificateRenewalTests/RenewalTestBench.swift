import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import ISO7816
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

/// A portal over an in-memory store with a test CA, a business whose representative is registered with a
/// simulated IC card close to expiry, and helpers to issue new cards and run renewals in a simulated slot.
struct RenewalBench {
    static let companyName = "株式会社テスト建設"
    static let holder = EBiddingHolder(
        companyName: companyName, name: "入札\u{3000}太郎", prefecture: "東京都", city: "千代田区", street: "霞が関1-1-1")
    static let currentPIN = "OLD-PIN-1234"
    static let newPIN = "NEW-PIN-5678"
    static let wrongPIN = "NOT-THE-PIN"
    static var policy: PINPolicy { ICCardProfile.procurementIdentitySimulator.pinPolicy }

    let directory: URL
    let authority: TestCertificateAuthority
    let store: any RegistrationStore
    let clock: TestClock
    let service: RegistrationService
    let registration: BusinessRegistration
    let userID: UserID
    let binding: CertificateBinding
    let currentCard: PrivateCAICCard

    /// Registers the business with its representative's current card.
    ///
    /// - Parameters:
    ///   - currentValidity: The current card's validity (expiring in 20 days by default).
    ///   - sqlite: Whether the store is a SQLite file in the bench's directory (``databasePath``), else in memory.
    ///   - given: A store to use instead (a PostgreSQL store).
    init(
        currentValidity: CertificateValidity? = nil, currentHolder: EBiddingHolder = Self.holder, sqlite: Bool = false,
        store given: (any RegistrationStore)? = nil
    ) async throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "renewal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        authority = try TestCertificateAuthority(directory: directory)
        store =
            try given
            ?? (sqlite
                ? try SQLiteRegistrationStore(path: directory.appending(path: "portal.sqlite").path)
                : InMemoryRegistrationStore())
        let clock = TestClock()
        self.clock = clock
        service = RegistrationService(
            store: store,
            portal: PortalProfile(name: "電子入札システム", mailFrom: try MailAddress("noreply@portal.example.jp")),
            now: { clock.now })
        currentCard = try PrivateCAICCard.issue(
            by: authority, holder: currentHolder, pin: Self.currentPIN,
            validity: currentValidity ?? .expiring(inDays: 20, from: clock.now))
        let business = try BusinessInformation(
            name: Self.companyName, postalCode: "100-0013", address: "東京都千代田区霞が関1-1-1", representativeTitle: "代表取締役",
            representativeName: "入札 太郎", corporateNumber: "4011001098993", phone: "03-1234-5678")
        let user = try UserInformation(
            title: "代表取締役", name: "入札 太郎", postalCode: "1000013", address: "東京都千代田区霞が関1-1-1", phone: "03-1234-5678",
            fax: "03-1234-5679", mail: "taro@example.co.jp")
        let prepared = try await service.prepareRegistration(
            of: business, representative: user, certificate: try Self.certificate(of: currentCard), kind: .icCard,
            by: .portal(operator: "test"))
        registration = try await service.commit(prepared).registration
        userID = try requireValue(registration.representative?.id)
        binding = try requireValue(registration.bindings.first)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// The SQLite file of a bench made with `sqlite: true`.
    var databasePath: String { directory.appending(path: "portal.sqlite").path }

    /// A new card from the bench's CA (or `authority`), for the registered holder unless told.
    func newCard(
        holder: EBiddingHolder = Self.holder, validity: CertificateValidity? = nil,
        authority: TestCertificateAuthority? = nil, maximumTries: Int = 10
    ) throws -> PrivateCAICCard {
        try PrivateCAICCard.issue(
            by: authority ?? self.authority, holder: holder, pin: Self.newPIN, maximumTries: maximumTries,
            validity: validity ?? .valid(days: 395, from: clock.now))
    }

    /// The environment: the bench's CA trusted, its CRLs when given.
    func environment(crls: [CertificateRevocationList] = [], timeout: Duration = .seconds(5)) -> LifecycleEnvironment {
        LifecycleEnvironment(
            service: service,
            validator: CertificateValidator(
                trustAnchors: [authority.rootCertificate(.eBidding)], crls: crls, revocation: .whenAvailable),
            cardWaitTimeout: timeout)
    }

    /// A renewal of the representative's card in `slot`.
    func renewal(
        slot: SimulatedSlot, crls: [CertificateRevocationList] = [], timeout: Duration = .seconds(5),
        wording: RenewalWording = .businessName
    ) -> ICCardRenewal {
        ICCardRenewal(
            user: userID, of: registration.id, slot: slot, environment: environment(crls: crls, timeout: timeout),
            wording: wording)
    }

    /// The CA's CRL after revoking `card`'s certificate.
    func revoke(_ card: PrivateCAICCard) throws -> CertificateRevocationList {
        let certificate = try Self.certificate(of: card)
        try authority.revoke(certificate.serialNumber, reason: .keyCompromise, at: clock.now.addingTimeInterval(-60))
        return try CertificateRevocationList(
            bytes: authority.publishCRL(for: .eBidding, thisUpdate: clock.now.addingTimeInterval(-30)))
    }

    /// The registration as stored now.
    func stored() async throws -> BusinessRegistration {
        try requireValue(try await store.registration(registration.id))
    }

    /// Logs in with a card's key (in a slot of its own) and returns the session or throws the login's error.
    func login(with card: PrivateCAICCard, pin: String) async throws -> LoginSession {
        let slot = SimulatedSlot(name: "Login")
        slot.insert(card)
        defer { slot.remove() }
        let client = try await ICCard.connect(
            transport: try await slot.connect(), profile: .procurementIdentitySimulator)
        let key = try await client.signingKey(pin: try SecretPIN(pin, policy: Self.policy))
        let clock = clock
        let login = CertificateLogin(
            store: store,
            validator: CertificateValidator(trustAnchors: [authority.rootCertificate(.eBidding)]),
            now: { clock.now })
        return try await login.login(try await login.issueChallenge().sign(for: .inProcess, with: key))
    }

    static func certificate(of card: PrivateCAICCard) throws -> Certificate {
        try Certificate(derEncoded: card.snapshot.holderCertificate)
    }

    static func pin(_ text: String) throws -> SecretPIN { try SecretPIN(text, policy: policy) }

    /// Drives a renewal from the start to the confirmation screen, the new card swapped into `slot`.
    func driveToConfirmation(_ renewal: ICCardRenewal, slot: SimulatedSlot, new: PrivateCAICCard) async throws
        -> RenewalConfirmation
    {
        slot.insert(currentCard)
        try await renewal.readCurrentCard()
        try await renewal.verifyCurrentPIN(try Self.pin(Self.currentPIN))
        slot.swap(to: new)
        try await renewal.swapCards()
        try await renewal.verifyNewPIN(try Self.pin(Self.newPIN))
        guard case .confirm(let confirmation) = await renewal.step else {
            throw BenchFailure(what: "the renewal is not at the confirmation: \(await renewal.step)")
        }
        return confirmation
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let what: String
    var description: String { what }
}

/// `#require` for values outside a test function.
func requireValue<T>(_ value: T?, _ what: String = "value") throws -> T {
    guard let value else { throw BenchFailure(what: "missing \(what)") }
    return value
}

/// A simulated slot that reports when a flow starts waiting on it, so a test acts at the right moment instead of
/// sleeping.
final class ObservedSlot: CardSlot, Sendable {
    /// What a flow waits for.
    enum Wait: Sendable, Hashable { case card, removal }

    let inner: SimulatedSlot
    let waits: AsyncStream<Wait>
    private let continuation: AsyncStream<Wait>.Continuation

    init(_ inner: SimulatedSlot) {
        self.inner = inner
        (waits, continuation) = AsyncStream.makeStream(of: Wait.self)
    }

    var name: String { inner.name }
    func isCardPresent() async throws -> Bool { try await inner.isCardPresent() }
    func waitForCard(timeout: Duration) async throws -> Bool {
        continuation.yield(.card)
        return try await inner.waitForCard(timeout: timeout)
    }
    func waitForRemoval(timeout: Duration) async throws -> Bool {
        continuation.yield(.removal)
        return try await inner.waitForRemoval(timeout: timeout)
    }
    func connect() async throws -> any CardConnection { try await inner.connect() }

    /// Waits until the flow next waits for `wait`.
    func next(_ wait: Wait) async {
        for await seen in waits where seen == wait { return }
    }
}

extension ICCardRenewal {
    /// The outcome of ``update()`` as a value.
    func updateOutcome() async -> Result<RenewalCompletion, LifecycleError> {
        do { return .success(try await update()) } catch { return .failure(error) }
    }
}

/// Another program holding a SQLite database's write lock (python3's sqlite3, `BEGIN EXCLUSIVE`) until released.
final class DatabaseLockHolder {
    private let process = Process()
    private let input = Pipe()

    /// Takes the lock; returns once it is held.
    init(path: String) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
                + "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.read(); c.execute('ROLLBACK')",
            path,
        ]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let line = output.fileHandleForReading.availableData
        guard String(decoding: line, as: UTF8.self).hasPrefix("locked") else {
            process.terminate()
            throw BenchFailure(what: "python3 could not lock \(path)")
        }
    }

    /// Lets the lock go and waits for the program to end.
    func release() {
        try? input.fileHandleForWriting.close()
        _ = process.waitForExit(killingAfter: .seconds(10))
    }
}
