// agent-benchmark: the card agent's operations against a virtual My Number card through pcscd and vpcd, as a page
// asks for them (`CardAgent.handle`, the request a browser sends): the time from the request to the answer, split
// into the agent's own time, PC/SC's and the card's, and the APDUs per operation beside the `jpki` tool's count for
// the same work. In the same run, a raw SCardTransmit loop measures what one APDU costs PC/SC.
//
//     swift build -c release --product agent-benchmark
//     .build/release/agent-benchmark [--slot N] [--rounds N]
//
// The PIN is answered at once by an in-process dialog (the time a person and pinentry take is not the agent's).
// PC/SC's time is the operation's APDUs times the raw loop's time per APDU less the card's; the card's time is
// measured inside the virtual card; the agent's is the rest (HTTP parsing is not in it: the HTTP layer is thin).

import CPCSCLite
import CardAgent
import CardCredentials
import CardSimulator
import Foundation
import JPKI
import PCSC
import Synchronization

struct Options {
    var slot = 0
    var rounds = 20

    static func parse() -> Options {
        var options = Options()
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--slot": options.slot = arguments.next().flatMap(Int.init) ?? -1
            case "--rounds": options.rounds = arguments.next().flatMap(Int.init) ?? -1
            default:
                print("usage: agent-benchmark [--slot 0|1] [--rounds N]")
                exit(64)
            }
        }
        guard (0...1).contains(options.slot), options.rounds > 0 else {
            print("usage: agent-benchmark [--slot 0|1] [--rounds N]")
            exit(64)
        }
        return options
    }
}

/// A virtual card that counts the commands it answers and the time it spends answering them.
final class MeasuredCard: VirtualCard {
    let inner: any VirtualCard
    private let commands = Atomic<Int>(0)
    private let nanoseconds = Atomic<Int>(0)
    var atr: [UInt8] { inner.atr }

    init(_ inner: any VirtualCard) { self.inner = inner }

    func handle(_ event: CardPowerEvent) { inner.handle(event) }

    func respond(to command: [UInt8]) -> [UInt8] {
        let start = ContinuousClock.now
        let answer = inner.respond(to: command)
        let elapsed = ContinuousClock.now - start
        commands.add(1, ordering: .relaxed)
        nanoseconds.add(Int(elapsed.components.attoseconds / 1_000_000_000), ordering: .relaxed)
        return answer
    }

    /// The commands and card time since the last reading.
    func take() -> (apdus: Int, card: Duration) {
        let count = commands.exchange(0, ordering: .relaxed)
        let time = nanoseconds.exchange(0, ordering: .relaxed)
        return (count, .nanoseconds(time))
    }
}

/// PINs and consents answered at once.
struct InstantDialogs: PINDialogs {
    let pins: [PINPolicy: String]

    func askPIN(_ dialog: PINDialog) async throws(AgentError) -> SecretPIN {
        guard let text = pins[dialog.policy], let pin = try? SecretPIN(text, policy: dialog.policy) else {
            throw AgentError(.cancelled, "no PIN for this dialog")
        }
        return pin
    }

    func confirm(_ dialog: ConsentDialog) async throws(AgentError) {}
}

func check(_ result: LONG, _ call: String) {
    if result != SCARD_S_SUCCESS {
        print("\(call) failed: \(PCSCError(code: Int64(result)).map { "\($0)" } ?? "")")
        exit(1)
    }
}

/// The raw C loop: SELECT of the JPKI application by SCardTransmit and nothing else.
func rawRound(reader: String, count: Int) -> Duration {
    let select: [UInt8] = [0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]
    var context = SCARDCONTEXT()
    check(SCardEstablishContext(DWORD(SCARD_SCOPE_SYSTEM), nil, nil, &context), "SCardEstablishContext")
    defer { SCardReleaseContext(context) }
    var handle = SCARDHANDLE()
    var active = DWORD()
    check(SCardConnect(context, reader, DWORD(SCARD_SHARE_SHARED), DWORD(3), &handle, &active), "SCardConnect")
    defer { SCardDisconnect(handle, DWORD(SCARD_LEAVE_CARD)) }
    var pci = SCARD_IO_REQUEST(
        dwProtocol: DWORD(SCARD_PROTOCOL_T1), cbPciLength: DWORD(MemoryLayout<SCARD_IO_REQUEST>.size))
    var receive = [UInt8](repeating: 0, count: 258)
    let start = ContinuousClock.now
    for _ in 0..<count {
        var length = DWORD(receive.count)
        let result = select.withUnsafeBufferPointer { send in
            receive.withUnsafeMutableBufferPointer { buffer in
                SCardTransmit(handle, &pci, send.baseAddress, DWORD(send.count), nil, buffer.baseAddress, &length)
            }
        }
        check(result, "SCardTransmit")
        if length != 2 || receive[0] != 0x90 { print("the SELECT was refused"); exit(1) }
    }
    return ContinuousClock.now - start
}

func median(_ values: [Duration]) -> Duration {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func milliseconds(_ duration: Duration) -> String {
    let value = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    return String(format: "%8.2f", value)
}

let options = Options.parse()
let directory = FileManager.default.temporaryDirectory.appending(path: "agent-benchmark-\(UUID().uuidString)")
defer { try? FileManager.default.removeItem(at: directory) }
let authority = try TestCertificateAuthority(directory: directory)
let (signingPIN, authenticationPIN) = ("BENCH123", "1234")
let card = MeasuredCard(
    try JPKICard.issue(
        by: authority, holder: .example, signingPIN: signingPIN, authenticationPIN: authenticationPIN))
let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: options.slot))
try await server.insert(card)
let context = try PCSCContext()
let readers = try await context.readers().filter { $0.hasPrefix("Virtual PCD") }.sorted()
guard readers.count > options.slot else {
    print("no vpcd reader for slot \(options.slot): run Scripts/setup-test-bench")
    exit(1)
}
let reader = readers[options.slot]
for _ in 0..<200 {
    if try await context.readerStatuses(of: [reader]).first?.isCardPresent == true { break }
    try await Task.sleep(for: .milliseconds(20))
}

// PC/SC's cost of one APDU: the raw loop less the card's time in it.
_ = card.take()
let rawCount = 500
let raw = rawRound(reader: reader, count: rawCount)
let rawCard = card.take()
let pcscPerAPDU = (raw - rawCard.card) / rawCount

let origin = try PortalOrigin("https://portal.example.jp")
let agent = CardAgent(
    policy: AgentPolicy(allowedOrigins: [origin], listenAddresses: [try ListenAddress("127.0.0.1:24780")]),
    authenticator: CardAuthenticator(
        dialogs: InstantDialogs(pins: [.jpkiSigning: signingPIN, .jpkiAuthentication: authenticationPIN])))
let headers = [("Host", "127.0.0.1:24780"), ("Origin", origin.description), ("Content-Type", "application/json")]
let document = Array(repeating: UInt8(ascii: "a"), count: 1024)

/// Runs `request` `options.rounds` times (after one warm-up) and returns the median total, card and APDU figures.
func measure(_ request: @Sendable () throws -> AgentRequest) async throws -> (
    total: Duration, card: Duration, apdus: Int
) {
    var totals: [Duration] = []
    var cards: [Duration] = []
    var apdus: [Int] = []
    for round in 0...options.rounds {
        let built = try request()
        _ = card.take()
        let start = ContinuousClock.now
        let answer = await agent.handle(built)
        let total = ContinuousClock.now - start
        let seen = card.take()
        guard answer.status == 200 else {
            print("the agent answered \(answer.status): \(String(decoding: answer.body, as: UTF8.self))")
            exit(1)
        }
        if round == 0 { continue }  // the warm-up
        totals.append(total)
        cards.append(seen.card)
        apdus.append(seen.apdus)
    }
    return (median(totals), median(cards), apdus.sorted()[apdus.count / 2])
}

/// The APDUs of the same work done as the `jpki` tool does it (the library's calls, one connection).
func toolCount(_ work: @Sendable (MyNumberCard) async throws -> Void) async throws -> Int {
    let connection = try await context.connect(to: reader)
    _ = card.take()
    let myNumberCard = try await MyNumberCard.connect(transport: connection)
    try await work(myNumberCard)
    let seen = card.take()
    await connection.disconnect()
    return seen.apdus
}

let login = try await measure {
    let challenge = EvidenceChallenge.random(for: .login, expiresAt: Date() + 120)
    return AgentRequest(
        method: "POST", path: "/v1/authenticate", headers: headers, body: Array(try JSONEncoder().encode(challenge)))
}
let signing = try await measure {
    AgentRequest(
        method: "POST", path: "/v1/sign", headers: headers,
        body: Array(try JSONEncoder().encode(DocumentSigningRequest(document: document, name: "入札書.txt"))))
}
let cards = try await measure { AgentRequest(method: "GET", path: "/v1/cards", headers: headers) }

// The same work as the jpki tool does it (Examples/jpki): `jpki sign` but with the authentication key, `jpki sign
// --include-ca` for the document, `jpki certs --type auth` and `--type auth-ca` for the list. The tool reads the PIN
// before it touches the card; the agent reads the tries left first, to say them in its dialog.
let toolLogin = try await toolCount { card in
    let key = try await card.authenticationKey(pin: try SecretPIN(authenticationPIN, policy: .jpkiAuthentication))
    _ = try await key.sign(Array("evidence".utf8), algorithm: .rsaPKCS1SHA256)
}
let toolSigning = try await toolCount { card in
    let key = try await card.signingKey(
        pin: try SecretPIN(signingPIN, policy: .jpkiSigning), includeCACertificate: true)
    _ = try await CMSSignedData.sign(document, with: key)
}
let toolCards = try await toolCount { card in
    _ = try await card.certificateDER(.authentication)
    _ = try await card.certificateDER(.authenticationCA)
}
await server.remove()

print("card-agent operations, virtual My Number card through pcscd and vpcd, median of \(options.rounds) rounds")
print(
    "PC/SC per APDU (raw SCardTransmit, \(rawCount) SELECTs, card time removed): \(milliseconds(pcscPerAPDU)) ms")
print("")
print("| operation | total ms | agent ms | PC/SC ms | card ms | APDUs | jpki tool's APDUs for the same work |")
print("|---|---|---|---|---|---|---|")
for (name, figures, tool) in [
    ("POST /v1/authenticate (login evidence)", login, toolLogin),
    ("POST /v1/sign (1 KiB document, CMS)", signing, toolSigning),
    ("GET /v1/cards", cards, toolCards),
] {
    let pcsc = pcscPerAPDU * figures.apdus
    let agentTime = figures.total - pcsc - figures.card
    print(
        "| \(name) | \(milliseconds(figures.total)) | \(milliseconds(agentTime)) | \(milliseconds(pcsc)) | "
            + "\(milliseconds(figures.card)) | \(figures.apdus) | \(tool) |")
}
