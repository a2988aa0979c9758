/// A PDF file read for signing or checking: its cross-reference sections (classic tables and xref streams, with
/// objects in object streams), its newest trailer, and its objects on demand. The bytes are never changed.
struct PDFFile {
    /// Where an object lives.
    enum Location: Equatable {
        /// At a byte offset in the file.
        case offset(Int, generation: Int)
        /// Inside object stream `stream`, at `index`.
        case compressed(stream: Int, index: Int)
        /// Free.
        case free
    }

    let bytes: [UInt8]
    /// The newest entry of each object number.
    private(set) var locations: [Int: Location] = [:]
    /// The newest trailer (of the last xref section; for an xref stream, its dictionary).
    private(set) var trailer = PDFDictionary()
    /// The byte offset of the newest xref section (`startxref`).
    let startXRef: Int
    /// Whether the newest section is an xref stream (an update should then write one too).
    private(set) var usesXRefStreams = false
    private var objectStreams: [Int: [Int: PDFObject]] = [:]

    init(bytes: [UInt8]) throws(PDFSignatureError) {
        self.bytes = bytes
        guard bytes.count > 8,
            bytes.starts(with: Array("%PDF-".utf8))
                || PDFLexer.find(
                    Array("%PDF-".utf8), in: Array(bytes.prefix(1024)), from: 0) != nil
        else { throw PDFSignatureError(.malformedPDF, "the file does not begin with %PDF-") }
        guard let marker = PDFLexer.findLast(Array("startxref".utf8), in: bytes, before: bytes.count) else {
            throw PDFSignatureError(.malformedPDF, "no startxref at the end of the file")
        }
        var lexer = PDFLexer(bytes, at: marker + 9)
        startXRef = try lexer.readInteger()
        var seen: Set<Int> = []
        var next: Int? = startXRef
        var first = true
        while let offset = next {
            guard offset >= 0, offset < bytes.count, seen.insert(offset).inserted, seen.count < 10_000 else {
                throw PDFSignatureError(
                    .malformedPDF, "a cross-reference offset (\(offset)) is outside the file or loops")
            }
            let (sectionTrailer, isStream) = try readSection(at: offset)
            if first {
                trailer = sectionTrailer
                usesXRefStreams = isStream
                first = false
            }
            // A hybrid file's classic trailer points to an xref stream with more entries.
            if !isStream, let hybrid = sectionTrailer["XRefStm"]?.integer, seen.insert(hybrid).inserted {
                _ = try readSection(at: hybrid)
            }
            next = sectionTrailer["Prev"]?.integer
        }
        if trailer["Encrypt"] != nil {
            throw PDFSignatureError(.encryptedPDF, "its trailer has /Encrypt")
        }
        guard trailer["Root"]?.reference != nil else {
            throw PDFSignatureError(.malformedPDF, "the trailer has no /Root")
        }
    }

    /// Reads one cross-reference section; entries already known (from a newer section) are kept.
    private mutating func readSection(at offset: Int) throws(PDFSignatureError) -> (PDFDictionary, Bool) {
        var lexer = PDFLexer(bytes, at: offset)
        lexer.skipWhitespace()
        if lexer.peekKeyword() == Array("xref".utf8) {
            lexer.position += 4
            while true {
                lexer.skipWhitespace()
                if lexer.peekKeyword() == Array("trailer".utf8) {
                    lexer.position += 7
                    guard case .dictionary(let dictionary) = try lexer.readObject() else {
                        throw PDFSignatureError(.malformedPDF, "the trailer is not a dictionary")
                    }
                    return (dictionary, false)
                }
                let start = try lexer.readInteger()
                let count = try lexer.readInteger()
                guard start >= 0, count >= 0, count < 10_000_000 else {
                    throw PDFSignatureError(.malformedPDF, "a cross-reference subsection is out of range")
                }
                for number in start..<(start + count) {
                    let field1 = try lexer.readInteger()
                    let field2 = try lexer.readInteger()
                    lexer.skipWhitespace()
                    let kind = lexer.readKeyword()
                    guard locations[number] == nil else { continue }
                    switch kind {
                    case [0x6E]: locations[number] = .offset(field1, generation: field2)  // n
                    case [0x66]: locations[number] = .free  // f
                    default: throw PDFSignatureError(.malformedPDF, "a cross-reference entry is neither n nor f")
                    }
                }
            }
        }
        // An xref stream: N G obj << /Type /XRef … >> stream.
        let object = try lexer.readIndirectObject { (_: PDFReference) throws(PDFSignatureError) -> Int? in nil }
        guard case .stream(let dictionary, let encoded) = object, dictionary["Type"]?.name == "XRef" else {
            throw PDFSignatureError(.malformedPDF, "startxref points to neither xref nor an xref stream")
        }
        let data = try Flate.decode(encoded, dictionary: dictionary)
        guard let widths = dictionary["W"]?.array?.compactMap(\.integer), widths.count == 3,
            widths.allSatisfy({ (0...8).contains($0) }), let size = dictionary["Size"]?.integer
        else { throw PDFSignatureError(.malformedPDF, "an xref stream's /W or /Size is missing") }
        let index = dictionary["Index"]?.array?.compactMap(\.integer) ?? [0, size]
        let rowLength = widths.reduce(0, +)
        var row = 0
        func field(_ start: Int, _ width: Int) -> Int {
            var value = 0
            for i in 0..<width { value = value << 8 | Int(data[start + i]) }
            return value
        }
        var pair = 0
        while pair + 1 < index.count {
            for number in index[pair]..<(index[pair] + max(0, index[pair + 1])) {
                let start = row * rowLength
                guard start + rowLength <= data.count else {
                    throw PDFSignatureError(.malformedPDF, "an xref stream is shorter than its /Index says")
                }
                let type = widths[0] == 0 ? 1 : field(start, widths[0])
                let second = field(start + widths[0], widths[1])
                let third = field(start + widths[0] + widths[1], widths[2])
                row += 1
                guard locations[number] == nil else { continue }
                switch type {
                case 0: locations[number] = .free
                case 1: locations[number] = .offset(second, generation: third)
                case 2: locations[number] = .compressed(stream: second, index: third)
                default: break  // reserved types are ignored (ISO 32000-1 §7.5.8.3)
                }
            }
            pair += 2
        }
        return (dictionary, true)
    }

    /// The highest object number in use plus one, as an update's /Size must at least be.
    var size: Int { max(trailer["Size"]?.integer ?? 0, (locations.keys.max() ?? 0) + 1) }

    /// The object a reference names (`null` when free or missing, as ISO 32000-1 §7.3.10 says).
    mutating func object(_ reference: PDFReference) throws(PDFSignatureError) -> PDFObject {
        switch locations[reference.number] {
        case .offset(let offset, let generation)?:
            guard generation == reference.generation, offset >= 0, offset < bytes.count else { return .null }
            var lexer = PDFLexer(bytes, at: offset)
            let snapshot = self
            return try lexer.readIndirectObject(expecting: reference) {
                (length: PDFReference) throws(PDFSignatureError) -> Int? in
                var copy = snapshot
                return try copy.object(length).integer
            }
        case .compressed(let stream, let index)?:
            if objectStreams[stream] == nil { objectStreams[stream] = try readObjectStream(stream) }
            return objectStreams[stream]?[index] ?? .null
        case .free?, nil:
            return .null
        }
    }

    /// Resolves a value that may be a reference.
    mutating func resolve(_ object: PDFObject?) throws(PDFSignatureError) -> PDFObject? {
        guard let object else { return nil }
        if case .reference(let reference) = object { return try self.object(reference) }
        return object
    }

    private mutating func readObjectStream(_ number: Int) throws(PDFSignatureError) -> [Int: PDFObject] {
        guard case .offset = locations[number] else {
            throw PDFSignatureError(.malformedPDF, "object stream \(number) is not at an offset")
        }
        guard case .stream(let dictionary, let encoded) = try object(PDFReference(number: number, generation: 0)),
            let count = dictionary["N"]?.integer, let first = dictionary["First"]?.integer, count >= 0
        else { throw PDFSignatureError(.malformedPDF, "object \(number) is not an object stream") }
        let data = try Flate.decode(encoded, dictionary: dictionary)
        var header = PDFLexer(data)
        var objects: [Int: PDFObject] = [:]
        var offsets: [Int] = []
        for _ in 0..<count {
            _ = try header.readInteger()
            offsets.append(try header.readInteger())
        }
        for (index, offset) in offsets.enumerated() {
            guard first + offset < data.count else { continue }
            var lexer = PDFLexer(data, at: first + offset)
            objects[index] = try lexer.readObject()
        }
        return objects
    }
}
