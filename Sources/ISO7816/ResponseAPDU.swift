/// A response APDU (ISO/IEC 7816-4 §5.1): the response data and the status word SW1 SW2.
public struct ResponseAPDU: Sendable, Hashable, CustomStringConvertible {
    /// The response data field (may be empty).
    public var data: [UInt8]
    /// The trailer SW1 SW2.
    public var statusWord: StatusWord

    /// Makes a response from its parts.
    public init(data: [UInt8] = [], statusWord: StatusWord) {
        self.data = data
        self.statusWord = statusWord
    }

    /// Parses a response as the card sent it: data, then SW1 SW2.
    ///
    /// - Throws: ``ISO7816Error/malformedResponse(_:)`` when fewer than two bytes arrived.
    public init(bytes: [UInt8]) throws(ISO7816Error) {
        guard bytes.count >= 2 else {
            throw .malformedResponse(
                bytes.isEmpty ? "no bytes at all" : "one byte, but a status word has two")
        }
        let n = bytes.count
        self.statusWord = StatusWord(sw1: bytes[n - 2], sw2: bytes[n - 1])
        self.data = Array(bytes[..<(n - 2)])
    }

    /// Whether the status word is `90 00`.
    public var isSuccess: Bool { statusWord == .success }

    /// The wire bytes: data, then SW1 SW2.
    public var bytes: [UInt8] { data + [statusWord.sw1, statusWord.sw2] }

    /// Returns the data when the status word is `90 00`.
    ///
    /// - Parameter operation: What was attempted, for the error's sentence (for example "READ BINARY").
    /// - Throws: ``ISO7816Error/unexpectedStatus(_:operation:)`` for any other status word.
    public func successData(for operation: String) throws(ISO7816Error) -> [UInt8] {
        guard isSuccess else { throw .unexpectedStatus(statusWord, operation: operation) }
        return data
    }

    /// The data in hex, then the status word and its meaning (`"01 02 90 00 (success)"`).
    public var description: String {
        data.isEmpty ? statusWord.description : "\(Hex.encode(data)) \(statusWord)"
    }
}
