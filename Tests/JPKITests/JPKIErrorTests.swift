import CardCredentials
import CardSimulator
import ISO7816
import Synchronization
import Testing

@testable import JPKI

/// A transport whose answers wait until the test opens the gate: a card busy with one task's command.
private final class GatedTransport: CardTransport {
    let inner: any CardTransport
    private let gate = Mutex<[CheckedContinuation<Void, Never>]?>([])
    let commandsArrived = Mutex(0)

    init(_ inner: any CardTransport) { self.inner = inner }

    func transmit(_ command: [UInt8]) async throws -> [UInt8] {
        commandsArrived.withLock { $0 += 1 }
        await withCheckedContinuation { continuation in
            let open = gate.withLock { waiting -> Bool in
                guard waiting != nil else { return true }
                waiting!.append(continuation)
                return false
            }
            if open { continuation.resume() }
        }
        return try await inner.transmit(command)
    }

    func open() {
        let waiting = gate.withLock { waiting in
            defer { waiting = nil }
            return waiting ?? []
        }
        for continuation in waiting { continuation.resume() }
    }
}

@Suite("JPKIError: every MyNumberCard failure, with an extensible code")
struct JPKIErrorTests {
    @Test("a catch sees a JPKIError without a cast, and matches on its code")
    func typedThrows() async throws {
        let faults = FaultInjector()
        faults.arm(.statusWord(.fileNotFound), matching: { $0.ins == 0xA4 && $0.p1 == 0x04 })
        let (_, _, card) = try await Fixture.get().client(faults: faults)
        do {
            _ = try await card.tokenLabel()
            Issue.record("a card without the JPKI application was accepted")
        } catch let error where error.code == .notAMyNumberCard {
            let typed: JPKIError = error  // no cast: tokenLabel() throws(JPKIError)
            #expect(typed.pin == nil && typed.triesLeft == nil)
        } catch {
            Issue.record("wrong error \(error)")
        }
    }

    @Test("the values of a wrong PIN travel with the error")
    func wrongPINValues() {
        let error = JPKIError.wrongPIN(.signing, triesLeft: 2)
        #expect(error.code == .wrongPIN)
        #expect(error.pin == .signing)
        #expect(error.triesLeft == 2)
        #expect(error == JPKIError.wrongPIN(.signing, triesLeft: 2))
        #expect(error != JPKIError.wrongPIN(.signing, triesLeft: 1))
        #expect(error.code.description == "wrongPIN")
    }

    @Test("from() gives a JPKIError for anything a lower layer throws")
    func fromAnything() {
        struct Strange: Error {}
        let other = JPKIError.from(Strange())
        #expect(other.code == .other)
        #expect(JPKIError.from(CancellationError()).code == .cancelled)
        #expect(
            JPKIError.from(CardCredentialsError.wrongPIN(triesLeft: 3), pin: .authentication)
                == .wrongPIN(.authentication, triesLeft: 3))
        #expect(JPKIError.from(ISO7816Error.malformedResponse("short")).code == .malformedAnswer)
        #expect(JPKIError.from(JPKIError.cardRemoved) == .cardRemoved)
    }

    @Test("an operation waiting for the card is cancellable, and the card goes on with the next one")
    func cancelledWhileWaiting() async throws {
        let fixture = try Fixture.get()
        let slot = SimulatedSlot()
        slot.insert(try fixture.card(CardBehavior()))
        let transport = GatedTransport(try await slot.connect())
        let card = MyNumberCard(transport: transport)

        let first = Task { try await card.certificateDER(.authentication) }
        while transport.commandsArrived.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(1)) }
        let cancelled = Task { try await card.certificateDER(.authenticationCA) }
        let last = Task { try await card.tokenLabel() }
        try await Task.sleep(for: .milliseconds(50))  // both queued behind the first
        cancelled.cancel()
        let error = await #expect(throws: JPKIError.self) { try await cancelled.value }
        #expect(error?.code == .cancelled)
        let sentBefore = transport.commandsArrived.withLock { $0 }
        transport.open()
        #expect(try await first.value == fixture.snapshot.authenticationCertificate)
        #expect(try await last.value == MyNumberCard.myNumberCardTokenLabel)
        #expect(sentBefore == 1)  // the cancelled operation sent nothing
    }
}
