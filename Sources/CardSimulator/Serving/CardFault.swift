public import ISO7816
import Synchronization

/// A failure a simulated card can be told to show, for testing what a program does when cards misbehave.
public enum CardFault: Sendable, Hashable {
    /// The card is pulled out while it processes the command: no answer, and the card is gone from the slot.
    case pullCard
    /// The card says nothing for the given time, then is pulled (a reader cannot wait for ever).
    case silence(Duration)
    /// The card answers with this status word and no data instead of its real answer.
    case statusWord(StatusWord)
    /// The card answers with its data bytes inverted (the status word kept): a corrupted response.
    case corruptResponse
    /// The card answers a single byte: not even a status word.
    case truncateResponse
}

/// Faults armed for the commands a simulated card will receive.
///
/// ```swift
/// let faults = FaultInjector()
/// // pull the card during the second READ BINARY
/// faults.arm(.pullCard, skipping: 1, matching: { $0.ins == 0xB0 })
/// ```
///
/// Each armed fault fires once, on the first command that matches it after `skipping` matching commands went by.
public final class FaultInjector: Sendable {
    private struct Armed {
        var fault: CardFault
        var skipping: Int
        var matching: (@Sendable (CommandAPDU) -> Bool)?
    }
    private let armed = Mutex<[Armed]>([])

    /// Makes an injector with no fault armed.
    public init() {}

    /// Arms a fault.
    ///
    /// - Parameters:
    ///   - fault: What the card should do.
    ///   - skipping: How many matching commands go through normally first.
    ///   - matching: Which commands count; every command when `nil`.
    public func arm(
        _ fault: CardFault, skipping: Int = 0, matching: (@Sendable (CommandAPDU) -> Bool)? = nil
    ) {
        armed.withLock { $0.append(Armed(fault: fault, skipping: skipping, matching: matching)) }
    }

    /// Removes every armed fault.
    public func disarmAll() {
        armed.withLock { $0.removeAll() }
    }

    /// Whether any fault is still armed.
    public var hasArmedFaults: Bool {
        armed.withLock { !$0.isEmpty }
    }

    /// The fault to apply to this command, if one is armed for it (and disarms it).
    func fault(for command: [UInt8]) -> CardFault? {
        armed.withLock { list -> CardFault? in
            guard !list.isEmpty else { return nil }
            let parsed = try? CommandAPDU(bytes: command)
            for index in list.indices {
                if let matching = list[index].matching {
                    guard let parsed, matching(parsed) else { continue }
                }
                if list[index].skipping > 0 {
                    list[index].skipping -= 1
                    continue
                }
                return list.remove(at: index).fault
            }
            return nil
        }
    }

    /// Applies a data-changing fault to a response.
    static func apply(_ fault: CardFault, to response: [UInt8]) -> [UInt8] {
        switch fault {
        case .statusWord(let sw):
            return [sw.sw1, sw.sw2]
        case .corruptResponse:
            guard response.count > 2 else { return [0x6F] }
            return response.prefix(response.count - 2).map { ~$0 } + response.suffix(2)
        case .truncateResponse:
            return [response.first ?? 0x6F]
        case .pullCard, .silence:
            return response
        }
    }
}
