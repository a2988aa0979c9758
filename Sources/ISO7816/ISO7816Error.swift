/// Everything that can go wrong in the ISO 7816 layer: building or parsing APDUs, BER-TLV and ATRs, and the
/// exchange rules of ``CardChannel``.
///
/// Each case names what happened; ``description`` is a sentence that says what to do next.
public enum ISO7816Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// The command's data field is longer than the encoding allows (255 bytes short, 65535 extended).
    case dataTooLong(count: Int, maximum: Int)
    /// The expected response length (Ne) is outside 1...256 (short) or 1...65536 (extended).
    case expectedLengthOutOfRange(Int)
    /// The bytes are not a command APDU of any ISO 7816-4 case.
    case malformedCommand(String)
    /// The card's answer is not a response APDU (for example fewer than the two status bytes).
    case malformedResponse(String)
    /// BER-TLV bytes that cannot be decoded; `offset` is where decoding stopped.
    case malformedTLV(offset: Int, reason: String)
    /// An answer to reset that does not follow ISO 7816-3.
    case malformedATR(String)
    /// A hexadecimal string that is not an even number of hex digits.
    case invalidHex(String)
    /// The card kept answering `61xx` after the configured number of GET RESPONSE commands.
    case tooManyGetResponses(limit: Int)
    /// The card asked for a different Le (`6Cxx`) more than once for one command.
    case repeatedWrongLength(StatusWord)
    /// A command needs extended length (data or Ne above the short limits) but the card or link has none, and it
    /// cannot be chained.
    case extendedLengthUnavailable
    /// The card answered with a status word that the operation cannot accept.
    case unexpectedStatus(StatusWord, operation: String)
    /// A command builder was given a parameter outside what the command allows (an offset past `7FFF`, a file
    /// identifier that is not two bytes, an empty PIN).
    case invalidCommandParameter(String)

    /// A sentence that says what happened and what to do next.
    public var description: String {
        switch self {
        case .dataTooLong(let count, let maximum):
            return "The command data is \(count) bytes long, but at most \(maximum) fit in one APDU; "
                + "use extended length or command chaining."
        case .expectedLengthOutOfRange(let ne):
            return "The expected response length \(ne) is out of range: use 1 to 256 (short) "
                + "or 1 to 65536 (extended), or none."
        case .malformedCommand(let reason):
            return "The bytes are not a valid command APDU: \(reason)."
        case .malformedResponse(let reason):
            return "The card's answer is not a valid response APDU: \(reason). "
                + "Check the card is seated and try again."
        case .malformedTLV(let offset, let reason):
            return "The BER-TLV data is malformed at byte \(offset): \(reason)."
        case .malformedATR(let reason):
            return "The answer to reset (ATR) is malformed: \(reason)."
        case .invalidHex(let reason):
            return "The hexadecimal text is invalid: \(reason). Use pairs of hex digits, spaces allowed."
        case .tooManyGetResponses(let limit):
            return "The card still had data after \(limit) GET RESPONSE commands; "
                + "it may be faulty. Remove and reinsert it, then try again."
        case .repeatedWrongLength(let sw):
            return "The card asked twice for another response length (\(sw)); "
                + "it does not follow ISO 7816-4 here."
        case .extendedLengthUnavailable:
            return "The command needs extended-length APDUs, which this card or reader does not accept."
        case .unexpectedStatus(let sw, let operation):
            return "\(operation) failed: the card answered \(sw.hexString) (\(sw.meaning))."
        case .invalidCommandParameter(let reason):
            return "The command cannot be built: \(reason). Correct the value and try again."
        }
    }
}
