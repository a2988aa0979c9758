/// The transmission protocol a card link uses (ISO/IEC 7816-3).
public enum TransmissionProtocol: Sendable, Hashable, CustomStringConvertible {
    /// T=0, character oriented: a case-4 command goes out without Le and its data come back through `61xx`.
    case t0
    /// T=1, block oriented: APDUs go out as they are.
    case t1
    /// A link that takes whole APDUs with no ISO 7816-3 rules of its own (contactless, in-process cards).
    case raw

    /// `"T=0"`, `"T=1"` or `"raw"`.
    public var description: String {
        switch self {
        case .t0: "T=0"
        case .t1: "T=1"
        case .raw: "raw"
        }
    }
}

/// Bytes in, bytes out: one command APDU to the card, its response APDU back.
///
/// PC/SC connections, in-process simulated cards, and any other link (Core NFC, CryptoTokenKit) conform. A
/// transport does no APDU processing of its own; ``CardChannel`` adds GET RESPONSE, `6Cxx` retries and
/// chaining on top.
public protocol CardTransport: Sendable {
    /// Sends one command APDU exactly as given and returns the card's response APDU (data, then SW1 SW2).
    ///
    /// A transport throws an error that conforms to ``CardTransportError`` when the link failed (card removed,
    /// reset, silent), so callers can tell those cases apart whatever the transport.
    func transmit(_ command: [UInt8]) async throws -> [UInt8]

    /// The transmission protocol of the link; ``TransmissionProtocol/t1`` unless the transport says otherwise.
    var transmissionProtocol: TransmissionProtocol { get async }
}

extension CardTransport {
    /// ``TransmissionProtocol/t1``: a transport that says nothing else takes whole APDUs.
    public var transmissionProtocol: TransmissionProtocol {
        get async { .t1 }
    }
}

/// What went wrong on a card link, whatever the transport.
public enum CardTransportFailure: Sendable, Hashable {
    /// The card left the reader (or the virtual card closed its link).
    case cardRemoved
    /// Someone reset the card: the selected application and verified PINs are gone.
    case cardReset
    /// The card did not answer in time, or answered garbage at the link level.
    case cardUnresponsive
    /// The reader is gone (unplugged).
    case readerUnavailable
    /// The card service (pcscd) is not running or went away.
    case serviceUnavailable
    /// Another application holds the card exclusively.
    case sharingViolation
    /// Anything else the transport could not classify.
    case other
}

/// An error of a ``CardTransport`` that says which ``CardTransportFailure`` it is.
public protocol CardTransportError: Error {
    /// The kind of link failure.
    var failure: CardTransportFailure { get }
}

extension Error {
    /// The card-link failure behind this error, when it is one.
    public var cardTransportFailure: CardTransportFailure? {
        (self as? any CardTransportError)?.failure
    }
}

/// A connection to the card in a ``CardSlot``: a transport that also knows the card's ATR and can be closed.
public protocol CardConnection: CardTransport {
    /// The card's answer to reset.
    var atr: [UInt8] { get async }
    /// Closes the connection and leaves the card as it is (no reset).
    func disconnect() async
}

/// A place a card goes into: a reader, or a simulator's slot.
///
/// Flows that ask a person to insert, remove or swap a card (IC card renewal) see the reader only through this
/// protocol, so they run the same over PC/SC and in process.
public protocol CardSlot: Sendable {
    /// The slot's name for people (`"Virtual PCD 00 00"`).
    var name: String { get }
    /// Whether a card is in the slot now.
    func isCardPresent() async throws -> Bool
    /// Waits until a card is in the slot; returns `false` if `timeout` ran out first. Cancellation ends the wait.
    func waitForCard(timeout: Duration) async throws -> Bool
    /// Waits until the slot is empty; returns `false` if `timeout` ran out first. Cancellation ends the wait.
    func waitForRemoval(timeout: Duration) async throws -> Bool
    /// Connects to the card in the slot.
    func connect() async throws -> any CardConnection
}
