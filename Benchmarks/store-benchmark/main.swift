// store-benchmark: the registration stores under load — commits, reads, the outbox — on SQLite and PostgreSQL; and
// the probes that the store tests start as separate processes (two servers racing for one challenge or 法人番号).
//
//   swift run -c release store-benchmark [--db postgres://…|PATH] [--registrations N] [--writers N]
//   store-benchmark take-challenge --db URL --id ID --at UNIX-SECONDS     prints "taken" or "none"
//   store-benchmark register --db URL --corporate-number DIGITS --name NAME --at UNIX-SECONDS
//                                                                        prints "stored" or "refused: …"
//
// Without --db it measures an SQLite file in $TMPDIR and the PostgreSQL of PI_TEST_POSTGRES_URL (default: the test
// bench's, postgres://pi_test:pi_test@127.0.0.1:5432/pi_test), each in a schema of its own (bench_<unix time>).

import Crypto
import Foundation
import Registration
import RegistrationPostgres
import X509

let defaultPostgres = "postgres://pi_test:pi_test@127.0.0.1:5432/pi_test"

func option(_ name: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("store-benchmark: \(message)\n".utf8))
    exit(2)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func open(_ address: String) async throws -> any RegistrationStore {
    if PostgresStoreConfiguration.isPostgresURL(address) {
        return try await PostgresRegistrationStore(try PostgresStoreConfiguration(url: address))
    }
    return try SQLiteRegistrationStore(path: address)
}

/// Sleeps until the Unix time `at` (so that two processes act at the same moment).
func waitUntil(_ at: Double) async throws {
    let delay = at - Date().timeIntervalSince1970
    if delay > 0 { try await Task.sleep(for: .milliseconds(Int(delay * 1_000))) }
}

/// A registration with a representative and one self-signed certificate.
func registration(name: String, corporateNumber: String?) throws -> BusinessRegistration {
    let now = Date()
    var registration = BusinessRegistration(
        business: try BusinessInformation(
            name: name, postalCode: "100-0013", address: "東京都千代田区霞が関1-1-1", representativeTitle: "代表取締役",
            representativeName: "調達 太郎", corporateNumber: corporateNumber, phone: "03-1234-5678"),
        at: now)
    let user = User(
        role: .representative,
        information: try UserInformation(
            title: "代表取締役", name: "調達 太郎", postalCode: "1000013", address: "東京都千代田区霞が関1-1-1",
            phone: "03-1234-5678", mail: "taro@example.co.jp"),
        at: now)
    registration.users = [user]
    let key = P256.Signing.PrivateKey()
    let subject = try DistinguishedName {
        CountryName("JP")
        OrganizationName(name)
        CommonName("調達 太郎")
    }
    let certificate = try Certificate(
        version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
        notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(86_400 * 365),
        issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(),
        issuerPrivateKey: Certificate.PrivateKey(key))
    registration.bindings = [try CertificateBinding(certificate: certificate, kind: .icCard, userID: user.id, at: now)]
    registration.version = 1
    return registration
}

func newCommit(_ registration: BusinessRegistration) -> RegistrationCommit {
    let record = ChangeRecord(
        businessID: registration.id, actor: nil, kind: "register", summary: "利用者登録", version: registration.version,
        committedAt: registration.registeredAt)
    let handOver = OutboxMessage(
        changeID: record.id, businessID: registration.id, kind: .gepsHandOver, payload: Array("{}".utf8),
        at: registration.registeredAt)
    let mail = OutboxMessage(
        changeID: record.id, businessID: registration.id, kind: .mail, payload: Array("{}".utf8), after: handOver.id,
        at: registration.registeredAt)
    return RegistrationCommit(expectedVersion: 0, registration: registration, record: record, outbox: [handOver, mail])
}

/// A valid 法人番号 for an index (check digit computed).
func corporateNumber(_ index: Int) -> String {
    let base = String(format: "%012d", 100_000_000_000 + index).map { Int(String($0)) ?? 0 }
    let sum = base.reversed().enumerated().reduce(0) { $0 + $1.element * ($1.offset % 2 == 0 ? 1 : 2) }
    return "\(9 - sum % 9)" + base.map(String.init).joined()
}

// MARK: Probes for the tests

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "take-challenge":
    guard let db = option("--db", in: arguments), let id = option("--id", in: arguments),
        let at = option("--at", in: arguments).flatMap(Double.init)
    else { fail("take-challenge needs --db, --id and --at") }
    do {
        let store = try await open(db)
        try await waitUntil(at)
        print(try await store.takeChallenge(id) == nil ? "none" : "taken")
    } catch { fail("\(error)") }
    exit(0)
case "register":
    guard let db = option("--db", in: arguments), let number = option("--corporate-number", in: arguments),
        let name = option("--name", in: arguments), let at = option("--at", in: arguments).flatMap(Double.init)
    else { fail("register needs --db, --corporate-number, --name and --at") }
    do {
        let store = try await open(db)
        let commit = newCommit(try registration(name: name, corporateNumber: number))
        try await waitUntil(at)
        do {
            try await store.commit(commit)
            print("stored")
        } catch {
            print("refused: \(error)")
        }
    } catch { fail("\(error)") }
    exit(0)
default:
    break
}

// MARK: The benchmark

let count = option("--registrations", in: arguments).flatMap(Int.init) ?? 300
let writers = option("--writers", in: arguments).flatMap(Int.init) ?? 8
var targets: [(label: String, address: String)] = []
if let db = option("--db", in: arguments) {
    targets = [(PostgresStoreConfiguration.isPostgresURL(db) ? "PostgreSQL" : "SQLite", db)]
} else {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-benchmark-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let schema = "bench_\(Int(Date().timeIntervalSince1970))"
    let base = ProcessInfo.processInfo.environment["PI_TEST_POSTGRES_URL"] ?? defaultPostgres
    targets = [
        ("SQLite file", folder.appendingPathComponent("bench.sqlite").path),
        ("PostgreSQL", base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"),
    ]
}

print("store-benchmark: \(count) registrations, \(writers) concurrent writers")
for (label, address) in targets {
    let store: any RegistrationStore
    do { store = try await open(address) } catch { fail("\(label): \(error)") }
    let prepared = try (0..<count).map { index in
        newCommit(try registration(name: "ベンチ商事\(index)", corporateNumber: corporateNumber(index)))
    }
    let clock = ContinuousClock()
    let half = count / 2
    // Sequential commits, then the rest from several writers at once.
    var elapsed = try await clock.measure {
        for commit in prepared[..<half] { try await store.commit(commit) }
    }
    print(String(format: "%@: %5.2f ms per commit, one writer", label, seconds(elapsed) * 1_000 / Double(half)))
    let rest = Array(prepared[half...])
    elapsed = try await clock.measure {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for commit in rest.enumerated().filter({ $0.offset % writers == writer }).map(\.element) {
                        try await store.commit(commit)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
    print(
        String(
            format: "%@: %5.0f commits per second with %d writers", label, Double(rest.count) / seconds(elapsed),
            writers))
    elapsed = try await clock.measure {
        for commit in prepared.prefix(100) { _ = try await store.registration(commit.registration.id) }
    }
    print(String(format: "%@: %5.2f ms per registration read", label, seconds(elapsed) * 10))
    var all: [BusinessRegistration] = []
    elapsed = try await clock.measure { all = try await store.registrations() }
    print(String(format: "%@: %5.1f ms to read all %d registrations", label, seconds(elapsed) * 1_000, all.count))
    // The outbox: lease 10 at a time and record each delivered, with the writers as workers.
    let now = Date().addingTimeInterval(60)
    let delivered = ManagedCounter()
    elapsed = try await clock.measure {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<writers {
                group.addTask {
                    while true {
                        let leased = try await store.leaseDueMessages(
                            at: now, limit: 10, leaseUntil: now.addingTimeInterval(60))
                        if leased.isEmpty { return }
                        for message in leased {
                            try await store.record(.delivered(receipt: nil), for: message.id, at: now)
                            delivered.add()
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
    print(
        String(
            format: "%@: %5.0f outbox messages delivered per second (%d, %d workers)", label,
            Double(delivered.value) / seconds(elapsed), delivered.value, writers))
    if let postgres = store as? PostgresRegistrationStore { await postgres.close() }
}

/// A counter several tasks add to.
final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
