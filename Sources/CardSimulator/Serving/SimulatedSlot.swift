public import ISO7816
import Synchronization

/// An in-process reader slot for virtual cards: insert, remove and swap cards, and connect to them as a
/// `CardSlot` — the same protocol flows use for PC/SC readers — with no pcscd involved. For fast tests.
///
/// ```swift
/// let slot = SimulatedSlot(name: "Slot 0")
/// slot.insert(card)
/// let connection = try await slot.connect()
/// let channel = CardChannel(transport: connection)
/// ```
///
/// A connection belongs to the card that was in the slot when it was made: once that card is removed or swapped,
/// the connection's commands fail with ``SimulatorLinkError/cardRemoved``, as on a real reader.
public final class SimulatedSlot: CardSlot, Sendable {
    private struct State {
        var card: (any VirtualCard)?
        /// Changes on every insertion and removal, so connections notice a swap.
        var generation = 0
    }

    /// The slot's name.
    public let name: String
    /// Faults to apply to the commands the cards in this slot receive.
    public let faults: FaultInjector
    private let state = Mutex(State())

    /// Makes an empty slot.
    public init(name: String = "Simulated Slot", faults: FaultInjector = FaultInjector()) {
        self.name = name
        self.faults = faults
    }

    /// Inserts a card (powering it on), pulling any card that was there.
    public func insert(_ card: any VirtualCard) {
        let old = state.withLock { s -> (any VirtualCard)? in
            defer {
                s.card = card
                s.generation += 1
            }
            return s.card
        }
        old?.handle(.powerOff)
        card.handle(.powerOn)
    }

    /// Pulls the card out; its connections fail from now on.
    public func remove() {
        let old = state.withLock { s -> (any VirtualCard)? in
            defer {
                if s.card != nil { s.generation += 1 }
                s.card = nil
            }
            return s.card
        }
        old?.handle(.powerOff)
    }

    /// Pulls the current card and inserts another.
    public func swap(to card: any VirtualCard) {
        insert(card)
    }

    /// The card in the slot, if any.
    public var card: (any VirtualCard)? {
        state.withLock { $0.card }
    }

    public func isCardPresent() async throws -> Bool {
        state.withLock { $0.card != nil }
    }

    public func waitForCard(timeout: Duration) async throws -> Bool {
        try await poll(timeout: timeout) { state.withLock { $0.card != nil } }
    }

    public func waitForRemoval(timeout: Duration) async throws -> Bool {
        try await poll(timeout: timeout) { state.withLock { $0.card == nil } }
    }

    public func connect() async throws -> any CardConnection {
        let (card, generation) = state.withLock { ($0.card, $0.generation) }
        guard let card else { throw SimulatorLinkError.cardRemoved }
        return SimulatedConnection(slot: self, card: card, generation: generation)
    }

    /// Answers one command for a connection made at `generation`.
    fileprivate func transmit(_ command: [UInt8], card: any VirtualCard, generation: Int) async throws -> [UInt8] {
        guard state.withLock({ $0.generation == generation && $0.card != nil }) else {
            throw SimulatorLinkError.cardRemoved
        }
        switch faults.fault(for: command) {
        case .pullCard?:
            remove()
            throw SimulatorLinkError.cardRemoved
        case .silence(let duration)?:
            try await Task.sleep(for: duration)
            remove()
            throw SimulatorLinkError.cardUnresponsive
        case let fault?:
            return FaultInjector.apply(fault, to: card.respond(to: command))
        case nil:
            return card.respond(to: command)
        }
    }
}

/// A connection to the card in a ``SimulatedSlot``.
private final class SimulatedConnection: CardConnection {
    let slot: SimulatedSlot
    let card: any VirtualCard
    let generation: Int

    init(slot: SimulatedSlot, card: any VirtualCard, generation: Int) {
        self.slot = slot
        self.card = card
        self.generation = generation
    }

    func transmit(_ command: [UInt8]) async throws -> [UInt8] {
        try await slot.transmit(command, card: card, generation: generation)
    }

    var transmissionProtocol: TransmissionProtocol {
        get async { .t1 }
    }

    var atr: [UInt8] {
        get async { card.atr }
    }

    func disconnect() async {}
}

/// Waits for a condition on a slot by checking it every few milliseconds (in process, a check costs nothing).
private func poll(timeout: Duration, until condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: .milliseconds(5))
    }
    return true
}
