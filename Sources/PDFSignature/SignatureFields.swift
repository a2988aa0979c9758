import Foundation

/// The signature fields of a PDF's /AcroForm that have a value, and what their signature dictionaries say.
struct SignatureFields {
    struct Field {
        var name: String
        var subFilter: String
        var byteRange: [Int]
        var contents: [UInt8]
        var signingTime: Date?

        /// The bytes the signature covers, the CMS bytes (the `/Contents` without its zero padding), and the end
        /// of the signed revision; checks that the gap of the byte range is exactly the `/Contents` string.
        func coveredBytes(in pdf: [UInt8]) throws(PDFSignatureError) -> ([UInt8], [UInt8], Int) {
            guard byteRange.count == 4, byteRange[0] == 0, byteRange.allSatisfy({ $0 >= 0 }) else {
                throw PDFSignatureError(.unsupportedSignature, "the /ByteRange of \(name) is not [0 a b c]")
            }
            let (gapStart, gapEnd) = (byteRange[1], byteRange[2])
            let end = byteRange[2] + byteRange[3]
            guard gapStart < gapEnd, end <= pdf.count, gapEnd - gapStart >= 2, pdf[gapStart] == 0x3C,
                pdf[gapEnd - 1] == 0x3E,
                pdf[(gapStart + 1)..<(gapEnd - 1)].allSatisfy({ PDFLexer.hexValue($0) != nil })
            else {
                throw PDFSignatureError(
                    .unsupportedSignature,
                    "the /ByteRange of \(name) leaves out more than its /Contents string, or lies outside the file")
            }
            let content = Array(pdf[0..<gapStart]) + Array(pdf[gapEnd..<end])
            guard let length = Self.derLength(contents), length <= contents.count else {
                throw PDFSignatureError(.unsupportedSignature, "the /Contents of \(name) is not DER")
            }
            return (content, Array(contents.prefix(length)), end)
        }

        /// The length of the DER object at the start of `bytes`, header included.
        static func derLength(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 2, bytes[0] == 0x30 else { return nil }
            let first = Int(bytes[1])
            if first < 0x80 { return 2 + first }
            let count = first & 0x7F
            guard count >= 1, count <= 4, bytes.count >= 2 + count else { return nil }
            let length = bytes[2..<(2 + count)].reduce(0) { $0 << 8 | Int($1) }
            return 2 + count + length
        }
    }

    /// Every signed signature field, depth first through /Kids.
    static func find(in file: inout PDFFile) throws(PDFSignatureError) -> [Field] {
        guard let root = file.trailer["Root"], let catalog = try file.resolve(root)?.dictionary,
            let form = try file.resolve(catalog["AcroForm"])?.dictionary
        else { return [] }
        var found: [Field] = []
        var pending: [(PDFObject, String?, String?)] = (try file.resolve(form["Fields"])?.array ?? []).map {
            ($0, nil, nil)
        }
        var visited = 0
        while !pending.isEmpty, visited < 10_000 {
            visited += 1
            let (object, parentName, inheritedType) = pending.removeFirst()
            guard let field = try file.resolve(object)?.dictionary else { continue }
            let partial = field["T"]?.stringBytes.map { Self.text($0) }
            let name = [parentName, partial].compactMap { $0 }.joined(separator: ".")
            let type = field["FT"]?.name ?? inheritedType
            if let kids = try file.resolve(field["Kids"])?.array {
                pending += kids.map { ($0, name.isEmpty ? nil : name, type) }
            }
            guard type == "Sig", let value = try file.resolve(field["V"])?.dictionary else { continue }
            guard let byteRange = try file.resolve(value["ByteRange"])?.array?.compactMap(\.integer),
                let contents = try file.resolve(value["Contents"])?.stringBytes
            else {
                throw PDFSignatureError(
                    .unsupportedSignature, "the signature of \(name) has no /ByteRange or /Contents")
            }
            let subFilter = value["SubFilter"]?.name ?? ""
            guard subFilter == "ETSI.CAdES.detached" || subFilter == "adbe.pkcs7.detached" else {
                throw PDFSignatureError(
                    .unsupportedSignature, "the signature of \(name) is /SubFilter /\(subFilter), not a detached CMS")
            }
            let time = value["M"]?.stringBytes.flatMap { IncrementalUpdate.date(fromPDF: Self.text($0)) }
            found.append(
                Field(
                    name: name, subFilter: subFilter, byteRange: byteRange, contents: contents, signingTime: time))
        }
        return found
    }

    /// A text string's text: UTF-16BE with a byte order mark, else PDFDocEncoding read as Latin-1.
    static func text(_ bytes: [UInt8]) -> String {
        if bytes.starts(with: [0xFE, 0xFF]) {
            var units: [UInt16] = []
            var index = 2
            while index + 1 < bytes.count {
                units.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
                index += 2
            }
            return String(decoding: units, as: UTF16.self)
        }
        return String(bytes.map { Character(Unicode.Scalar($0)) })
    }
}
