import CardSimulator
import Foundation
import ISO7816
import PCSC
import Synchronization
import Testing

/// The PC/SC test bench: pcscd with the two vpcd readers, and virtual cards served into them.
enum TestBench {
    /// The name pcscd gives the vpcd reader of `slot` (0 or 1).
    static func readerName(slot: Int) async throws -> String {
        let context = try PCSCContext()
        let names = try await context.readers().filter { $0.hasPrefix("Virtual PCD") }.sorted()
        try #require(
            names.count >= 2,
            "pcscd must run with the vsmartcard-vpcd driver (two 'Virtual PCD' readers); found \(names)")
        return names[slot]
    }

    /// Inserts `card` into the vpcd reader of `slot`, waits until pcscd sees it, runs `body`, then pulls the card
    /// and waits until pcscd sees the reader empty again.
    static func withCard<T>(
        _ card: any VirtualCard, slot: Int = 0, faults: FaultInjector = FaultInjector(),
        _ body: (_ server: VPCDCardServer, _ context: PCSCContext, _ reader: String) async throws -> T
    ) async throws -> T {
        let reader = try await readerName(slot: slot)
        let context = try PCSCContext()
        // A card already in the reader belongs to someone else (a card-simulator left running, another test run):
        // waiting for "present" would then return at once and the test would talk to that card.
        if try await context.readerStatuses(of: [reader]).first?.isCardPresent == true {
            Issue.record("\(reader) already holds a card: stop the program that serves it (card-simulator?) first")
            throw CancellationError()
        }
        let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: slot), faults: faults)
        try await server.insert(card)
        do {
            try await waitUntil(context: context, reader: reader, present: true)
            let result = try await body(server, context, reader)
            await server.remove()
            try await waitUntil(context: context, reader: reader, present: false)
            return result
        } catch {
            await server.remove()
            try? await waitUntil(context: context, reader: reader, present: false)
            throw error
        }
    }

    /// Polls pcscd until the reader has (or lacks) a card; fails after 10 s.
    static func waitUntil(context: PCSCContext, reader: String, present: Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if try await context.readerStatuses(of: [reader]).first?.isCardPresent == present { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("pcscd did not see the card \(present ? "inserted into" : "removed from") \(reader) in 10 s")
        throw CancellationError()
    }
}

/// A minimal virtual card for the PC/SC tests: just enough behaviour to exercise the exchange rules.
///
/// - `00 A4 04 00 Lc F0 50 49 54 45 53 54`: SELECT of its application, `90 00`; any other AID `6A 82`.
/// - `80 10 HH LL 00`: answers `HHLL` bytes (`i & 0xFF`) through `61xx` and GET RESPONSE (`00 C0`).
/// - `80 20 00 00 Le`: wants Le = 16 exactly (`6C 10` otherwise), then 16 bytes `A0…AF`.
/// - `80 30 00 00 Lc data [Le]`: echoes the data.
/// - anything else: `6D 00`.
final class MinimalCard: VirtualCard {
    static let aid: [UInt8] = [0xF0, 0x50, 0x49, 0x54, 0x45, 0x53, 0x54]
    /// T=1 only, one historical byte.
    let atr: [UInt8] = [0x3B, 0x81, 0x81, 0x01, 0x80, 0x81]

    private struct State {
        var pending: [UInt8] = []
        var powerEvents: [CardPowerEvent] = []
        var commands = 0
    }
    private let state = Mutex(State())

    var powerEvents: [CardPowerEvent] { state.withLock { $0.powerEvents } }
    var commandCount: Int { state.withLock { $0.commands } }

    func handle(_ event: CardPowerEvent) {
        state.withLock {
            $0.powerEvents.append(event)
            $0.pending = []
        }
    }

    func respond(to bytes: [UInt8]) -> [UInt8] {
        state.withLock { $0.commands += 1 }
        guard let command = try? CommandAPDU(bytes: bytes) else { return [0x67, 0x00] }
        switch (command.cla, command.ins) {
        case (0x00, 0xA4):
            return command.data == Self.aid ? [0x90, 0x00] : [0x6A, 0x82]
        case (0x80, 0x10):
            let total = Int(command.p1) << 8 | Int(command.p2)
            let payload = (0..<total).map { UInt8($0 & 0xFF) }
            return state.withLock { s in
                s.pending = payload
                return Self.nextChunk(&s.pending)
            }
        case (_, 0xC0):
            return state.withLock { s in
                s.pending.isEmpty ? [0x6D, 0x00] : Self.nextChunk(&s.pending)
            }
        case (0x80, 0x20):
            guard command.expectedLength == 16 else { return [0x6C, 0x10] }
            return (0..<16).map { 0xA0 + UInt8($0) } + [0x90, 0x00]
        case (0x80, 0x30):
            return command.data + [0x90, 0x00]
        default:
            return [0x6D, 0x00]
        }
    }

    private static func nextChunk(_ pending: inout [UInt8]) -> [UInt8] {
        let chunk = Array(pending.prefix(256))
        pending.removeFirst(chunk.count)
        if pending.isEmpty { return chunk + [0x90, 0x00] }
        return chunk + [0x61, pending.count >= 256 ? 0x00 : UInt8(pending.count)]
    }
}
