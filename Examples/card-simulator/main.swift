// card-simulator: serves a virtual JPKI card or private-CA IC card to pcscd through vpcd until interrupted.
//
//   card-simulator jpki --slot 0 --state DIR --sign-pin … --auth-pin …
//   card-simulator ic-card --slot 1 --state DIR --pin … [--expired | --expires-in DAYS]
//
// DIR keeps the test certification authority (DIR/ca), the card (its keys, certificates, PIN values and counters,
// so a blocked PIN stays blocked across restarts) and PEM copies of the card's certificates and the CA roots.
// PINs given on the command line are test values; they are never printed.

import ArgumentParser
import CardSimulator
import Dispatch
import Foundation
import ToolSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@main
struct CardSimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "card-simulator",
        abstract: "Serve a virtual IC card to pcscd through the vpcd reader driver.",
        discussion: """
            The card stays in the reader until the simulator is stopped (Ctrl-C, or SIGTERM with `kill PID`); it then \
            removes the card and exits 0. On start it says on standard error which reader it serves and how to \
            stop it. --trace logs each APDU the card answers (PINs masked).

            \(ExitStatus.helpText)

            \(ExitStatus.commonOptionsText)
            """,
        version: ToolVersion.current,
        subcommands: [JPKI.self, ICCard.self])

    static func main() async {
        await ToolMain.run(Self.self, tool: "card-simulator") { _ in .failed }
    }
}

/// Options every card shares.
struct ServingOptions: ParsableArguments {
    @Option(help: "The vpcd reader slot: 0 is \"Virtual PCD 00 00\", 1 is \"Virtual PCD 00 01\".")
    var slot: Int = 0

    @Option(help: "The directory that keeps the test CA, the card and its certificates (created if missing).")
    var state: String

    @Flag(help: "Answer extended-length APDUs with 67 00, as a card without extended length.")
    var noExtendedLength = false

    @Flag(help: "Issue the new card's certificates already expired.")
    var expired = false

    @Option(help: "Issue the new card's certificates to expire in this many days.")
    var expiresIn: Int?

    @Option(
        help: "The test CA's directory (default: STATE/ca). Cards served from several states share one CA this way.")
    var ca: String?

    var directory: URL { URL(filePath: state) }
    var caDirectory: URL { ca.map { URL(filePath: $0) } ?? directory.appending(path: "ca") }

    func validity(defaultDays: Int) throws -> CertificateValidity {
        if expired && expiresIn != nil { throw ValidationError("Give --expired or --expires-in, not both.") }
        if expired { return .expired(daysAgo: 1) }
        if let days = expiresIn {
            guard days > 0 else { throw ValidationError("--expires-in needs a positive number of days.") }
            return .expiring(inDays: days)
        }
        return .valid(days: defaultDays)
    }
}

struct JPKI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jpki", abstract: "Serve a virtual My Number card (JPKI and text-input-support applications).")

    @OptionGroup var serving: ServingOptions

    @Option(help: "The signing PIN of a new card: 6–16 upper-case letters and digits.")
    var signPIN: String?

    @Option(help: "The user-authentication PIN of a new card: 4 digits.")
    var authPIN: String?

    @Option(help: "The text-input-support PIN of a new card: 4 digits (the authentication PIN by default).")
    var textPIN: String?

    @Option(help: "Status word for a blocked PIN: 6984 (My Number cards) or 6983.")
    var blockedStatus: String = "6984"

    @Flag(help: "Answer the tries-left query with 90 00 while the PIN is verified (OpenSC then fails to bind).")
    var successWhenVerified = false

    func run() async throws {
        let directory = serving.directory
        let blocked: CardBehavior.StatusWordValue
        switch blockedStatus {
        case "6984": blocked = .referenceDataNotUsable
        case "6983": blocked = .authenticationMethodBlocked
        default: throw ValidationError("--blocked-status must be 6984 or 6983.")
        }
        let behavior = CardBehavior(
            supportsExtendedLength: !serving.noExtendedLength, blockedPINStatus: blocked,
            verifiedPINQuery: successWhenVerified ? .success : .triesLeft)
        let store = SnapshotStore<JPKICard.Snapshot>(url: directory.appending(path: "jpki-card.json"))
        let authority = try TestCertificateAuthority(directory: serving.caDirectory)
        let card: JPKICard
        if let snapshot = try store.load() {
            card = try JPKICard(snapshot: snapshot, behavior: behavior)
            print("Using the JPKI card kept in \(store.url.path) (its PINs and counters as they were).")
        } else {
            guard let signPIN, let authPIN else {
                throw ValidationError("A new card needs --sign-pin and --auth-pin.")
            }
            card = try JPKICard.issue(
                by: authority, holder: .example, signingPIN: signPIN, authenticationPIN: authPIN,
                textInputSupportPIN: textPIN, validity: try serving.validity(defaultDays: 5 * 365), behavior: behavior)
            try store.save(card.snapshot)
            print("Issued a new JPKI card; kept in \(store.url.path).")
        }
        card.onPersistentStateChange { snapshot in
            do { try store.save(snapshot) } catch { printError("Could not keep the PIN counters: \(error)") }
        }
        let snapshot = card.snapshot
        try writePEM(
            [
                ("jpki-authentication.pem", snapshot.authenticationCertificate),
                ("jpki-authentication-ca.pem", snapshot.authenticationCACertificate),
                ("jpki-signing.pem", snapshot.signingCertificate),
                ("jpki-signing-ca.pem", snapshot.signingCACertificate),
            ], authority: authority, into: directory)
        try await serve(card, slot: serving.slot)
    }
}

struct ICCard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ic-card", abstract: "Serve a virtual private-CA IC card for e-bidding.")

    @OptionGroup var serving: ServingOptions

    @Option(help: "The PIN of a new card: 4–16 printable ASCII characters.")
    var pin: String?

    @Option(help: "Wrong tries before a new card's PIN blocks.")
    var maxTries: Int = 10

    @Option(help: "The company name (商号) in a new card's certificate.")
    var company: String = EBiddingHolder.example.companyName

    @Option(help: "The holder's name in a new card's certificate.")
    var holder: String = EBiddingHolder.example.name

    func run() async throws {
        let directory = serving.directory
        let behavior = CardBehavior(
            supportsExtendedLength: !serving.noExtendedLength, blockedPINStatus: .authenticationMethodBlocked,
            verifiedPINQuery: .success)
        let store = SnapshotStore<PrivateCAICCard.Snapshot>(url: directory.appending(path: "ic-card.json"))
        let authority = try TestCertificateAuthority(directory: serving.caDirectory)
        let card: PrivateCAICCard
        if let snapshot = try store.load() {
            card = try PrivateCAICCard(snapshot: snapshot, behavior: behavior)
            print("Using the IC card kept in \(store.url.path) (its PIN and counter as they were).")
        } else {
            guard let pin else { throw ValidationError("A new card needs --pin.") }
            var holder = EBiddingHolder.example
            holder.companyName = company
            holder.name = self.holder
            card = try PrivateCAICCard.issue(
                by: authority, holder: holder, pin: pin, maximumTries: maxTries,
                validity: try serving.validity(defaultDays: 395), behavior: behavior)
            try store.save(card.snapshot)
            print("Issued a new IC card; kept in \(store.url.path).")
        }
        card.onPersistentStateChange { snapshot in
            do { try store.save(snapshot) } catch { printError("Could not keep the PIN counter: \(error)") }
        }
        let snapshot = card.snapshot
        try writePEM(
            [("ic-card-holder.pem", snapshot.holderCertificate), ("ic-card-ca.pem", snapshot.caCertificate)],
            authority: authority, into: directory)
        try await serve(card, slot: serving.slot)
    }
}

/// Keeps a card's snapshot as JSON, readable by its owner only (it holds keys and PINs).
struct SnapshotStore<Snapshot: Codable & Sendable>: Sendable {
    let url: URL

    func load() throws -> Snapshot? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return try JSONDecoder().decode(Snapshot.self, from: data)
    }

    func save(_ snapshot: Snapshot) throws {
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.appendingPathExtension("tmp")
        try JSONEncoder().encode(snapshot).write(to: temporary)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: temporary.path)
        guard rename(temporary.path, url.path) == 0 else {
            throw CocoaError(.fileWriteUnknown)
        }
    }
}

/// Writes the card's certificates and the CA roots as PEM into the state directory.
func writePEM(_ certificates: [(String, [UInt8])], authority: TestCertificateAuthority, into directory: URL) throws {
    for (name, der) in certificates {
        try pem(der).write(to: directory.appending(path: name), atomically: true, encoding: .utf8)
    }
    for hierarchy in TestCertificateAuthority.Hierarchy.allCases {
        try authority.rootCertificatePEM(hierarchy).write(
            to: directory.appending(path: "root-\(hierarchy.rawValue).pem"), atomically: true, encoding: .utf8)
    }
}

func pem(_ der: [UInt8]) -> String {
    let base64 = Data(der).base64EncodedString()
    var lines: [String] = []
    var index = base64.startIndex
    while index < base64.endIndex {
        let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
        lines.append(String(base64[index..<end]))
        index = end
    }
    return "-----BEGIN CERTIFICATE-----\n" + lines.joined(separator: "\n") + "\n-----END CERTIFICATE-----\n"
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Inserts the card into the vpcd slot and serves it until SIGINT or SIGTERM, then pulls it cleanly.
func serve(_ card: any VirtualCard, slot: Int) async throws {
    let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: slot))
    let (signals, continuation) = AsyncStream<Int32>.makeStream()
    var sources: [any DispatchSourceSignal] = []
    for number in [SIGINT, SIGTERM] {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { continuation.yield(number) }
        source.resume()
        sources.append(source)
    }
    try await server.insert(card)
    print("Card inserted in vpcd slot \(slot) (port \(server.port)); Ctrl-C to remove it.")
    printError(
        "card-simulator: serving the card in vpcd slot \(slot): the reader pcscd names \"Virtual PCD 00 \(String(format: "%02d", slot))\" "
            + "(port \(server.port)). Stop with Ctrl-C, or `kill \(getpid())`; the card is then removed.")
    fflush(nil)
    for await _ in signals { break }
    await server.remove()
    sources.forEach { $0.cancel() }
    print("Card removed.")
}
