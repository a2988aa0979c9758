/// The pieces of MIME a plain-text Japanese mail needs: base64 (RFC 4648), RFC 2047 encoded words split on
/// character boundaries, and line folding.
enum MIMEEncoding {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Base64 of `bytes`, as ASCII bytes, with padding and no line breaks.
    ///
    /// The result is a plain array the caller owns, so a secret encoded here (AUTH PLAIN) can be wiped.
    static func base64(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(alphabet[Int(group >> 18 & 0x3F)])
            output.append(alphabet[Int(group >> 12 & 0x3F)])
            output.append(second == nil ? UInt8(ascii: "=") : alphabet[Int(group >> 6 & 0x3F)])
            output.append(third == nil ? UInt8(ascii: "=") : alphabet[Int(group & 0x3F)])
        }
        return output
    }

    /// Base64 of `bytes` in lines of at most 76 characters, each ended by CRLF (RFC 2045 §6.8).
    static func base64Lines(_ bytes: [UInt8]) -> [UInt8] {
        let encoded = base64(bytes)
        var output: [UInt8] = []
        output.reserveCapacity(encoded.count + encoded.count / 76 * 2 + 2)
        var start = 0
        while start < encoded.count {
            let end = min(start + 76, encoded.count)
            output += encoded[start..<end]
            output += [0x0D, 0x0A]
            start = end
        }
        return output
    }

    /// The longest an encoded word may be (RFC 2047 §2).
    static let maximumEncodedWordLength = 75
    /// The longest a header line holding encoded words may be (RFC 2047 §2), CRLF excluded.
    static let maximumLineLength = 76
    private static let wordPrefix = "=?UTF-8?B?"
    private static let wordSuffix = "?="

    /// `text` as RFC 2047 `B` encoded words in UTF-8, folded with CRLF SP.
    ///
    /// Each word holds whole characters (a grapheme cluster, or when one cluster alone is too long, whole Unicode
    /// scalars), so no word ends inside a UTF-8 sequence; each is at most 75 characters, and no line is longer
    /// than 76 characters given that `used` characters (e.g. `Subject: `) precede the first word.
    static func encodedWords(_ text: String, firstLineUsed used: Int) -> String {
        let overhead = wordPrefix.utf8.count + wordSuffix.utf8.count
        // The payload bytes that fit in a word of at most `width` characters: 3 bytes per 4 base64 characters.
        func capacity(width: Int) -> Int { max(3, (min(width, maximumEncodedWordLength) - overhead) / 4 * 3) }
        let firstCapacity = capacity(width: maximumLineLength - used)
        let laterCapacity = capacity(width: maximumLineLength - 1)

        var chunks: [[UInt8]] = []
        var current: [UInt8] = []
        func limit() -> Int { chunks.isEmpty ? firstCapacity : laterCapacity }
        func append(_ piece: [UInt8]) {
            if !current.isEmpty, current.count + piece.count > limit() {
                chunks.append(current)
                current = []
            }
            current += piece
        }
        for character in text {
            let bytes = Array(String(character).utf8)
            if bytes.count <= laterCapacity {
                append(bytes)
            } else {
                // One very long cluster (a family emoji with modifiers): split it between its scalars.
                for scalar in character.unicodeScalars { append(Array(String(scalar).utf8)) }
            }
        }
        if !current.isEmpty || chunks.isEmpty { chunks.append(current) }
        return chunks.map { chunk in
            wordPrefix + String(decoding: base64(chunk), as: UTF8.self) + wordSuffix
        }.joined(separator: "\r\n ")
    }

    /// Whether `text` can go into a header as it is: printable ASCII and spaces only.
    static func isPlainHeaderText(_ text: String) -> Bool {
        text.utf8.allSatisfy { (0x20...0x7E).contains($0) }
    }

    /// `text` with every line break (CRLF, a lone CR or a lone LF) turned into CRLF.
    static func normalizingLineBreaks(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\r":
                scalars.append("\r")
                scalars.append("\n")
                previousWasCR = true
            case "\n":
                if !previousWasCR {
                    scalars.append("\r")
                    scalars.append("\n")
                }
                previousWasCR = false
            default:
                scalars.append(scalar)
                previousWasCR = false
            }
        }
        return String(scalars)
    }
}
