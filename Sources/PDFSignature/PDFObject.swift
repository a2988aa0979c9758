/// One PDF object (ISO 32000-1 §7.3), as read from a file and written back.
///
/// Literal strings, names and real numbers keep their bytes as they stood in the file, so an object that is
/// read and written again changes only where it was edited.
enum PDFObject: Sendable, Equatable {
    case null
    case boolean(Bool)
    case integer(Int)
    /// A real number, its text as written.
    case real(String)
    /// A string: its bytes (escapes resolved) and the raw token as written (`(…)` or `<…>`).
    case string(bytes: [UInt8], raw: [UInt8])
    /// A name, without the slash, `#xx` escapes resolved.
    case name(String)
    case array([PDFObject])
    case dictionary(PDFDictionary)
    case reference(PDFReference)
    /// A stream: its dictionary and the bytes between `stream` and `endstream` (still encoded).
    case stream(PDFDictionary, [UInt8])

    var dictionary: PDFDictionary? {
        switch self {
        case .dictionary(let dictionary), .stream(let dictionary, _): dictionary
        default: nil
        }
    }

    var array: [PDFObject]? {
        if case .array(let array) = self { return array }
        return nil
    }

    var integer: Int? {
        if case .integer(let value) = self { return value }
        return nil
    }

    var name: String? {
        if case .name(let name) = self { return name }
        return nil
    }

    var reference: PDFReference? {
        if case .reference(let reference) = self { return reference }
        return nil
    }

    var stringBytes: [UInt8]? {
        if case .string(let bytes, _) = self { return bytes }
        return nil
    }

    /// A literal string made from text (PDFDocEncoding's ASCII subset), escaped.
    static func literal(_ text: String) -> PDFObject {
        var raw: [UInt8] = [0x28]
        for byte in text.utf8 {
            if byte == 0x28 || byte == 0x29 || byte == 0x5C { raw.append(0x5C) }
            raw.append(byte)
        }
        raw.append(0x29)
        return .string(bytes: Array(text.utf8), raw: raw)
    }

    /// The object in PDF syntax.
    func serialized() -> [UInt8] {
        var out: [UInt8] = []
        write(into: &out)
        return out
    }

    func write(into out: inout [UInt8]) {
        switch self {
        case .null: out += Array("null".utf8)
        case .boolean(let value): out += Array((value ? "true" : "false").utf8)
        case .integer(let value): out += Array(String(value).utf8)
        case .real(let text): out += Array(text.utf8)
        case .string(_, let raw): out += raw
        case .name(let name): out += PDFObject.encodeName(name)
        case .array(let items):
            out.append(0x5B)
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(0x20) }
                item.write(into: &out)
            }
            out.append(0x5D)
        case .dictionary(let dictionary):
            dictionary.write(into: &out)
        case .reference(let reference):
            out += Array("\(reference.number) \(reference.generation) R".utf8)
        case .stream(let dictionary, let data):
            var dictionary = dictionary
            dictionary["Length"] = .integer(data.count)
            dictionary.write(into: &out)
            out += Array("\nstream\n".utf8)
            out += data
            out += Array("\nendstream".utf8)
        }
    }

    static func encodeName(_ name: String) -> [UInt8] {
        var out: [UInt8] = [0x2F]
        for byte in name.utf8 {
            if byte < 0x21 || byte > 0x7E || PDFLexer.isDelimiter(byte) || byte == 0x23 {
                let digits = Array("0123456789ABCDEF".utf8)
                out += [0x23, digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
            } else {
                out.append(byte)
            }
        }
        return out
    }
}

/// An indirect reference `N G R`.
struct PDFReference: Sendable, Hashable, CustomStringConvertible {
    var number: Int
    var generation: Int

    var description: String { "\(number) \(generation) R" }
}

/// A PDF dictionary that keeps its keys in the order they were read.
struct PDFDictionary: Sendable, Equatable {
    private(set) var entries: [(key: String, value: PDFObject)] = []

    init() {}

    init(_ entries: [(String, PDFObject)]) {
        for (key, value) in entries { self[key] = value }
    }

    subscript(key: String) -> PDFObject? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    func write(into out: inout [UInt8]) {
        out += Array("<<".utf8)
        for (key, value) in entries {
            out += PDFObject.encodeName(key)
            out.append(0x20)
            value.write(into: &out)
        }
        out += Array(">>".utf8)
    }

    static func == (lhs: PDFDictionary, rhs: PDFDictionary) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
