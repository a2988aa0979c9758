public import ISO7816

/// A PC/SC reader seen through the ISO7816 `CardSlot` protocol, so flows that wait for a card, or ask a person to
/// swap cards, run the same over pcscd as over a simulated slot.
public struct PCSCReaderSlot: CardSlot {
    /// The context that connects to the reader's cards.
    public let context: PCSCContext
    /// The reader's name.
    public let name: String

    /// Makes a slot for the reader `name`.
    public init(context: PCSCContext, name: String) {
        self.context = context
        self.name = name
    }

    public func isCardPresent() async throws -> Bool {
        try await context.readerStatuses(of: [name]).first?.isCardPresent ?? false
    }

    public func waitForCard(timeout: Duration) async throws -> Bool {
        try await wait(timeout: timeout) { event in
            if case .cardInserted(let reader, _) = event, reader == name { return true }
            return false
        }
    }

    public func waitForRemoval(timeout: Duration) async throws -> Bool {
        if try await !isCardPresent() { return true }
        return try await wait(timeout: timeout) { event in
            if case .cardRemoved(let reader) = event, reader == name { return true }
            if case .readerRemoved(let reader) = event, reader == name { return true }
            return false
        }
    }

    public func connect() async throws -> any CardConnection {
        try await context.connect(to: name)
    }

    /// Waits for the first event that `matches`, starting from the reader's current state.
    private func wait(timeout: Duration, until matches: @escaping @Sendable (ReaderEvent) -> Bool) async throws
        -> Bool
    {
        let events = ReaderEvents(readers: [name], includeCurrentState: true)
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                for try await event in events where matches(event) { return true }
                return false
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
