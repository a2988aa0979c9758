/// Hexadecimal text to and from bytes, as card tools print them.
public enum Hex {
    /// Parses hexadecimal text such as `"00 A4 04 0C"`, `"00a4040c"` or `"00:A4:04:0C"`.
    ///
    /// Spaces, tabs, colons and newlines between digits are ignored; an odd number of digits or any other
    /// character throws ``ISO7816Error/invalidHex(_:)``.
    public static func decode(_ text: some StringProtocol) throws(ISO7816Error) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count / 2)
        var high: UInt8?
        for (index, c) in text.utf8.enumerated() {
            let nibble: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = c - UInt8(ascii: "A") + 10
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"),
                UInt8(ascii: ":"):
                if high != nil {
                    throw .invalidHex("a separator splits the byte that starts at character \(index - 1)")
                }
                continue
            default:
                throw .invalidHex("character \(index + 1) is not a hex digit")
            }
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        if high != nil { throw .invalidHex("odd number of hex digits") }
        return bytes
    }

    /// Formats bytes as upper-case hex, by default separated by spaces (`"90 00"`).
    public static func encode(_ bytes: some Sequence<UInt8>, separator: String = " ") -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        var first = true
        for b in bytes {
            if !first { out.append(contentsOf: separator.utf8) }
            first = false
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
