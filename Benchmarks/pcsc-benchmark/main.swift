// pcsc-benchmark: APDUs per second through pcscd and vpcd, raw SCardTransmit against the PCSC module's CardChannel,
// in one run against the same virtual card; then the APDUs each `jpki` command sends to a virtual My Number card.
// Run it in release mode with pcscd and vsmartcard-vpcd installed:
//
//     swift run --package-path Benchmarks -c release pcsc-benchmark [--slot N] [--apdus N] [--rounds N] [--counts-only]
//
// Rounds alternate between the ways so that drift on the machine hits them alike; the table shows the median
// round of each. `--counts-only` skips the timing and prints only the APDU counts per command.

import CPCSCLiteRaw
import CardCredentials
import CardSimulator
import Foundation
import ISO7816
import JPKI
import PCSC
import Synchronization

/// A card that echoes its data: the least work a card can do, so the numbers show the stack, not the card.
final class EchoCard: VirtualCard {
    let atr: [UInt8] = [0x3B, 0x81, 0x81, 0x01, 0x80, 0x81]
    private let commands = Atomic<Int>(0)
    var commandCount: Int { commands.load(ordering: .relaxed) }

    func handle(_ event: CardPowerEvent) {}

    func respond(to command: [UInt8]) -> [UInt8] {
        commands.add(1, ordering: .relaxed)
        guard command.count > 5 else { return [0x90, 0x00] }
        return Array(command[5..<(5 + Int(command[4]))]) + [0x90, 0x00]
    }
}

struct Options {
    var slot = 0
    var apdus = 300
    var rounds = 31
    var countsOnly = false

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--slot": slot = iterator.next().flatMap(Int.init) ?? slot
            case "--apdus": apdus = iterator.next().flatMap(Int.init) ?? apdus
            case "--rounds": rounds = iterator.next().flatMap(Int.init) ?? rounds
            case "--counts-only": countsOnly = true
            default:
                print("usage: pcsc-benchmark [--slot 0|1] [--apdus N] [--rounds N] [--counts-only]")
                exit(2)
            }
        }
    }
}

let options = Options(arguments: CommandLine.arguments)
let command: [UInt8] = [0x80, 0x30, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]
let expected: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00]

func check(_ result: LONG, _ call: String) {
    if result != SCARD_S_SUCCESS {
        print("\(call) failed: \(PCSCError(code: Int64(result)).map { "\($0)" } ?? "")")
        exit(1)
    }
}

/// The raw C loop: SCardTransmit and nothing else.
func rawRound(reader: String, count: Int) -> Duration {
    var context = SCARDCONTEXT()
    check(SCardEstablishContext(DWORD(SCARD_SCOPE_SYSTEM), nil, nil, &context), "SCardEstablishContext")
    defer { SCardReleaseContext(context) }
    var handle = SCARDHANDLE()
    var active = DWORD()
    check(SCardConnect(context, reader, DWORD(SCARD_SHARE_SHARED), DWORD(3), &handle, &active), "SCardConnect")
    defer { SCardDisconnect(handle, DWORD(SCARD_LEAVE_CARD)) }
    var pci = SCARD_IO_REQUEST(
        dwProtocol: DWORD(SCARD_PROTOCOL_T1), cbPciLength: DWORD(MemoryLayout<SCARD_IO_REQUEST>.size))
    var receive = [UInt8](repeating: 0, count: 65538)
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<count {
        var length = DWORD(receive.count)
        let result = command.withUnsafeBufferPointer { send in
            receive.withUnsafeMutableBufferPointer { buffer in
                SCardTransmit(handle, &pci, send.baseAddress, DWORD(send.count), nil, buffer.baseAddress, &length)
            }
        }
        check(result, "SCardTransmit")
        if Int(length) != expected.count { print("unexpected answer length \(length)"); exit(1) }
    }
    return clock.now - start
}

/// The library: CardChannel over a PCSCCard (or the bare connection), awaited from an ordinary task or from a task
/// that runs on the connection's own thread.
func channelRound(reader: String, count: Int, onCardThread: Bool, bare: Bool = false) async throws -> (Duration, Int) {
    let context = try PCSCContext()
    let card = try await context.connect(to: reader)
    let channel = CardChannel(transport: card)
    let apdu = try CommandAPDU(bytes: command)
    let clock = ContinuousClock()
    let loop: @Sendable () async throws -> Duration = {
        if onCardThread && !context.thread.isCurrent { print("not on the card's thread"); exit(1) }
        let start = clock.now
        for _ in 0..<count {
            if bare {
                let answer = try await card.transmit(command)
                if answer.count != 10 { print("unexpected answer \(answer)"); exit(1) }
            } else {
                let response = try await channel.transmit(apdu)
                if response.data.count != 8 { print("unexpected answer \(response)"); exit(1) }
            }
        }
        return clock.now - start
    }
    let elapsed: Duration
    if onCardThread {
        elapsed = try await withTaskExecutorPreference(context.thread) { try await loop() }
    } else {
        elapsed = try await loop()
    }
    let sent = channel.statistics.apdusSent
    await card.disconnect()
    return (elapsed, sent)
}

/// A transport that answers at once: what the channel itself costs, with no card and no pcscd.
struct InstantTransport: CardTransport {
    func transmit(_ command: [UInt8]) async throws -> [UInt8] { [1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00] }
}

/// CardChannel's own cost per command, over a transport that answers at once.
func libraryCost(count: Int) async throws -> Duration {
    let channel = CardChannel(transport: InstantTransport())
    let apdu = try CommandAPDU(bytes: command)
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<count {
        let response = try await channel.transmit(apdu)
        if response.data.count != 8 { exit(1) }
    }
    return clock.now - start
}

/// A virtual card that counts the commands it answers, around another one: the count the card itself sees.
final class CountingCard: VirtualCard {
    let inner: any VirtualCard
    private let commands = Atomic<Int>(0)
    var commandCount: Int { commands.load(ordering: .relaxed) }
    var atr: [UInt8] { inner.atr }

    init(_ inner: any VirtualCard) { self.inner = inner }

    func handle(_ event: CardPowerEvent) { inner.handle(event) }

    func respond(to command: [UInt8]) -> [UInt8] {
        commands.add(1, ordering: .relaxed)
        return inner.respond(to: command)
    }

    func resetCount() { commands.store(0, ordering: .relaxed) }
}

/// The APDUs of each `jpki` command, done as the tool does them (`Examples/jpki`), through pcscd: what the client's
/// `CardChannel` sent and what the card answered (GET RESPONSE and Le retries would make them differ).
func jpkiCommandCounts(reader: String, slot: Int, context: PCSCContext) async throws -> [(String, Int, Int)] {
    let directory = FileManager.default.temporaryDirectory.appending(path: "pcsc-benchmark-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let authority = try TestCertificateAuthority(directory: directory)
    let signingPIN = "BENCH123"
    let authenticationPIN = "1234"
    let jpkiCard = try JPKICard.issue(
        by: authority, holder: .example, signingPIN: signingPIN, authenticationPIN: authenticationPIN)
    let card = CountingCard(jpkiCard)
    let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: slot))
    func waitForReader(present: Bool) async throws {
        while try await context.readerStatuses(of: [reader]).first?.isCardPresent != present {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
    try await waitForReader(present: false)
    try await server.insert(card)
    try await waitForReader(present: true)
    let document = Array("入札書: 金額 1,234,000 円\n".utf8)

    /// One command: a fresh connection and client, as each run of the tool has.
    func count(
        _ name: String, readTokenLabel: Bool = true, _ body: @Sendable (MyNumberCard) async throws -> Void
    ) async throws -> (String, Int, Int) {
        let connection = try await context.connect(to: reader)
        card.resetCount()
        let client =
            readTokenLabel
            ? try await MyNumberCard.connect(transport: connection) : MyNumberCard(transport: connection)
        try await body(client)
        let sent = client.channel.statistics.apdusSent
        await connection.disconnect()
        return (name, sent, card.commandCount)
    }

    var rows: [(String, Int, Int)] = []
    rows.append(
        try await count("jpki certs (auth, auth-ca, sign-ca)") { card in
            for kind in [JPKICertificateKind.authentication, .authenticationCA, .signingCA] {
                _ = try await card.certificateDER(kind)
            }
        })
    rows.append(
        try await count("jpki certs --type sign") { card in
            try await card.verifyPIN(try SecretPIN(signingPIN, policy: .jpkiSigning), for: .signing)
            _ = try await card.certificateDER(.signing)
        })
    rows.append(try await count("jpki pin-status", readTokenLabel: false) { card in _ = try await card.pinStatuses() })
    rows.append(
        try await count("jpki sign") { card in
            let key = try await card.signingKey(pin: try SecretPIN(signingPIN, policy: .jpkiSigning))
            _ = try await CMSSignedData.sign(document, with: key)
        })
    rows.append(
        try await count("jpki sign --include-ca") { card in
            let key = try await card.signingKey(
                pin: try SecretPIN(signingPIN, policy: .jpkiSigning), includeCACertificate: true)
            _ = try await CMSSignedData.sign(document, with: key)
        })
    rows.append(
        try await count("jpki text-info") { card in
            _ = try await card.textInputSupportInfo(pin: try SecretPIN(authenticationPIN, policy: .textInputSupport))
        })
    // Last, as they change the PINs the rows above use.
    rows.append(
        try await count("jpki pin change --type auth") { card in
            try await card.changePIN(
                .authentication, from: try SecretPIN(authenticationPIN, policy: .jpkiAuthentication),
                to: try SecretPIN("5678", policy: .jpkiAuthentication))
        })
    rows.append(
        try await count("jpki pin change --type text") { card in
            try await card.changePIN(
                .textInputSupport, from: try SecretPIN(authenticationPIN, policy: .textInputSupport),
                to: try SecretPIN("5678", policy: .textInputSupport))
        })
    await server.remove()
    try await waitForReader(present: false)
    return rows
}

func median(_ values: [Duration]) -> Duration {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func microseconds(_ duration: Duration, per count: Int) -> Double {
    let (seconds, attoseconds) = duration.components
    return (Double(seconds) * 1e6 + Double(attoseconds) / 1e12) / Double(count)
}

do {
    let context = try PCSCContext()
    let readers = try await context.readers().filter { $0.hasPrefix("Virtual PCD") }.sorted()
    guard readers.count > options.slot else {
        print("pcsc-benchmark: no vpcd reader \(options.slot); install vsmartcard-vpcd and start pcscd.")
        exit(1)
    }
    let reader = readers[options.slot]
    /// Prints the APDUs of each `jpki` command.
    func printCounts() async throws {
        print("APDUs per jpki command (virtual My Number card, extended length; sent by the client / seen by the card)")
        for (name, sent, seen) in try await jpkiCommandCounts(reader: reader, slot: options.slot, context: context) {
            print("  " + name.padding(toLength: 40, withPad: " ", startingAt: 0) + "\(sent) / \(seen)")
        }
    }
    if options.countsOnly {
        try await printCounts()
        exit(0)
    }
    let card = EchoCard()
    let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: options.slot))
    /// Waits until pcscd sees the reader with (or without) a card: it notices a change only at its next poll.
    func waitForReader(present: Bool) async throws {
        while try await context.readerStatuses(of: [reader]).first?.isCardPresent != present {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
    try await waitForReader(present: false)
    try await server.insert(card)
    try await waitForReader(present: true)

    print("pcsc-benchmark: \(options.apdus) APDUs per round, \(options.rounds) rounds, reader \(reader)")
    print("command: \(Hex.encode(command)) (echo of 8 bytes)")
    _ = rawRound(reader: reader, count: 200)  // warm-up
    _ = try await channelRound(reader: reader, count: 200, onCardThread: false)

    var raw: [Duration] = []
    var channel: [Duration] = []
    var pinned: [Duration] = []
    var bare: [Duration] = []
    var barePinned: [Duration] = []
    var apdusPerCommand = 0.0
    for round in 0..<options.rounds {
        // Every way once per round, in an order that rotates, so drift in the machine's load hits them alike.
        for way in 0..<5 {
            switch (way + round) % 5 {
            case 0:
                raw.append(rawRound(reader: reader, count: options.apdus))
            case 1:
                let (elapsed, sent) = try await channelRound(reader: reader, count: options.apdus, onCardThread: false)
                channel.append(elapsed)
                apdusPerCommand = Double(sent) / Double(options.apdus)
            case 2:
                pinned.append(try await channelRound(reader: reader, count: options.apdus, onCardThread: true).0)
            case 3:
                bare.append(
                    try await channelRound(reader: reader, count: options.apdus, onCardThread: false, bare: true).0)
            default:
                barePinned.append(
                    try await channelRound(reader: reader, count: options.apdus, onCardThread: true, bare: true).0)
            }
        }
    }
    let rawMicros = microseconds(median(raw), per: options.apdus)
    print("")
    print("way                                         µs/APDU   APDU/s   vs raw   APDUs per command")
    func row(_ name: String, _ values: [Duration], apdus: Double) {
        let micros = microseconds(median(values), per: options.apdus)
        let padded = name.padding(toLength: 42, withPad: " ", startingAt: 0)
        print(
            padded
                + String(
                    format: "%9.1f %8.0f %+7.1f%%   %.2f", micros, 1e6 / micros, (micros / rawMicros - 1) * 100,
                    apdus))
    }
    row("raw SCardTransmit loop (C)", raw, apdus: 1)
    row("CardChannel.transmit from a task", channel, apdus: apdusPerCommand)
    row("CardChannel.transmit on the card's thread", pinned, apdus: apdusPerCommand)
    row("PCSCCard.transmit from a task", bare, apdus: 1)
    row("PCSCCard.transmit on the card's thread", barePinned, apdus: 1)
    let own = try await libraryCost(count: 100_000)
    print(
        String(
            format: "CardChannel's own cost over a transport that answers at once: %.2f µs per command",
            microseconds(own, per: 100_000)))
    print("")
    print("card answered \(card.commandCount) commands in all")
    await server.remove()
    try await waitForReader(present: false)
    print("")
    try await printCounts()
} catch {
    print("pcsc-benchmark: \(error)")
    exit(1)
}
