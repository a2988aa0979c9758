import CardSimulator
import Foundation
import ISO7816
import PCSC
import Testing

extension EndToEnd {
    /// PC/SC through the real stack: libpcsclite → pcscd → vpcd → a virtual card written in Swift.
    @Suite("PC/SC through pcscd and vpcd")
    struct PCSCEndToEndTests {
        @Test("pcscd lists both vpcd readers, and a served card shows up with its ATR")
        func listing() async throws {
            let context = try PCSCContext()
            let readers = try await context.readers()
            #expect(readers.contains("Virtual PCD 00 00") || readers.contains { $0.hasPrefix("Virtual PCD") })
            let card = MinimalCard()
            try await TestBench.withCard(card, slot: 1) { _, context, reader in
                let status = try #require(try await context.readerStatuses(of: [reader]).first)
                #expect(status.isCardPresent)
                #expect(status.atr == card.atr)
                let other = try #require(
                    try await context.readerStatuses().first { $0.name != reader && $0.name.hasPrefix("Virtual PCD") })
                #expect(!other.isCardPresent)
            }
        }

        @Test("a card in the reader: connect, SELECT, and a 1000-byte answer through 61xx and GET RESPONSE")
        func transmitWithGetResponseChain() async throws {
            try await TestBench.withCard(MinimalCard()) { _, context, reader in
                let card = try await context.connect(to: reader)
                #expect(card.activeProtocol == .t1)
                #expect(await card.atr == MinimalCard().atr)
                let channel = CardChannel(transport: card)
                let select = try await channel.transmit(
                    CommandAPDU(ins: 0xA4, p1: 0x04, p2: 0x00, data: MinimalCard.aid))
                #expect(select.isSuccess)
                channel.resetStatistics()
                let long = try await channel.transmit(
                    CommandAPDU(cla: 0x80, ins: 0x10, p1: 0x03, p2: 0xE8, expectedLength: 256))
                #expect(long.isSuccess)
                #expect(long.data == (0..<1000).map { UInt8($0 & 0xFF) })
                #expect(channel.statistics.apdusSent == 4, "one command and three GET RESPONSE")
                let exact = try await channel.transmit(
                    CommandAPDU(cla: 0x80, ins: 0x20, p1: 0, p2: 0, expectedLength: 256))
                #expect(exact.data == (0..<16).map { 0xA0 + UInt8($0) })
                let unknown = try await channel.transmit(CommandAPDU(cla: 0x80, ins: 0x99, p1: 0, p2: 0))
                #expect(unknown.statusWord == .instructionNotSupported)
                await card.disconnect()
            }
        }

        @Test("a card pulled in the middle of a transaction gives the removed-card error")
        func cardPulledMidTransaction() async throws {
            let faults = FaultInjector()
            try await TestBench.withCard(MinimalCard(), faults: faults) { server, context, reader in
                let card = try await context.connect(to: reader)
                let channel = CardChannel(transport: card)
                faults.arm(.pullCard, matching: { $0.ins == 0x30 })
                let error = await #expect(throws: PCSCError.self) {
                    try await card.withTransaction { _ in
                        let select = try await channel.transmit(
                            CommandAPDU(ins: 0xA4, p1: 0x04, p2: 0x00, data: MinimalCard.aid))
                        #expect(select.isSuccess)
                        _ = try await channel.transmit(
                            CommandAPDU(cla: 0x80, ins: 0x30, p1: 0, p2: 0, data: [1, 2, 3]))
                    }
                }
                #expect(error?.failure == .cardRemoved, "got \(String(describing: error))")
                #expect(!server.isInserted)
                // The connection stays unusable: the next command fails the same way, it does not hang.
                await #expect(throws: PCSCError.self) {
                    _ = try await card.transmit([0x00, 0xA4, 0x04, 0x00, 0x07] + MinimalCard.aid)
                }
            }
        }

        @Test("insert and remove events arrive as an AsyncSequence, which ends cleanly when its task is cancelled")
        func insertAndRemoveEvents() async throws {
            let reader = try await TestBench.readerName(slot: 0)
            let seen = EventLog()
            let watcher = Task {
                for try await event in ReaderEvents(readers: [reader], includeCurrentState: false) {
                    await seen.append(event)
                }
                return "ended"
            }
            try await Task.sleep(for: .milliseconds(300))
            let card = MinimalCard()
            let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: 0))
            try await server.insert(card)
            try await seen.wait(for: .cardInserted(reader: reader, atr: card.atr))
            await server.remove()
            try await seen.wait(for: .cardRemoved(reader: reader))
            let started = ContinuousClock.now
            watcher.cancel()
            let ending = try await watcher.value
            #expect(ending == "ended")
            #expect(ContinuousClock.now - started < .seconds(2), "cancelling ends the wait at once (SCardCancel)")
            #expect(await seen.events == [.cardInserted(reader: reader, atr: card.atr), .cardRemoved(reader: reader)])
        }

        @Test("a reader slot waits for a card and for its removal, as flows use it")
        func readerSlot() async throws {
            let reader = try await TestBench.readerName(slot: 1)
            let context = try PCSCContext()
            let slot = context.slot(named: reader)
            #expect(try await slot.isCardPresent() == false)
            #expect(try await slot.waitForCard(timeout: .milliseconds(200)) == false)
            let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: 1))
            async let inserted = slot.waitForCard(timeout: .seconds(10))
            try await Task.sleep(for: .milliseconds(100))
            try await server.insert(MinimalCard())
            #expect(try await inserted)
            let connection = try await slot.connect()
            let answer = try await connection.transmit([0x00, 0xA4, 0x04, 0x00, 0x07] + MinimalCard.aid)
            #expect(answer == [0x90, 0x00])
            await connection.disconnect()
            async let removed = slot.waitForRemoval(timeout: .seconds(10))
            try await Task.sleep(for: .milliseconds(100))
            await server.remove()
            #expect(try await removed)
        }

        @Test("a reset by another connection: the next command says the session was lost, and the one after works")
        func resetByAnotherApplication() async throws {
            try await TestBench.withCard(MinimalCard()) { _, context, reader in
                let first = try await context.connect(to: reader)
                let second = try await PCSCContext().connect(to: reader)
                try await second.reconnect(initialization: .reset)
                let error = await #expect(throws: PCSCError.self) {
                    _ = try await first.transmit([0x00, 0xA4, 0x04, 0x00, 0x07] + MinimalCard.aid)
                }
                #expect(error?.code == .resetCard)
                #expect(error?.failure == .cardReset)
                #expect(error.map { "\($0)".contains("verified PINs are gone") } == true)
                let again = try await first.transmit([0x00, 0xA4, 0x04, 0x00, 0x07] + MinimalCard.aid)
                #expect(again == [0x90, 0x00])
                await first.disconnect()
                await second.disconnect()
            }
        }

        @Test("vpcd has no PIN pad (Debian's vpcd takes no control codes at all), so PIN-pad verification is refused")
        func readerFeatures() async throws {
            try await TestBench.withCard(MinimalCard()) { _, context, reader in
                let card = try await context.connect(to: reader)
                let features = try await card.features()
                #expect(!features.hasPINPad)
                #expect(features.controlCode(.verifyPINDirect) == nil)
                await #expect(throws: PCSCError(.unsupportedFeature)) {
                    _ = try await card.verifyPINOnPad(
                        PINPadVerifyRequest(reference: 0x80, minimumLength: 4, maximumLength: 4))
                }
                await card.disconnect()
            }
        }

        @Test("concurrent tasks on one channel: each 61xx chain completes whole")
        func concurrentChannelUse() async throws {
            try await TestBench.withCard(MinimalCard()) { _, context, reader in
                let card = try await context.connect(to: reader)
                let channel = CardChannel(transport: card)
                let results = try await withThrowingTaskGroup(of: Int.self) { group in
                    for length in [600, 700, 800, 900] {
                        group.addTask {
                            let answer = try await channel.transmit(
                                CommandAPDU(
                                    cla: 0x80, ins: 0x10, p1: UInt8(length >> 8), p2: UInt8(length & 0xFF),
                                    expectedLength: 256))
                            #expect(answer.data == (0..<length).map { UInt8($0 & 0xFF) })
                            return answer.data.count
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(results.sorted() == [600, 700, 800, 900])
                await card.disconnect()
            }
        }

        @Test("connecting to an empty reader says there is no card")
        func emptyReader() async throws {
            let reader = try await TestBench.readerName(slot: 1)
            let context = try PCSCContext()
            let error = await #expect(throws: PCSCError.self) { _ = try await context.connect(to: reader) }
            #expect(error?.failure == .cardRemoved)
            #expect(error?.code == .noSmartcard)
            #expect(error.map { "\($0)".contains("There is no card in the reader") } == true)
            await #expect(throws: PCSCError(.unknownReader)) {
                _ = try await context.connect(to: "No Such Reader 00 00")
            }
        }
    }
}

/// Events seen by a watcher task.
actor EventLog {
    private(set) var events: [ReaderEvent] = []

    func append(_ event: ReaderEvent) { events.append(event) }

    /// Waits up to 10 s until `event` has been seen.
    func wait(for event: ReaderEvent) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !events.contains(event) {
            guard ContinuousClock.now < deadline else {
                Issue.record("no \(event) within 10 s; saw \(events)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
