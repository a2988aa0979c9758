// store-benchmark: the registration stores at a prefecture's scale — commit latency, commits per second against
// pgbench, a page of businesses, resident memory — on SQLite and PostgreSQL; and the probes that the store tests start
// as separate processes (two servers racing for one challenge or 法人番号).
//
//   swift build -c release --product store-benchmark && .build/release/store-benchmark [options]
//     --businesses N      businesses at the large size (100000); each has 3 users and 2 certificate bindings
//     --small N           businesses at the small size (1000), where the commit latency is measured first
//     --commits N         commits timed at each size (400)
//     --writers 1,8,32    concurrent writers of the PostgreSQL throughput runs, each against pgbench
//     --seconds S         length of each throughput run, ours and pgbench's (5)
//     --page-rounds N     reads of each kind of page (30), more to profile them
//     --postgres URL      the server (PI_TEST_POSTGRES_URL, else the test bench's); --no-pgbench skips the yardstick
//     --store NAME        sqlite or postgres: measure that store alone (both by default)
//     --keep-schema       leave the PostgreSQL tables (bench_<unix time>) in place, to EXPLAIN their queries
//   store-benchmark take-challenge --db URL --id ID --at UNIX-SECONDS     prints "taken" or "none"
//   store-benchmark register --db URL --corporate-number DIGITS --name NAME --at UNIX-SECONDS
//                                                                        prints "stored" or "refused: …"
//
// The businesses are seeded through the stores' fast path (`seed`: one transaction, multi-row INSERTs of 200
// registrations, no history or outbox), and the tables analyzed after each seed (the stores' `analyze()`, as an
// operator runs it after a bulk import); the timed commits are ordinary commits. The SQLite file is in $TMPDIR, the
// PostgreSQL tables in a schema of their own (bench_<unix time>), dropped at the end, as is pgbench's.
//
// Each throughput run has two yardsticks from the same server in the same run: pgbench's built-in simple-update (the
// issue's), and pgbench running the benchmark's commit as SQL (`commitScript`): what the commit's statements cost
// the server with a client that costs nothing, to tell the commit's own work from this client's.

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

func integerOption(_ name: String, _ fallback: Int) -> Int {
    guard let text = option(name, in: arguments) else { return fallback }
    guard let value = Int(text), value > 0 else { fail("\(name) takes a positive number") }
    return value
}

let largeSize = integerOption("--businesses", 100_000)
let smallSize = min(integerOption("--small", 1_000), largeSize)
let timedCommits = integerOption("--commits", 400)
let pageRounds = integerOption("--page-rounds", 30)
let runSeconds = option("--seconds", in: arguments).flatMap(Double.init) ?? 5
let writerCounts = (option("--writers", in: arguments) ?? "1,8,32").split(separator: ",").compactMap { Int($0) }
let runPgbench = !arguments.contains("--no-pgbench")
let keepSchema = arguments.contains("--keep-schema")
let onlyStore = option("--store", in: arguments)
if let onlyStore, !["sqlite", "postgres"].contains(onlyStore) { fail("--store takes sqlite or postgres") }
let postgresBase =
    option("--postgres", in: arguments) ?? ProcessInfo.processInfo.environment["PI_TEST_POSTGRES_URL"]
    ?? defaultPostgres
let benchSchema = "bench_\(Int(Date().timeIntervalSince1970))"

/// A table row: what, on which store, the figure, and the yardstick with the ratio when there is one.
struct Line {
    var store: String
    var measure: String
    var value: String
    var yardstick = ""
    var ratio = ""
}
var lines: [Line] = []
@MainActor func report(_ line: Line) {
    lines.append(line)
    FileHandle.standardError.write(Data("  \(line.store): \(line.measure) \(line.value) \(line.yardstick)\n".utf8))
}

func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
}

func milliseconds(_ values: [Double]) -> String {
    let sorted = values.sorted()
    return String(format: "p50 %.2f ms, p99 %.2f ms", percentile(sorted, 0.5), percentile(sorted, 0.99))
}

/// The benchmark's businesses: 3 users (a representative and two agents) and 2 certificate bindings (the
/// representative's current card and its superseded one), made from a few real certificates. Each binding has a
/// fingerprint of its own (the store's unique rule is on the stored fingerprint), and the ends of validity spread
/// over a year, so that "expires within 30 days" selects about a twelfth of the businesses.
struct Population: Sendable {
    let templates: [BusinessRegistration]
    let start = Date()

    init() throws {
        templates = try (0..<8).map { index in
            var registration = try registration(name: "テンプレート\(index)", corporateNumber: nil)
            let agent = try UserInformation(
                title: "営業部長", name: "入札 花子", postalCode: "1000013", address: "東京都千代田区霞が関1-1-1",
                phone: "03-1234-5679", mail: "hanako@example.co.jp")
            registration.users += [
                User(role: .agent, information: agent, at: Date()), User(role: .agent, information: agent, at: Date()),
            ]
            var old = registration.bindings[0]
            old.recordedStatus = .superseded
            registration.bindings.insert(old, at: 0)
            return registration
        }
    }

    func business(_ index: Int) throws -> BusinessRegistration {
        var registration = templates[index % templates.count]
        registration.id = BusinessID.random()
        registration.business = try BusinessInformation(
            name: "ベンチ商事\(index)", postalCode: "100-0013", address: "東京都千代田区霞が関1-1-1",
            representativeTitle: "代表取締役", representativeName: "調達 太郎", corporateNumber: corporateNumber(index),
            phone: "03-1234-5678")
        registration.registeredAt = start.addingTimeInterval(Double(index) / 1_000)
        for user in registration.users.indices { registration.users[user].id = UserID.random() }
        for binding in registration.bindings.indices {
            registration.bindings[binding].id = BindingID.random()
            registration.bindings[binding].userID = registration.users[0].id
            // A DER of its own: the template's with the last bytes of its signature changed (a certificate that
            // still decodes, with a fingerprint that is its SHA-256, as a bound certificate's is).
            var der = registration.bindings[binding].certificateDER
            let serial = index * 2 + binding
            for byte in 0..<3 { der[der.count - 1 - byte] = UInt8(truncatingIfNeeded: serial >> (8 * byte)) }
            if index < templates.count { _ = try Certificate(untrustedDER: der) }
            registration.bindings[binding].certificateDER = der
            registration.bindings[binding].fingerprint = CertificateBinding.fingerprint(of: der)
            registration.bindings[binding].notValidAfter = start.addingTimeInterval(
                Double((index * 7_919) % 365 + 1) * 86_400)
        }
        registration.bindings[1].supersededBy = nil
        return registration
    }
}

/// A commit that changes one agent's telephone number, as 利用者情報変更 does, with its history entry and two
/// outbox messages; the registration is returned at its new version.
func change(_ registration: BusinessRegistration, _ serial: Int) throws -> (RegistrationCommit, BusinessRegistration) {
    var next = registration
    next.users[1].information.phone = try PhoneNumber(
        String(format: "03-%04d-%04d", serial / 10_000 % 10_000, serial % 10_000))
    next.version += 1
    let record = ChangeRecord(
        businessID: next.id, actor: next.users[1].id, kind: "updateUserInformation", summary: "利用者情報変更",
        version: next.version, committedAt: Date())
    let handOver = OutboxMessage(
        changeID: record.id, businessID: next.id, kind: .gepsHandOver, payload: Array("{}".utf8), at: Date())
    let mail = OutboxMessage(
        changeID: record.id, businessID: next.id, kind: .mail, payload: Array("{}".utf8), after: handOver.id, at: Date()
    )
    return (
        RegistrationCommit(
            expectedVersion: registration.version, registration: next, record: record, outbox: [handOver, mail]),
        next
    )
}

/// The registrations a run keeps in memory, so that a commit is prepared without reading (one writer owns each).
final class Registrations: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [BusinessRegistration] = []
    func append(_ more: [BusinessRegistration]) { lock.withLock { all += more } }
    var count: Int { lock.withLock { all.count } }
    subscript(index: Int) -> BusinessRegistration {
        get { lock.withLock { all[index] } }
        set { lock.withLock { all[index] = newValue } }
    }
}

let clock = ContinuousClock()
let population = try Population()

/// Seeds businesses up to `size` through the store's fast path.
func seed(_ store: any RegistrationStore, _ registrations: Registrations, to size: Int) async throws -> Double {
    let started = clock.now
    while registrations.count < size {
        let batch = try (registrations.count..<min(registrations.count + 5_000, size)).map(population.business)
        if let sqlite = store as? SQLiteRegistrationStore {
            try await sqlite.seed(batch)
        } else if let postgres = store as? PostgresRegistrationStore {
            try await postgres.seed(batch)
        }
        registrations.append(batch)
    }
    return seconds(clock.now - started)
}

/// Refreshes the planner's statistics after a seed, as an operator does after a bulk import (`analyze()`: SQLite's
/// `ANALYZE`, PostgreSQL's `ANALYZE` of the store's tables by name); its duration in seconds. Without it PostgreSQL
/// plans the pages with no statistics of the seeded tables until autovacuum comes by, and reads whole tables.
func analyze(_ store: any RegistrationStore) async throws -> Double {
    let started = clock.now
    if let sqlite = store as? SQLiteRegistrationStore {
        try await sqlite.analyze()
    } else if let postgres = store as? PostgresRegistrationStore {
        try await postgres.analyze()
    }
    return seconds(clock.now - started)
}

/// `count` commits, one at a time, of businesses spread over the whole population; their latencies in ms.
func commitLatencies(_ store: any RegistrationStore, _ registrations: Registrations, count: Int) async throws
    -> [Double]
{
    var latencies: [Double] = []
    for serial in 0..<count {
        let index = (serial * 7_919 + 13) % registrations.count
        let (commit, next) = try change(registrations[index], serial)
        let elapsed = try await clock.measure { try await store.commit(commit) }
        registrations[index] = next
        latencies.append(seconds(elapsed) * 1_000)
    }
    return latencies
}

/// Reads of a page of 100 businesses from the middle of the list, by 法人番号 and by certificates expiring within 30
/// days; their latencies in ms.
@MainActor func pageLatencies(
    _ store: any RegistrationStore, _ registrations: Registrations, _ page: (Int) -> RegistrationPage
)
    async throws -> [Double]
{
    var latencies: [Double] = []
    let before = processorTime()
    for round in 0..<pageRounds {
        let request = page(round)
        var read: [BusinessRegistration] = []
        let elapsed = try await clock.measure { read = try await store.registrations(request) }
        if read.isEmpty { fail("a page read nothing") }
        latencies.append(seconds(elapsed) * 1_000)
    }
    FileHandle.standardError.write(
        Data(String(format: "  CPU %.2f ms a page\n", (processorTime() - before) * 1_000 / Double(pageRounds)).utf8))
    return latencies
}

@MainActor func measure(_ label: String, _ store: any RegistrationStore) async throws -> Registrations {
    let registrations = Registrations()
    var seeded = try await seed(store, registrations, to: smallSize)
    _ = try await analyze(store)
    let small = try await commitLatencies(store, registrations, count: timedCommits)
    report(Line(store: label, measure: "commit at \(smallSize) businesses", value: milliseconds(small)))
    seeded += try await seed(store, registrations, to: largeSize)
    report(
        Line(
            store: label, measure: "seeding \(largeSize) businesses (fast path)",
            value: String(format: "%.1f s", seeded)))
    let analyzed = try await analyze(store)
    report(
        Line(
            store: label, measure: "tables analyzed after seeding (analyze())",
            value: String(format: "%.2f s", analyzed)))
    let large = try await commitLatencies(store, registrations, count: timedCommits)
    let ratio = percentile(large.sorted(), 0.99) / max(percentile(small.sorted(), 0.99), 0.001)
    report(
        Line(
            store: label, measure: "commit at \(largeSize) businesses", value: milliseconds(large),
            yardstick: "p99 at \(smallSize)", ratio: String(format: "%.2f× (goal ≤ 1.5×)", ratio)))
    let pages: [(String, (Int) -> RegistrationPage)] = [
        (
            "page of 100",
            { round in
                RegistrationPage(
                    limit: 100, after: registrations[(round * 3_001 + largeSize / 2) % (largeSize - 100)].id)
            }
        ),
        (
            "page by 法人番号",
            { round in
                RegistrationPage(
                    limit: 100, corporateNumber: registrations[(round * 3_001) % largeSize].business.corporateNumber)
            }
        ),
        (
            "page expiring ≤ 30 days",
            { _ in
                RegistrationPage(
                    limit: 100, certificateExpiry: RegistrationPage.expiry(withinDays: 30, from: population.start))
            }
        ),
    ]
    for (name, page) in pages {
        let latencies = try await pageLatencies(store, registrations, page)
        let p50 = percentile(latencies.sorted(), 0.5)
        report(
            Line(
                store: label, measure: "\(name) of \(largeSize)", value: milliseconds(latencies), yardstick: "5 ms",
                ratio: String(format: "%.2f× of the limit", p50 / 5)))
    }
    return registrations
}

/// Commits per second with `writers` writers for `runSeconds`, each writer changing businesses of its own.
func throughput(_ url: String, writers: Int, _ registrations: Registrations) async throws -> Double {
    var configuration = try PostgresStoreConfiguration(url: url)
    configuration.maximumConnections = writers
    let store = try await PostgresRegistrationStore(configuration)
    let deadline = clock.now + .milliseconds(Int(runSeconds * 1_000))
    let total = registrations.count
    let started = clock.now
    let commits = try await withThrowingTaskGroup(of: Int.self) { group in
        for writer in 0..<writers {
            group.addTask {
                var done = 0
                var serial = writer
                while clock.now < deadline {
                    // Writer w changes businesses w, w + writers, w + 2 × writers, …: never another writer's.
                    let owned = ((done * 7_919 + writer * 13) % (total / writers)) * writers + writer
                    let (commit, next) = try change(registrations[owned], serial)
                    try await store.commit(commit)
                    registrations[owned] = next
                    done += 1
                    serial += writers
                }
                return done
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = seconds(clock.now - started)
    await store.close()
    return Double(commits) / elapsed
}

/// The parts of a postgres:// URL that pgbench takes as libpq's variables (the password in PGPASSWORD, never on a
/// command line or in the output).
func pgbenchEnvironment(_ url: String, schema: String) throws -> [String: String] {
    let configuration = try PostgresStoreConfiguration(url: url)
    var environment = ProcessInfo.processInfo.environment
    environment["PGHOST"] = configuration.host
    environment["PGPORT"] = "\(configuration.port)"
    environment["PGUSER"] = configuration.username
    environment["PGDATABASE"] = configuration.database
    if let password = configuration.password { environment["PGPASSWORD"] = password }
    environment["PGOPTIONS"] = "-c search_path=\(schema)"
    return environment
}

/// Runs pgbench with `arguments`; its standard output.
func pgbench(_ arguments: [String], environment: [String: String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/pgbench")
    process.arguments = arguments
    process.environment = environment
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // pgbench's standard error is short (its progress and errors): read after its output, it cannot fill its pipe
    // while the output is read.
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        // libpq's messages name the server and the role, never the password (given in PGPASSWORD).
        let last = said.split(separator: "\n").suffix(3).joined(separator: "; ")
        // The run named by its options before the clients' (`-b simple-update`, `-M prepared -f SCRIPT`, `-i -s 1 -q`).
        let run = arguments.prefix { $0 != "-c" }.filter { $0 != "-n" }.joined(separator: " ")
        fail("pgbench \(run) failed: \(last)")
    }
    return String(decoding: data, as: UTF8.self)
}

/// pgbench's transactions per second (`tps = …`) with `clients` clients of `script`: the built-in simple-update
/// script (`["-b", "simple-update"]`), or a script file (`["-M", "prepared", "-f", path]`).
///
/// pgbench ends a `-T` run with SIGALRM, which a process started from here would inherit blocked (the run never
/// ends), so the run is a number of transactions per client (`-t`), taken from a short first run so that it lasts
/// about `runSeconds`.
func pgbenchRate(_ script: [String], clients: Int, environment: [String: String]) throws -> Double {
    func run(_ transactions: Int) throws -> Double {
        let output = try pgbench(
            ["-n"] + script + ["-c", "\(clients)", "-j", "\(min(clients, 2))", "-t", "\(transactions)"],
            environment: environment)
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
            let rate = Double(line.dropFirst(6).prefix { $0.isNumber || $0 == "." })
        else { fail("pgbench printed no rate") }
        return rate
    }
    let first = try run(50)
    return try run(max(50, Int(first * runSeconds / Double(clients))))
}

/// A pgbench script of the benchmark's commit (`change`) as the store sends it: `BEGIN`, the store's own versioned
/// `UPDATE` with the stored child rows (``PostgresRegistrationStore/versionedUpdateSQL``), the statement that
/// writes the changed user row, the history entry and the two outbox messages (the mail after the hand-over),
/// `COMMIT`. A first `SELECT` takes a random business's row (what the benchmark keeps in memory) by its number, which
/// runs from 1 to `businesses` in the benchmark's fresh tables: one statement more than the store sends, so the
/// yardstick is, if anything, low. The identifiers are made by the server. Run with every statement prepared, it is
/// what the commit's SQL costs the server with a client that costs nothing: the yardstick of how much of the gap to
/// pgbench's simple-update is the commit's work, and how much this client. The second statement mirrors the one the
/// store builds for this change (`RegistrationRows.writes` and the history and outbox insert, as the server's log
/// shows them); a change of those must change it too.
func commitScript(businesses: Int) -> String {
    var update = PostgresRegistrationStore.versionedUpdateSQL
    for number in (1...11).reversed() { update = update.replacingOccurrences(of: "$\(number)", with: ":p\(number)") }
    let outboxRow = { (id: String, kind: String, after: String) in
        "(\(id), :change, :p1, '\(kind)', md5(random()::text), '\\x7b7d'::bytea, \(after), 'pending', 0, :now, :now, "
            + "NULL, NULL, NULL, NULL)"
    }
    return """
        \\set n random(1, \(businesses))
        BEGIN;
        SELECT id AS p1, version AS p2, version + 1 AS p3, registered_at AS p4, name AS p5, postal_code AS p6,
            address AS p7, representative_title AS p8, representative_name AS p9, corporate_number AS p10,
            phone AS p11, (SELECT id FROM "user" WHERE business_id = business.id AND position = 1) AS agent,
            'X-' || md5(random()::text) AS change, 'M-' || md5(random()::text) AS handover,
            extract(epoch FROM now()) - 978307200 AS now
        FROM business WHERE number = :n \\gset
        \(update);
        WITH written AS (UPDATE "user" SET phone = '03-' || lpad((:n % 10000)::text, 4, '0') || '-0000'
                WHERE business_id = :p1 AND id = :agent),
            history AS (INSERT INTO change_record (id, business_id, actor, kind, summary, version, committed_at)
                VALUES (:change, :p1, :agent, 'updateUserInformation', '利用者情報変更', :p3, :now))
        INSERT INTO outbox (id, change_id, business_id, kind, idempotency_key, payload, after_id, state, attempts,
            created_at, next_attempt_at, leased_until, delivered_at, receipt, last_error)
        VALUES \(outboxRow(":handover", "gepsHandOver", "NULL")),
            \(outboxRow("'M-' || md5(random()::text)", "mail", ":handover"));
        COMMIT;

        """
}

/// The processor time (user and system) this process has used, in seconds.
func processorTime() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func memory() -> String {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> String {
        status.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map {
            $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        } ?? "?"
    }
    // RssFile counts the pages of mapped files that were read (the SQLite store maps its database file): the
    // system's file cache, shared with every process that reads the file; RssAnon is the process's own memory.
    return "VmHWM \(field("VmHWM")), VmRSS \(field("VmRSS")) (RssAnon \(field("RssAnon")), RssFile \(field("RssFile")))"
}

#if DEBUG
    let build = "debug build: figures are not representative"
#else
    let build = "release build"
#endif
FileHandle.standardError.write(
    Data(
        ("store-benchmark (\(build)): \(smallSize) then \(largeSize) businesses, 3 users and 2 certificate bindings "
            + "each; the tables are analyzed after each seed\n").utf8))

/// The measurements; an error (a server that is down, a failed query) ends the run with its sentence and exit 1.
@MainActor func runMeasurements() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-benchmark-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    if onlyStore != "postgres" {
        let sqlite = try SQLiteRegistrationStore(path: folder.appendingPathComponent("bench.sqlite").path)
        _ = try await measure("SQLite", sqlite)
        report(Line(store: "SQLite", measure: "resident memory, the store open", value: memory()))
    }
    try? FileManager.default.removeItem(at: folder)
    guard onlyStore != "sqlite" else { return }

    let postgresURL = postgresBase + (postgresBase.contains("?") ? "&" : "?") + "schema=\(benchSchema)"
    let postgres = try await PostgresRegistrationStore(try PostgresStoreConfiguration(url: postgresURL))
    let registrations = try await measure("PostgreSQL", postgres)
    let pgbenchSchema = benchSchema + "_pgbench"
    if runPgbench {
        try await postgres.execute(sql: "CREATE SCHEMA \(pgbenchSchema)")
    }
    let environment = try pgbenchEnvironment(postgresBase, schema: pgbenchSchema)
    if runPgbench { _ = try pgbench(["-i", "-s", "1", "-q"], environment: environment) }
    var rates: [(writers: Int, ours: Double)] = []
    for writers in writerCounts {
        let ours = try await throughput(postgresURL, writers: writers, registrations)
        rates.append((writers, ours))
        var line = Line(
            store: "PostgreSQL", measure: "commits/s, \(writers) writer\(writers == 1 ? "" : "s")",
            value: String(format: "%.0f", ours))
        if runPgbench {
            let theirs = try pgbenchRate(["-b", "simple-update"], clients: writers, environment: environment)
            line.yardstick = String(format: "pgbench simple-update %.0f tps", theirs)
            line.ratio = String(format: "%.2f× (goal ≥ 0.5×)", ours / theirs)
        }
        report(line)
    }
    if runPgbench {
        // After all of ours: the script changes the businesses' versions behind the registrations kept in memory.
        let script = FileManager.default.temporaryDirectory.appendingPathComponent(
            "store-benchmark-\(UUID().uuidString).pgbench")
        try Data(commitScript(businesses: registrations.count).utf8).write(to: script)
        defer { try? FileManager.default.removeItem(at: script) }
        let commitEnvironment = try pgbenchEnvironment(postgresBase, schema: benchSchema)
        for (writers, ours) in rates {
            let theirs = try pgbenchRate(
                ["-M", "prepared", "-f", script.path], clients: writers, environment: commitEnvironment)
            report(
                Line(
                    store: "PostgreSQL", measure: "commits/s, \(writers) writer\(writers == 1 ? "" : "s")",
                    value: String(format: "%.0f", ours),
                    yardstick: String(format: "pgbench running the commit's SQL %.0f tps", theirs),
                    ratio: String(format: "%.2f× of the SQL alone", ours / theirs)))
        }
    }
    try await postgres.execute(sql: "DROP SCHEMA IF EXISTS \(pgbenchSchema) CASCADE")
    if keepSchema {
        FileHandle.standardError.write(Data("store-benchmark: the tables stay in schema \(benchSchema)\n".utf8))
    } else {
        try await postgres.execute(sql: "DROP SCHEMA \(benchSchema) CASCADE")
    }
    await postgres.close()
    report(Line(store: "process", measure: "resident memory", value: memory()))
}
do { try await runMeasurements() } catch { fail("\(error)") }

// The table, as pcsc-benchmark prints its: the figure, the yardstick beside it and the ratio.
let headers = ["store", "measure", "value", "yardstick", "ratio"]
let cells = [headers] + lines.map { [$0.store, $0.measure, $0.value, $0.yardstick, $0.ratio] }
let widths = headers.indices.map { column in cells.map { $0[column].count }.max() ?? 0 }
for (number, row) in cells.enumerated() {
    print(
        "| "
            + row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
            .joined(separator: " | ") + " |")
    if number == 0 { print("|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|") }
}
