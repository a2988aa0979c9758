/// Reads PDF objects from bytes (ISO 32000-1 §7.2–7.3): the tokens, the objects they make, and `N G obj … endobj`.
///
/// It never traps on malformed input: every problem is a ``PDFSignatureError`` with code `.malformedPDF`.
struct PDFLexer {
    let bytes: [UInt8]
    var position: Int

    init(_ bytes: [UInt8], at position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x00 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D || byte == 0x20
    }

    static func isDelimiter(_ byte: UInt8) -> Bool {
        [0x28, 0x29, 0x3C, 0x3E, 0x5B, 0x5D, 0x7B, 0x7D, 0x2F, 0x25].contains(byte)
    }

    static func isRegular(_ byte: UInt8) -> Bool { !isWhitespace(byte) && !isDelimiter(byte) }

    var atEnd: Bool { position >= bytes.count }

    func malformed(_ reason: String) -> PDFSignatureError {
        PDFSignatureError(.malformedPDF, "\(reason) at byte \(position)")
    }

    /// Skips whitespace and comments.
    mutating func skipWhitespace() {
        while position < bytes.count {
            let byte = bytes[position]
            if Self.isWhitespace(byte) {
                position += 1
            } else if byte == 0x25 {  // % comment to the end of the line
                while position < bytes.count, bytes[position] != 0x0A, bytes[position] != 0x0D { position += 1 }
            } else {
                return
            }
        }
    }

    /// The next run of regular characters (a number or keyword), without consuming it.
    func peekKeyword() -> [UInt8] {
        var end = position
        while end < bytes.count, Self.isRegular(bytes[end]) { end += 1 }
        return Array(bytes[position..<end])
    }

    mutating func readKeyword() -> [UInt8] {
        let keyword = peekKeyword()
        position += keyword.count
        return keyword
    }

    /// Reads `keyword` (after whitespace) or throws.
    mutating func expect(_ keyword: String) throws(PDFSignatureError) {
        skipWhitespace()
        guard readKeyword() == Array(keyword.utf8) else { throw malformed("expected \(keyword)") }
    }

    /// Reads a non-negative integer token.
    mutating func readInteger() throws(PDFSignatureError) -> Int {
        skipWhitespace()
        let token = readKeyword()
        guard let value = Self.integer(token) else { throw malformed("expected an integer") }
        return value
    }

    static func integer(_ token: [UInt8]) -> Int? {
        guard !token.isEmpty, token.count <= 18 else { return nil }
        var digits = token[...]
        var negative = false
        if digits.first == 0x2B || digits.first == 0x2D {
            negative = digits.first == 0x2D
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        let value = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return negative ? -value : value
    }

    /// Reads one object; `N G R` becomes a reference. Streams are read by ``readIndirectObject(resolveLength:)``.
    mutating func readObject(depth: Int = 0) throws(PDFSignatureError) -> PDFObject {
        guard depth < 64 else { throw malformed("objects nested too deeply") }
        skipWhitespace()
        guard position < bytes.count else { throw malformed("unexpected end of file") }
        let byte = bytes[position]
        switch byte {
        case 0x2F:  // name
            position += 1
            var name: [UInt8] = []
            while position < bytes.count, Self.isRegular(bytes[position]) {
                if bytes[position] == 0x23, position + 2 < bytes.count,
                    let high = Self.hexValue(bytes[position + 1]), let low = Self.hexValue(bytes[position + 2])
                {
                    name.append(high << 4 | low)
                    position += 3
                } else {
                    name.append(bytes[position])
                    position += 1
                }
            }
            return .name(String(decoding: name, as: UTF8.self))
        case 0x28:
            return try readLiteralString()
        case 0x3C:
            if position + 1 < bytes.count, bytes[position + 1] == 0x3C {
                position += 2
                var dictionary = PDFDictionary()
                while true {
                    skipWhitespace()
                    guard position + 1 < bytes.count else { throw malformed("unterminated dictionary") }
                    if bytes[position] == 0x3E, bytes[position + 1] == 0x3E {
                        position += 2
                        return .dictionary(dictionary)
                    }
                    guard case .name(let key) = try readObject(depth: depth + 1) else {
                        throw malformed("a dictionary key is not a name")
                    }
                    dictionary[key] = try readObject(depth: depth + 1)
                }
            }
            return try readHexString()
        case 0x5B:
            position += 1
            var items: [PDFObject] = []
            while true {
                skipWhitespace()
                guard position < bytes.count else { throw malformed("unterminated array") }
                if bytes[position] == 0x5D {
                    position += 1
                    return .array(items)
                }
                items.append(try readObject(depth: depth + 1))
            }
        default:
            let token = readKeyword()
            guard !token.isEmpty else { throw malformed("unexpected character") }
            switch String(decoding: token, as: UTF8.self) {
            case "true": return .boolean(true)
            case "false": return .boolean(false)
            case "null": return .null
            default: break
            }
            if let number = Self.integer(token) {
                // N G R?
                let saved = position
                skipWhitespace()
                if number >= 0, let generation = Self.integer(peekKeyword()), generation >= 0 {
                    position += peekKeyword().count
                    skipWhitespace()
                    if peekKeyword() == [0x52] {
                        position += 1
                        return .reference(PDFReference(number: number, generation: generation))
                    }
                }
                position = saved
                return .integer(number)
            }
            guard token.allSatisfy({ (0x30...0x39).contains($0) || $0 == 0x2E || $0 == 0x2D || $0 == 0x2B })
            else { throw malformed("unknown keyword \(String(decoding: token.prefix(20), as: UTF8.self))") }
            return .real(String(decoding: token, as: UTF8.self))
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    private mutating func readHexString() throws(PDFSignatureError) -> PDFObject {
        let start = position
        position += 1
        var digits: [UInt8] = []
        while position < bytes.count, bytes[position] != 0x3E {
            let byte = bytes[position]
            if let value = Self.hexValue(byte) {
                digits.append(value)
            } else if !Self.isWhitespace(byte) {
                throw malformed("a hexadecimal string holds a character that is not a hex digit")
            }
            position += 1
        }
        guard position < bytes.count else { throw malformed("unterminated hexadecimal string") }
        position += 1
        if digits.count % 2 == 1 { digits.append(0) }
        var value: [UInt8] = []
        value.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            value.append(digits[index] << 4 | digits[index + 1])
            index += 2
        }
        return .string(bytes: value, raw: Array(bytes[start..<position]))
    }

    private mutating func readLiteralString() throws(PDFSignatureError) -> PDFObject {
        let start = position
        position += 1
        var depth = 1
        var value: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case 0x5C:  // backslash
                guard position < bytes.count else { break }
                let next = bytes[position]
                position += 1
                switch next {
                case 0x6E: value.append(0x0A)
                case 0x72: value.append(0x0D)
                case 0x74: value.append(0x09)
                case 0x62: value.append(0x08)
                case 0x66: value.append(0x0C)
                case 0x0D:
                    if position < bytes.count, bytes[position] == 0x0A { position += 1 }
                case 0x0A: break
                case 0x30...0x37:
                    var code = Int(next - 0x30)
                    for _ in 0..<2 {
                        guard position < bytes.count, (0x30...0x37).contains(bytes[position]) else { break }
                        code = code * 8 + Int(bytes[position] - 0x30)
                        position += 1
                    }
                    value.append(UInt8(code & 0xFF))
                default: value.append(next)
                }
            case 0x28:
                depth += 1
                value.append(byte)
            case 0x29:
                depth -= 1
                if depth == 0 { return .string(bytes: value, raw: Array(bytes[start..<position])) }
                value.append(byte)
            default:
                value.append(byte)
            }
        }
        throw malformed("unterminated string")
    }

    /// Reads `N G obj <object> [stream … endstream] endobj` at the current position.
    ///
    /// - Parameter resolveLength: Resolves an indirect `/Length` of a stream.
    mutating func readIndirectObject(
        expecting reference: PDFReference? = nil, resolveLength: (PDFReference) throws(PDFSignatureError) -> Int?
    ) throws(PDFSignatureError) -> PDFObject {
        let number = try readInteger()
        let generation = try readInteger()
        if let reference, reference.number != number || reference.generation != generation {
            throw malformed("object \(reference) was expected, \(number) \(generation) found")
        }
        try expect("obj")
        let object = try readObject()
        skipWhitespace()
        guard peekKeyword() == Array("stream".utf8), case .dictionary(let dictionary) = object else { return object }
        position += 6
        // The keyword is followed by CR LF or LF (ISO 32000-1 §7.3.8.1).
        if position < bytes.count, bytes[position] == 0x0D { position += 1 }
        if position < bytes.count, bytes[position] == 0x0A { position += 1 }
        var length: Int?
        switch dictionary["Length"] {
        case .integer(let value)?: length = value
        case .reference(let reference)?: length = try resolveLength(reference)
        default: length = nil
        }
        let start = position
        if let length, length >= 0, start + length <= bytes.count {
            var probe = PDFLexer(bytes, at: start + length)
            probe.skipWhitespace()
            if probe.peekKeyword() == Array("endstream".utf8) {
                position = start + length
                return .stream(dictionary, Array(bytes[start..<(start + length)]))
            }
        }
        // A wrong /Length: find endstream instead.
        guard let end = Self.find(Array("endstream".utf8), in: bytes, from: start) else {
            throw malformed("a stream has no endstream")
        }
        var stop = end
        if stop > start, bytes[stop - 1] == 0x0A { stop -= 1 }
        if stop > start, bytes[stop - 1] == 0x0D { stop -= 1 }
        position = end
        return .stream(dictionary, Array(bytes[start..<stop]))
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }

    static func findLast(_ needle: [UInt8], in haystack: [UInt8], before end: Int) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = min(end, haystack.count) - needle.count
        while index >= 0 {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index
            }
            index -= 1
        }
        return nil
    }
}
