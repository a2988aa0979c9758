// server-load: certificate logins per second against the release portal-server, with 64 clients that each sign the
// server's challenges with a file key (as a card agent signs with the card), against what an RSA verify
// (`openssl speed`) and the store's commits allow together; and authenticated reads with wrk.
//
//   swift build -c release --product portal-server --product server-load
//   .build/release/server-load [options]
//     --server-binary PATH  the portal-server to start (.build/release/portal-server; built with
//                           `swift build -c release --product portal-server` when missing)
//     --db sqlite|postgres|URL   the store: a new SQLite file in $TMPDIR (default); `postgres` is PI_TEST_POSTGRES_URL,
//                           else the test bench's server; a postgres:// URL names another. PostgreSQL tables go in a
//                           schema of their own (t_<unix time>_load…, which the test bench's clean-up drops)
//     --users N             registered businesses, each with a representative and a certificate of the test CA (64)
//     --clients N           concurrent login clients, one HTTP/1.1 keep-alive connection each (64)
//     --seconds S           length of the login run (10)
//     --commit-seconds S    length of the store's commit-rate run (3)
//     --wrk-seconds S       length of wrk's run, at as many connections as clients (10); --no-wrk skips it
//
// It seeds the store (ordinary commits, as `portal register` makes them), measures the store's commit rate with the
// writes a login makes (in this process, before the server starts), runs `openssl speed -seconds 3 rsa2048`, starts
// the server on a free loopback port with a matching --origin (its log goes to server.log in the work directory),
// runs the logins (each client signing between its two requests), runs them again with the clients' signatures
// made between two timed halves (challenges for half of --seconds, at most 10 s, all signed, then all answered:
// the server's own rate, without the clients' RSA work on the same cores), then wrk against GET
// /api/v1/registration with one session's cookie, reads the server's memory from /proc, stops it (also on a failure
// or Ctrl-C) and prints one table. Every answer that is not 2xx is counted
// as an error and its status and first problem shown.

import CardCredentials
import CardSimulator
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Registration
import RegistrationPostgres
import Synchronization
import X509

#if canImport(Glibc)
    import Glibc
#endif

let defaultPostgres = "postgres://pi_test:pi_test@127.0.0.1:5432/pi_test"

// MARK: Options

struct Options {
    var serverBinary = ".build/release/portal-server"
    var db = "sqlite"
    var users = 64
    var clients = 64
    var seconds = 10.0
    var commitSeconds = 3.0
    var wrkSeconds = 10.0
    var wrk = true

    init(_ arguments: [String]) {
        var index = 0
        func value() -> String {
            index += 1
            guard index < arguments.count else { fail("\(arguments[index - 1]) needs a value") }
            return arguments[index]
        }
        func number(_ text: String, _ name: String) -> Double {
            guard let number = Double(text), number > 0 else { fail("\(name) is a positive number") }
            return number
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--server-binary": serverBinary = value()
            case "--db": db = value()
            case "--users": users = Int(number(value(), argument))
            case "--clients": clients = Int(number(value(), argument))
            case "--seconds": seconds = number(value(), argument)
            case "--commit-seconds": commitSeconds = number(value(), argument)
            case "--wrk-seconds": wrkSeconds = number(value(), argument)
            case "--no-wrk": wrk = false
            case "--help", "-h":
                print(
                    "usage: server-load [--server-binary PATH] [--db sqlite|postgres|URL] [--users N] [--clients N] "
                        + "[--seconds S] [--commit-seconds S] [--wrk-seconds S] [--no-wrk]")
                exit(0)
            default: fail("unknown option \(argument) (--help lists them)")
            }
            index += 1
        }
        if users < 1 || clients < 1 { fail("--users and --clients are 1 or more") }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("server-load: \(message)\n".utf8))
    stopServer()
    exit(2)
}

func say(_ message: String) {
    FileHandle.standardError.write(Data("server-load: \(message)\n".utf8))
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.down)))]
}

func grouped(_ value: Double) -> String {
    let formatter = NumberFormatter()
    formatter.numberStyle = .decimal
    formatter.maximumFractionDigits = 0
    return formatter.string(from: NSNumber(value: value.rounded())) ?? "\(Int(value))"
}

func fixed(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

// MARK: The server process

/// The server's process id while it runs (0 before and after), for the signal handler and `fail`.
enum ServerProcess {
    static let pid = Atomic<Int32>(0)
}

func stopServer() {
    let pid = ServerProcess.pid.exchange(0, ordering: .relaxed)
    if pid > 0 { kill(pid, SIGTERM) }
}

/// A free TCP port on the loopback interface (bound and released; the server binds it right after).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { fail("no socket for a free port") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { fail("could not bind a loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A line of /proc/PID/status, as kB.
func procStatus(_ pid: Int32, _ field: String) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ")[0])
    }
    return nil
}

/// The CPU seconds (user + system) a process has used, from /proc/PID/stat.
func cpuSeconds(_ pid: Int32) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return .nan }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // After the command: state is field 3, utime 14 and stime 15 (1-based over the whole line).
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Starts a program with posix_spawn, its standard output and error to `outputPath`, every signal unblocked and at
/// its default: Foundation's `Process` spawns from a thread that blocks signals, and the child inherits that mask
/// (`openssl speed` then waits forever for its SIGALRM, a server for its SIGTERM).
func spawn(_ executable: String, _ arguments: [String], outputPath: String, environment: [String: String]? = nil)
    throws -> pid_t
{
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for number in [SIGPIPE, SIGINT, SIGTERM, SIGALRM] { sigaddset(&defaults, number) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let envp =
        (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { envp.forEach { free($0) } }
    var pid = pid_t()
    let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard result == 0 else { throw LoadError("could not start \(executable): \(String(cString: strerror(result)))") }
    return pid
}

/// Waits for a child; its exit status, or 128 + the signal that ended it.
func waitFor(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let signalNumber = status & 0x7f
    return signalNumber == 0 ? (status >> 8) & 0xff : 128 + signalNumber
}

/// Runs a program to its end; its exit status and its output (standard output and error together).
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("server-load-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let status = waitFor(try spawn(executable, arguments, outputPath: path))
    return (status, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
}

func which(_ name: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

// MARK: HTTP/1.1 keep-alive client over swift-nio (already in the graph: portal-server is built on it)

struct HTTPAnswer {
    var status: Int
    var headers: HTTPHeaders
    var body: ByteBuffer
}

/// One connection; requests one after another on it.
final class Connection {
    typealias Channel = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
    let channel: Channel
    let host: String

    init(port: Int) async throws {
        host = "127.0.0.1:\(port)"
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try Channel(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Sends a request and reads its whole answer.
    func send(
        _ method: HTTPMethod, _ path: String, headers extra: [(String, String)] = [], body: [UInt8] = [],
        inbound: inout NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    ) async throws -> HTTPAnswer {
        var headers = HTTPHeaders([("Host", host), ("Content-Length", "\(body.count)")])
        headers.add(contentsOf: extra)
        try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)))
        if !body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        try await outbound.write(.end(nil))
        var answer = HTTPAnswer(status: 0, headers: [:], body: ByteBuffer())
        while let part = try await inbound.next() {
            switch part {
            case .head(let head):
                answer.status = Int(head.status.code)
                answer.headers = head.headers
            case .body(var buffer): answer.body.writeBuffer(&buffer)
            case .end: return answer
            }
        }
        throw LoadError("the server closed the connection")
    }
}

struct LoadError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: Seeding

struct Seeded {
    var credentials: [FileCredential]
    var rootPEM: String
    var businessIDs: [BusinessID]
}

func openStore(_ address: String) async throws -> any RegistrationStore {
    if PostgresStoreConfiguration.isPostgresURL(address) {
        var configuration = try PostgresStoreConfiguration(url: address)
        configuration.applicationName = "server-load"
        return try await PostgresRegistrationStore(configuration)
    }
    return try SQLiteRegistrationStore(path: address)
}

/// `users` businesses registered as `portal register` does it, each with a representative whose certificate (RSA
/// 2048, from the test CA's e-bidding hierarchy) is bound to them; the keys stay in memory as file credentials.
func seed(_ store: any RegistrationStore, users: Int, authority: TestCertificateAuthority) async throws -> Seeded {
    let service = RegistrationService(
        store: store, portal: PortalProfile(name: "調達ポータル", mailFrom: try MailAddress("noreply@portal.example.jp")))
    let root = authority.rootCertificate(.eBidding)
    // Key generation is the slow part: two at a time (the machine's cores).
    let keys = try await withThrowingTaskGroup(of: [CardRSAKey].self) { group in
        for part in 0..<2 {
            group.addTask { try (0..<users).filter { $0 % 2 == part }.map { _ in try CardRSAKey.generate() } }
        }
        var all: [CardRSAKey] = []
        for try await part in group { all += part }
        return all
    }
    var credentials: [FileCredential] = []
    var businessIDs: [BusinessID] = []
    for (index, key) in keys.enumerated() {
        let name = "負荷 太郎"
        let company = "株式会社負荷試験\(index + 1)"
        let certificate = try authority.issueEBiddingCertificate(
            for: EBiddingHolder(
                companyName: company, name: name, prefecture: "東京都", city: "千代田区", street: "霞が関1-1-1"),
            publicKey: key, validity: .valid(days: 395, from: Date().addingTimeInterval(-60)))
        credentials.append(
            try FileCredential(privateKeyPEM: key.pemRepresentation, certificate: certificate, chain: [root]))
        let business = try BusinessInformation(
            name: company, postalCode: "100-0013", address: "東京都千代田区霞が関1-1-1", representativeTitle: "代表取締役",
            representativeName: name, corporateNumber: nil, phone: "03-1234-5678")
        let representative = try UserInformation(
            title: "代表取締役", name: name, postalCode: "1000013", address: "東京都千代田区霞が関1-1-1", phone: "03-1234-5678",
            fax: nil, mail: "load\(index + 1)@example.co.jp")
        let prepared = try await service.prepareRegistration(
            of: business, representative: representative, certificate: certificate, kind: .fileCertificate,
            by: .portal(operator: "server-load"))
        businessIDs.append(try await service.commit(prepared).registration.id)
    }
    return Seeded(
        credentials: credentials, rootPEM: try root.serializeAsPEM().pemString, businessIDs: businessIDs)
}

// MARK: The yardsticks

/// The store writes of one login, as the server's code makes them (Examples/portal-server/Routes.swift over
/// Registration's CertificateLogin, EvidenceDesk and SessionDesk):
///
/// 1. `POST /login/challenge`: `EvidenceDesk.issue` purges expired challenges (`purgeChallenges`) and inserts the new
///    one (`insert`): 2 writes.
/// 2. `POST /login`: `EvidenceDesk.verify` takes the challenge out (`takeChallenge`, a `DELETE … RETURNING`): 1 write;
///    `CertificateLogin.login` reads the registration bound to the certificate (a read);
///    `SessionDesk.open` purges expired flows (`purgeFlows`) and saves the session (`save`): 2 writes.
let writesPerLogin = 5
/// RSA verifications of one login: the evidence's signature, and the certificate's signature by the CA (the chain
/// check; the root's own signature is not checked).
let verifiesPerLogin = 2

/// The same writes straight against the store, from `writers` tasks at once for `duration` seconds: writes per
/// second, the p50/p99 of one login's five, and this process's processor time per login's five (a PostgreSQL
/// server's own is not in it).
func commitRate(_ store: any RegistrationStore, writers: Int, duration: Double, sample: LoginSession) async throws
    -> (perSecond: Double, p50: Double, p99: Double, cpuPerLogin: Double)
{
    let desk = EvidenceDesk(
        store: store, validator: CertificateValidator(trustAnchors: []), origin: try PortalOrigin("http://127.0.0.1"))
    let sessions = SessionDesk(store: store)
    let clock = ContinuousClock()
    let cpu0 = cpuSeconds(getpid())
    let start = clock.now
    let end = start.advanced(by: .milliseconds(Int(duration * 1000)))
    let times = try await withThrowingTaskGroup(of: [Double].self) { group in
        for _ in 0..<writers {
            group.addTask {
                var times: [Double] = []
                while clock.now < end {
                    let begin = clock.now
                    let challenge = try await desk.issue(for: .login)
                    guard try await store.takeChallenge(challenge.id) != nil else {
                        throw LoadError("a challenge just inserted was not found")
                    }
                    _ = try await sessions.open(sample)
                    times.append(seconds(clock.now - begin) * 1000)
                }
                return times
            }
        }
        var all: [Double] = []
        for try await part in group { all += part }
        return all
    }
    let elapsed = seconds(clock.now - start)
    let cpu = cpuSeconds(getpid()) - cpu0
    let sorted = times.sorted()
    return (
        Double(times.count * writesPerLogin) / elapsed, percentile(sorted, 0.5), percentile(sorted, 0.99),
        cpu / Double(max(times.count, 1))
    )
}

/// `openssl speed -seconds 3 rsa2048`: RSA-2048 verifications per second on one core.
func opensslVerifyRate() throws -> Double {
    guard let openssl = which("openssl") else { throw LoadError("openssl is not on PATH") }
    let (status, output) = try run(openssl, ["speed", "-seconds", "3", "rsa2048"])
    guard status == 0 else { throw LoadError("openssl speed failed (status \(status))") }
    // "rsa 2048 bits 0.000665s 0.000019s   1504.8  52417.6" (OpenSSL 3.0: sign/s and verify/s are the last two).
    for line in output.split(separator: "\n") where line.hasPrefix("rsa") && line.contains("2048") {
        let fields = line.split(separator: " ")
        if fields.count >= 7, let verify = Double(fields[6]) { return verify }
    }
    throw LoadError("openssl speed's output has no rsa 2048 line")
}

// MARK: The login load

struct LoginRun {
    var logins = 0
    var latencies: [Double] = []
    var signing: [Double] = []
    var errors: [String: Int] = [:]
    var firstProblem: String?
    var cookie: String?

    /// Counts an answer that was not the expected one, and keeps the first such answer's text.
    mutating func refused(_ answer: HTTPAnswer, _ what: String) {
        errors["\(what) \(answer.status)", default: 0] += 1
        if firstProblem == nil { firstProblem = "\(what) \(answer.status): \(String(buffer: answer.body))" }
    }
}

/// One client: its own connection; logs in with `credential` until `end` (or once, when `end` is nil).
func loginClient(
    port: Int, origin: String, credential: FileCredential, until end: ContinuousClock.Instant?
) async throws -> LoginRun {
    let connection = try await Connection(port: port)
    let portalOrigin = try PortalOrigin(origin)
    let clock = ContinuousClock()
    var run = LoginRun()
    try await connection.channel.executeThenClose { inbound, outbound in
        var iterator = inbound.makeAsyncIterator()
        repeat {
            let begin = clock.now
            let challengeAnswer = try await connection.send(
                .POST, "/api/v1/login/challenge", headers: [("Origin", origin)], inbound: &iterator,
                outbound: outbound)
            guard challengeAnswer.status == 201 else {
                run.refused(challengeAnswer, "challenge")
                continue
            }
            let afterChallenge = clock.now
            let challenge = try JSONDecoder().decode(
                EvidenceChallenge.self, from: Data(challengeAnswer.body.readableBytesView))
            let evidence = try await challenge.sign(for: portalOrigin, with: credential)
            let body = try JSONEncoder().encode(evidence)
            let signed = clock.now
            let loginAnswer = try await connection.send(
                .POST, "/api/v1/login", headers: [("Origin", origin), ("Content-Type", "application/json")],
                body: [UInt8](body), inbound: &iterator, outbound: outbound)
            guard loginAnswer.status == 200, let setCookie = loginAnswer.headers.first(name: "set-cookie") else {
                run.refused(loginAnswer, "login")
                continue
            }
            let done = clock.now
            run.logins += 1
            // The server's part: both round trips, without the client's signing.
            run.latencies.append(seconds((afterChallenge - begin) + (done - signed)) * 1000)
            run.signing.append(seconds(signed - afterChallenge) * 1000)
            run.cookie = String(setCookie.prefix { $0 != ";" })
        } while end.map { clock.now < $0 } ?? false
    }
    return run
}

// MARK: The server's share: the same logins, the clients' signatures made between two timed halves

/// The first half of a phased login: one client asks for challenges on its own connection until `end`.
func challengeClient(port: Int, origin: String, until end: ContinuousClock.Instant) async throws
    -> (challenges: [EvidenceChallenge], run: LoginRun)
{
    let connection = try await Connection(port: port)
    var run = LoginRun()
    var challenges: [EvidenceChallenge] = []
    let clock = ContinuousClock()
    try await connection.channel.executeThenClose { inbound, outbound in
        var iterator = inbound.makeAsyncIterator()
        repeat {
            let begin = clock.now
            let answer = try await connection.send(
                .POST, "/api/v1/login/challenge", headers: [("Origin", origin)], inbound: &iterator,
                outbound: outbound)
            guard answer.status == 201 else {
                run.refused(answer, "challenge")
                continue
            }
            run.latencies.append(seconds(clock.now - begin) * 1000)
            challenges.append(
                try JSONDecoder().decode(EvidenceChallenge.self, from: Data(answer.body.readableBytesView)))
        } while clock.now < end
    }
    return (challenges, run)
}

/// The second half: one client sends its signed answers on its own connection, one after another.
func answerClient(port: Int, origin: String, bodies: [[UInt8]]) async throws -> LoginRun {
    let connection = try await Connection(port: port)
    var run = LoginRun()
    let clock = ContinuousClock()
    try await connection.channel.executeThenClose { inbound, outbound in
        var iterator = inbound.makeAsyncIterator()
        for body in bodies {
            let begin = clock.now
            let answer = try await connection.send(
                .POST, "/api/v1/login", headers: [("Origin", origin), ("Content-Type", "application/json")],
                body: body, inbound: &iterator, outbound: outbound)
            guard answer.status == 200, answer.headers.first(name: "set-cookie") != nil else {
                run.refused(answer, "login")
                continue
            }
            run.logins += 1
            run.latencies.append(seconds(clock.now - begin) * 1000)
        }
    }
    return run
}

/// Whole logins (challenge → signature → answer → session) with the clients' RSA signatures taken off the timed
/// windows: every client asks for challenges for `seconds`, then the load generator signs them all (not timed; a
/// card does this on the user's computer, not on the portal's cores), then every client sends its answers. The
/// rate is the logins over the two timed windows together; the CPU is read over the same windows. Challenges live
/// 120 s, so the halves must fit in that (they take a few seconds each).
struct PhasedRun {
    var logins = 0
    var elapsed = 0.0
    var challengeSeconds = 0.0
    var answerSeconds = 0.0
    var signingSeconds = 0.0
    var challengeLatencies: [Double] = []
    var answerLatencies: [Double] = []
    var serverCPU = 0.0
    var ownCPU = 0.0
    var errors: [String: Int] = [:]
    var firstProblem: String?
}

func phasedLogins(
    port: Int, origin: String, credentials: [FileCredential], clients: Int, seconds length: Double, pid: pid_t
)
    async throws -> PhasedRun
{
    let clock = ContinuousClock()
    var result = PhasedRun()
    let portalOrigin = try PortalOrigin(origin)

    let serverCPU0 = cpuSeconds(pid)
    let ownCPU0 = cpuSeconds(getpid())
    let challengeStart = clock.now
    let end = challengeStart.advanced(by: .milliseconds(Int(length * 1000)))
    let fetched = try await withThrowingTaskGroup(of: (Int, [EvidenceChallenge], LoginRun).self) { group in
        for client in 0..<clients {
            group.addTask {
                let (challenges, run) = try await challengeClient(port: port, origin: origin, until: end)
                return (client, challenges, run)
            }
        }
        var all = [[EvidenceChallenge]](repeating: [], count: clients)
        for try await (client, challenges, run) in group {
            all[client] = challenges
            result.challengeLatencies += run.latencies
            result.errors.merge(run.errors, uniquingKeysWith: +)
            result.firstProblem = result.firstProblem ?? run.firstProblem
        }
        return all
    }
    result.challengeSeconds = seconds(clock.now - challengeStart)
    let serverCPU1 = cpuSeconds(pid)
    let ownCPU1 = cpuSeconds(getpid())

    // Not timed: every challenge signed with its client's key, on all cores.
    let signingStart = clock.now
    let bodies = try await withThrowingTaskGroup(of: (Int, [[UInt8]]).self) { group in
        for client in 0..<clients {
            let challenges = fetched[client]
            let credential = credentials[client % credentials.count]
            group.addTask {
                var bodies: [[UInt8]] = []
                bodies.reserveCapacity(challenges.count)
                for challenge in challenges {
                    let evidence = try await challenge.sign(for: portalOrigin, with: credential)
                    bodies.append([UInt8](try JSONEncoder().encode(evidence)))
                }
                return (client, bodies)
            }
        }
        var all = [[[UInt8]]](repeating: [], count: clients)
        for try await (client, signed) in group { all[client] = signed }
        return all
    }
    result.signingSeconds = seconds(clock.now - signingStart)

    let serverCPU2 = cpuSeconds(pid)
    let ownCPU2 = cpuSeconds(getpid())
    let answerStart = clock.now
    let runs = try await withThrowingTaskGroup(of: LoginRun.self) { group in
        for client in 0..<clients {
            let mine = bodies[client]
            group.addTask { try await answerClient(port: port, origin: origin, bodies: mine) }
        }
        var runs: [LoginRun] = []
        for try await run in group { runs.append(run) }
        return runs
    }
    result.answerSeconds = seconds(clock.now - answerStart)
    for run in runs {
        result.logins += run.logins
        result.answerLatencies += run.latencies
        result.errors.merge(run.errors, uniquingKeysWith: +)
        result.firstProblem = result.firstProblem ?? run.firstProblem
    }
    result.elapsed = result.challengeSeconds + result.answerSeconds
    result.serverCPU = (serverCPU1 - serverCPU0) + (cpuSeconds(pid) - serverCPU2)
    result.ownCPU = (ownCPU1 - ownCPU0) + (cpuSeconds(getpid()) - ownCPU2)
    result.challengeLatencies.sort()
    result.answerLatencies.sort()
    return result
}

// MARK: Main

let options = Options(Array(CommandLine.arguments.dropFirst()))
signal(SIGPIPE, SIG_IGN)
for signalNumber in [SIGINT, SIGTERM] {
    signal(signalNumber) { number in
        let pid = ServerProcess.pid.load(ordering: .relaxed)
        if pid > 0 { kill(pid, SIGTERM) }
        _exit(128 + number)
    }
}

let work = FileManager.default.temporaryDirectory.appendingPathComponent("server-load-\(UUID().uuidString.prefix(8))")
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)

// The store's address; for PostgreSQL a schema of its own. `shown` is what may be printed (no password).
let storeAddress: String
let shownAddress: String
let storeKind: String
if options.db == "sqlite" {
    storeAddress = work.appendingPathComponent("portal.sqlite").path
    shownAddress = storeAddress
    storeKind = "SQLite"
} else {
    let base =
        options.db == "postgres"
        ? ProcessInfo.processInfo.environment["PI_TEST_POSTGRES_URL"] ?? defaultPostgres : options.db
    guard PostgresStoreConfiguration.isPostgresURL(base) else { fail("--db is sqlite, postgres or a postgres:// URL") }
    let schema = "t_\(Int(Date().timeIntervalSince1970))_load\(UUID().uuidString.prefix(6).lowercased())"
    storeAddress = base + (base.contains("?") ? "&" : "?") + "schema=" + schema
    shownAddress = (try? PostgresStoreConfiguration(url: storeAddress).description) ?? "the PostgreSQL database"
    storeKind = "PostgreSQL"
}

do {
    let machine =
        "\(ProcessInfo.processInfo.activeProcessorCount) cores, load average "
        + ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
            .joined(separator: " ") ?? "?")
    say("\(storeKind) store \(shownAddress); \(machine)")

    // The server binary.
    if !FileManager.default.isExecutableFile(atPath: options.serverBinary) {
        say("building portal-server (release)…")
        guard let swift = which("swift") else { fail("no \(options.serverBinary) and no swift to build it") }
        let (status, _) = try run(swift, ["build", "-c", "release", "--product", "portal-server"])
        guard status == 0, FileManager.default.isExecutableFile(atPath: options.serverBinary) else {
            fail("swift build -c release --product portal-server failed")
        }
    }

    // Seeding.
    let authority = try TestCertificateAuthority(directory: work.appendingPathComponent("ca"))
    var seedStart = ContinuousClock.now
    let seeded: Seeded
    let commits: (perSecond: Double, p50: Double, p99: Double, cpuPerLogin: Double)
    do {
        let store = try await openStore(storeAddress)
        seeded = try await seed(store, users: options.users, authority: authority)
        say("seeded \(options.users) businesses in \(fixed(seconds(ContinuousClock.now - seedStart), 1)) s")
        seedStart = ContinuousClock.now
        guard let first = try await store.registration(seeded.businessIDs[0]) else {
            fail("the first business seeded is not in the store")
        }
        let user = first.users[0]
        let sample = LoginSession(
            businessID: first.id, businessName: first.business.name, userID: user.id, userName: user.information.name,
            role: user.role, bindingID: first.bindings[0].id, authenticatedAt: Date())
        commits = try await commitRate(
            store, writers: options.clients, duration: options.commitSeconds, sample: sample)
        say(
            "store: \(grouped(commits.perSecond)) writes/s (the \(writesPerLogin) of a login, \(options.clients) writers)"
        )
        if let postgres = store as? PostgresRegistrationStore { await postgres.close() }
    }
    let rootPath = work.appendingPathComponent("root.pem").path
    try seeded.rootPEM.write(toFile: rootPath, atomically: true, encoding: .utf8)

    let verifyRate = try opensslVerifyRate()
    say("openssl speed: \(grouped(verifyRate)) RSA-2048 verifies/s")

    // The server.
    let port = freePort()
    let origin = "http://127.0.0.1:\(port)"
    let logPath = work.appendingPathComponent("server.log").path
    var arguments = [
        "--listen", "127.0.0.1:\(port)", "--origin", origin, "--trust", rootPath,
        // The per-address limit would refuse 64 clients from one address at once: out of the way.
        "--login-burst", "1000000000", "--login-per-minute", "1000000000",
    ]
    var environment = ProcessInfo.processInfo.environment
    if storeKind == "SQLite" {
        arguments += ["--db", storeAddress]
    } else {
        // In the environment, not on the command line (which `ps` shows), as the URL may hold a password.
        environment["DATABASE_URL"] = storeAddress
    }
    let pid = try spawn(options.serverBinary, arguments, outputPath: logPath, environment: environment)
    ServerProcess.pid.store(pid, ordering: .relaxed)
    defer { stopServer() }
    var listening = false
    for _ in 0..<300 {
        if let text = try? String(contentsOfFile: logPath, encoding: .utf8), text.contains("listening on") {
            listening = true
            break
        }
        guard waitpid(pid, nil, WNOHANG) == 0 else { break }
        try await Task.sleep(for: .milliseconds(100))
    }
    guard listening else {
        fail("the server did not start; its log: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
    }
    say("server pid \(pid) on \(origin); log \(logPath)")

    // Warm-up: every client logs in once (connections opened, caches warm).
    let credentials = seeded.credentials
    let warm = try await withThrowingTaskGroup(of: LoginRun.self) { group in
        for client in 0..<options.clients {
            group.addTask {
                try await loginClient(
                    port: port, origin: origin, credential: credentials[client % credentials.count], until: nil)
            }
        }
        var runs: [LoginRun] = []
        for try await run in group { runs.append(run) }
        return runs
    }
    guard let cookie = warm.compactMap(\.cookie).first else {
        fail("no login succeeded in the warm-up: \(warm.compactMap(\.firstProblem).first ?? "")")
    }

    // The timed logins.
    say("logins: \(options.clients) clients for \(fixed(options.seconds, 0)) s…")
    let clock = ContinuousClock()
    let serverCPU0 = cpuSeconds(pid)
    let ownCPU0 = cpuSeconds(getpid())
    let loginStart = clock.now
    let end = loginStart.advanced(by: .milliseconds(Int(options.seconds * 1000)))
    let runs = try await withThrowingTaskGroup(of: LoginRun.self) { group in
        for client in 0..<options.clients {
            group.addTask {
                try await loginClient(
                    port: port, origin: origin, credential: credentials[client % credentials.count], until: end)
            }
        }
        var runs: [LoginRun] = []
        for try await run in group { runs.append(run) }
        return runs
    }
    let loginElapsed = seconds(clock.now - loginStart)
    let serverCores = (cpuSeconds(pid) - serverCPU0) / loginElapsed
    let ownCores = (cpuSeconds(getpid()) - ownCPU0) / loginElapsed
    let logins = runs.reduce(0) { $0 + $1.logins }
    let latencies = runs.flatMap(\.latencies).sorted()
    let signing = runs.flatMap(\.signing).sorted()
    var errors: [String: Int] = [:]
    for run in runs + warm { errors.merge(run.errors, uniquingKeysWith: +) }
    let loginRate = Double(logins) / loginElapsed
    let memoryAfterLogins = (procStatus(pid, "VmHWM"), procStatus(pid, "VmRSS"))
    say("\(grouped(loginRate)) logins/s")

    // The same logins with the clients' signatures made between two timed halves.
    // At most 10 s of challenges: signing them takes about 3 times as long and answering them 4 times, well within
    // their 120 s.
    let challengeSeconds = min(options.seconds / 2, 10)
    say("logins, the signatures made between the timed halves: challenges for \(fixed(challengeSeconds, 0)) s…")
    let phased = try await phasedLogins(
        port: port, origin: origin, credentials: credentials, clients: options.clients,
        seconds: challengeSeconds, pid: pid)
    errors.merge(phased.errors, uniquingKeysWith: +)
    let phasedRate = Double(phased.logins) / phased.elapsed
    say("\(grouped(phasedRate)) logins/s over the timed halves")

    // wrk: authenticated reads.
    var wrkLine: (rate: Double, p50: String, p99: String, errors: String, serverCores: Double)?
    if options.wrk {
        guard let wrk = which("wrk") else { fail("wrk is not on PATH (apt-get install -y wrk), or pass --no-wrk") }
        let serverCPU1 = cpuSeconds(pid)
        let wrkStart = clock.now
        let (status, output) = try run(
            wrk,
            [
                "--latency", "-t", "2", "-c", "\(options.clients)", "-d", "\(Int(options.wrkSeconds))s", "-H",
                "Cookie: \(cookie)", "\(origin)/api/v1/registration",
            ])
        let wrkCores = (cpuSeconds(pid) - serverCPU1) / seconds(clock.now - wrkStart)
        guard status == 0 else { fail("wrk failed (status \(status)): \(output)") }
        func field(_ prefix: String) -> String? {
            output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .first { $0.hasPrefix(prefix) }
                .map { String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
        }
        let rate = Double(field("Requests/sec:") ?? "") ?? .nan
        let non2xx = field("Non-2xx or 3xx responses:") ?? "0"
        let socket = field("Socket errors:")
        wrkLine = (
            rate, field("50%") ?? "?", field("99%") ?? "?",
            non2xx + (socket.map { " (socket errors: \($0))" } ?? ""), wrkCores
        )
        say("wrk: \(grouped(rate)) requests/s")
    }
    let memoryAtEnd = (procStatus(pid, "VmHWM"), procStatus(pid, "VmRSS"))

    // Stop the server; a crash shows in its status.
    ServerProcess.pid.store(0, ordering: .relaxed)
    kill(pid, SIGTERM)
    let serverStatus = waitFor(pid)
    let serverLog = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    let serverErrors = serverLog.split(separator: "\n").filter { $0.contains(" error ") || $0.contains("error:") }
        .count

    // The table.
    let ceiling = 1 / (Double(verifiesPerLogin) / verifyRate + Double(writesPerLogin) / commits.perSecond)
    let errorCount = errors.values.reduce(0, +)
    print("")
    print(
        "server-load: \(storeKind) store, \(options.users) users, \(options.clients) clients, "
            + "\(fixed(options.seconds, 0)) s of logins; \(machine) at the start")
    print("")
    print("| measure | value | yardstick | ratio |")
    print("|---|---|---|---|")
    print(
        "| logins/s (\(options.clients) clients, HTTP/1.1 keep-alive) | \(grouped(loginRate)) "
            + "| ceiling \(grouped(ceiling))/s = 1/(\(verifiesPerLogin)/verify + \(writesPerLogin)/commit) "
            + "| \(fixed(loginRate / ceiling))× (goal ≥ 0.5×) |")
    print(
        "| logins/s, the clients' signatures made between the timed halves (challenges \(fixed(phased.challengeSeconds, 1)) s, "
            + "answers \(fixed(phased.answerSeconds, 1)) s; signing \(fixed(phased.signingSeconds, 1)) s not timed) "
            + "| \(grouped(phasedRate)) | ceiling \(grouped(ceiling))/s | \(fixed(phasedRate / ceiling))× (goal ≥ 0.5×) |"
    )
    print(
        "| the same, per request | challenge p50 \(fixed(percentile(phased.challengeLatencies, 0.5))) ms, "
            + "p99 \(fixed(percentile(phased.challengeLatencies, 0.99))) ms; answer p50 "
            + "\(fixed(percentile(phased.answerLatencies, 0.5))) ms, p99 "
            + "\(fixed(percentile(phased.answerLatencies, 0.99))) ms | | |")
    print(
        "| CPU over the timed halves (cores busy) | server \(fixed(phased.serverCPU / phased.elapsed)), "
            + "load generator \(fixed(phased.ownCPU / phased.elapsed)) | \(ProcessInfo.processInfo.activeProcessorCount) cores | |"
    )
    print(
        "| login latency, challenge + answer round trips (client signing excluded) | p50 "
            + "\(fixed(percentile(latencies, 0.5))) ms, p99 \(fixed(percentile(latencies, 0.99))) ms | | |")
    print(
        "| the client's RSA signature (file key) | p50 \(fixed(percentile(signing, 0.5))) ms, "
            + "p99 \(fixed(percentile(signing, 0.99))) ms | | |")
    let errorKinds = errors.map { "\($0.key): \($0.value)" }.sorted().joined(separator: ", ")
    print("| errors (non-2xx) | \(errorCount)\(errors.isEmpty ? "" : " (" + errorKinds + ")") | 0 | |")
    print("| RSA-2048 verifies/s (`openssl speed -seconds 3 rsa2048`, 1 core) | \(grouped(verifyRate)) | | |")
    print(
        "| store writes/s (a login's \(writesPerLogin), \(options.clients) writers, in-process) "
            + "| \(grouped(commits.perSecond)) (a login's writes: p50 \(fixed(commits.p50)) ms, "
            + "p99 \(fixed(commits.p99)) ms) | | |")
    print(
        "| CPU during the logins (cores busy) | server \(fixed(serverCores)), load generator \(fixed(ownCores)) "
            + "| \(ProcessInfo.processInfo.activeProcessorCount) cores | |")
    // Processor time per login, against the yardsticks' own: the store's writes as the in-process run spent it,
    // and the verifications at openssl's rate. A server that did nothing else would still share the cores with the
    // load generator in the first run: `bound` is what the cores allow then.
    let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
    let yardstickCPU = commits.cpuPerLogin + Double(verifiesPerLogin) / verifyRate
    let firstServerCPU = serverCores * loginElapsed / Double(max(logins, 1))
    let firstOwnCPU = ownCores * loginElapsed / Double(max(logins, 1))
    let bound = cores / (yardstickCPU + firstOwnCPU)
    print(
        "| processor time per login | server \(fixed(firstServerCPU * 1000)) ms, load generator "
            + "\(fixed(firstOwnCPU * 1000)) ms; signatures off the clock: server "
            + "\(fixed(phased.serverCPU / Double(max(phased.logins, 1)) * 1000)) ms "
            + "| the yardsticks' work \(fixed(yardstickCPU * 1000)) ms (the writes in-process "
            + "\(fixed(commits.cpuPerLogin * 1000)) ms, \(verifiesPerLogin) verifications"
            + (storeKind == "SQLite" ? "" : "; PostgreSQL's own time not counted") + ") | |")
    print(
        "| logins/s a server doing only the yardsticks' work would reach beside this load generator "
            + "(\(Int(cores)) cores / (yardsticks' + load generator's time per login)) | at most \(grouped(bound)) "
            + (storeKind == "SQLite" ? "" : " (fewer: PostgreSQL's own time is not in the yardsticks' here)")
            + " | ceiling \(grouped(ceiling))/s | \(fixed(bound / ceiling))× |")
    if let wrkLine {
        print(
            "| GET /api/v1/registration/s (wrk, \(options.clients) connections, one session) | \(grouped(wrkLine.rate)) "
                + "(p50 \(wrkLine.p50), p99 \(wrkLine.p99)) | | |")
        print("| wrk errors (non-2xx) | \(wrkLine.errors) | 0 | |")
        print("| CPU during wrk (server) | \(fixed(wrkLine.serverCores)) cores | | |")
    }
    func kB(_ value: Int?) -> String { value.map { "\(grouped(Double($0))) kB" } ?? "?" }
    print(
        "| server memory after the logins | VmHWM \(kB(memoryAfterLogins.0)), VmRSS \(kB(memoryAfterLogins.1)) "
            + "| | |")
    print("| server memory at the end | VmHWM \(kB(memoryAtEnd.0)), VmRSS \(kB(memoryAtEnd.1)) | | |")
    print("")
    print(
        "server exit status \(serverStatus); "
            + "\(serverErrors) error lines in its log")
    if let problem = runs.compactMap(\.firstProblem).first ?? warm.compactMap(\.firstProblem).first
        ?? phased.firstProblem
    {
        print("first refused: \(problem)")
    }
    if errorCount > 0 || serverErrors > 0 || serverStatus != 0 { exit(1) }
    // A clean run leaves nothing behind (a PostgreSQL schema t_…_load… is dropped by the test bench's clean-up).
    try? FileManager.default.removeItem(at: work)
} catch {
    fail("\(error)")
}
