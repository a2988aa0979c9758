import ISO7816

/// What happens to a card's power, as a reader tells it.
public enum CardPowerEvent: Sendable, Hashable {
    /// The reader powered the card on (cold reset).
    case powerOn
    /// The reader powered the card off.
    case powerOff
    /// The reader reset the card (warm reset).
    case reset
}

/// A card in software: it answers command APDUs as a real card would, with its own files, PINs and keys.
///
/// A virtual card is served to programs in two ways: in process, through ``SimulatedSlot`` (fast tests), or to
/// pcscd through the vpcd reader driver, through ``VPCDCardServer`` (real PC/SC clients, OpenSC included).
///
/// Implementations keep their state behind a lock: one card may be served on one link at a time, but its
/// owner may inspect it (PIN counters, say) from other tasks.
public protocol VirtualCard: AnyObject, Sendable {
    /// The answer to reset the card gives on power-on.
    var atr: [UInt8] { get }

    /// Tells the card its power changed. On every event the card drops its volatile security state (selected
    /// application and file, verified PINs); counters and files persist.
    func handle(_ event: CardPowerEvent)

    /// Processes one command APDU (short or extended, as it came on the wire) and returns the response APDU.
    ///
    /// Never traps on malformed input: a command that cannot be parsed gets `67 00` or `6F 00`.
    func respond(to command: [UInt8]) -> [UInt8]
}
