import CardCredentials
import Foundation
import X509

/// The incremental update that carries a signature (ISO 32000-1 §7.5.6): the changed catalog or /AcroForm and
/// page, the new field and signature dictionary, and a cross-reference section whose /Prev is the file's last.
struct IncrementalUpdate {
    private(set) var bytes: [UInt8]
    /// Where the `/Contents` hex string starts (its `<`) and ends (after its `>`).
    private let contentsRange: Range<Int>
    private let byteRangePlaceholder: Range<Int>
    private let reservedSize: Int

    /// Prepares the update; `signer` names the signer in a visible signature's appearance (`nil` when only
    /// checking that the PDF can be signed).
    init(pdf: [UInt8], options: PAdES.Options, signer: Certificate?) throws(PDFSignatureError) {
        var file = try PDFFile(bytes: pdf)
        guard let rootReference = file.trailer["Root"]?.reference,
            case .dictionary(var catalog)? = try file.resolve(.reference(rootReference))
        else { throw PDFSignatureError(.malformedPDF, "the document catalog (/Root) is not a dictionary") }
        let (pageReference, pageDictionary): (PDFReference, PDFDictionary)
        if let appearance = options.appearance {
            let edges = [appearance.x, appearance.y, appearance.width, appearance.height]
            guard appearance.width > 0, appearance.height > 0, edges.allSatisfy({ $0.isFinite && abs($0) < 1e6 })
            else {
                throw PDFSignatureError(
                    .invalidAppearance, "the rectangle is \(appearance.width) by \(appearance.height) points")
            }
            (pageReference, pageDictionary) = try Self.page(appearance.page, of: catalog, in: &file)
        } else {
            (pageReference, pageDictionary) = try Self.firstPage(of: catalog, in: &file)
        }

        var next = file.size
        let fieldReference = PDFReference(number: next, generation: 0)
        let signatureReference = PDFReference(number: next + 1, generation: 0)
        next += 2
        var changed: [(PDFReference, PDFObject)] = []

        // The /AcroForm: in the catalog, or an object of its own.
        var form: PDFDictionary
        var formReference: PDFReference?
        switch catalog["AcroForm"] {
        case .reference(let reference)?:
            formReference = reference
            form = try file.object(reference).dictionary ?? PDFDictionary()
        case .dictionary(let dictionary)?:
            form = dictionary
        default:
            form = PDFDictionary()
        }
        let fields = try file.resolve(form["Fields"])?.array ?? []
        var names: Set<String> = []
        for field in fields {
            if let name = try file.resolve(field)?.dictionary?["T"]?.stringBytes {
                names.insert(String(decoding: name, as: UTF8.self))
            }
        }
        var fieldName = options.fieldName ?? ""
        if options.fieldName == nil {
            var n = 1
            while names.contains("Signature\(n)") { n += 1 }
            fieldName = "Signature\(n)"
        }
        guard !names.contains(fieldName) else {
            throw PDFSignatureError(.malformedPDF, "the document already has a field named \(fieldName)")
        }
        form["Fields"] = .array(fields + [.reference(fieldReference)])
        form["SigFlags"] = .integer(3)  // SignaturesExist | AppendOnly
        if let formReference {
            changed.append((formReference, .dictionary(form)))
        } else {
            catalog["AcroForm"] = .dictionary(form)
            changed.append((rootReference, .dictionary(catalog)))
        }

        // The widget goes into the first page's /Annots.
        var page = pageDictionary
        let annotations = try file.resolve(page["Annots"])?.array ?? []
        page["Annots"] = .array(annotations + [.reference(fieldReference)])
        changed.append((pageReference, .dictionary(page)))

        // The field and its widget, merged (ISO 32000-1 §12.5.6.19, §12.7.4.5): invisible (an empty rectangle)
        // or visible with an appearance stream; printable, locked.
        var field = PDFDictionary([
            ("Type", .name("Annot")), ("Subtype", .name("Widget")), ("FT", .name("Sig")),
            ("T", .literal(fieldName)), ("V", .reference(signatureReference)),
            ("Rect", .array([.integer(0), .integer(0), .integer(0), .integer(0)])), ("F", .integer(132)),
            ("P", .reference(pageReference)),
        ])
        if let appearance = options.appearance {
            let fontReference = PDFReference(number: next, generation: 0)
            let formReference = PDFReference(number: next + 1, generation: 0)
            next += 2
            field["Rect"] = .array(
                [appearance.x, appearance.y, appearance.x + appearance.width, appearance.y + appearance.height].map {
                    PDFObject.real(Self.number($0))
                })
            field["AP"] = .dictionary(PDFDictionary([("N", .reference(formReference))]))
            changed.append(
                (
                    fontReference,
                    .dictionary(
                        PDFDictionary([
                            ("Type", .name("Font")), ("Subtype", .name("Type1")), ("BaseFont", .name("Helvetica")),
                            ("Encoding", .name("WinAnsiEncoding")),
                        ]))
                ))
            let form = PDFDictionary([
                ("Type", .name("XObject")), ("Subtype", .name("Form")),
                ("BBox", .array([0, 0, appearance.width, appearance.height].map { PDFObject.real(Self.number($0)) })),
                (
                    "Resources",
                    .dictionary(
                        PDFDictionary([("Font", .dictionary(PDFDictionary([("Helv", .reference(fontReference))])))]))
                ),
            ])
            let content = Self.appearanceContent(
                width: appearance.width, height: appearance.height, signer: signer, time: options.signingTime)
            changed.append((formReference, .stream(form, content)))
        }
        changed.append((fieldReference, .dictionary(field)))

        var out = pdf
        if let last = out.last, last != 0x0A, last != 0x0D { out.append(0x0A) }
        var offsets: [Int: (offset: Int, generation: Int)] = [:]
        for (reference, object) in changed {
            offsets[reference.number] = (out.count, reference.generation)
            out += Array("\(reference.number) \(reference.generation) obj\n".utf8)
            object.write(into: &out)
            out += Array("\nendobj\n".utf8)
        }

        // The signature dictionary, written by hand so the placeholders' places are known.
        offsets[signatureReference.number] = (out.count, 0)
        out += Array("\(signatureReference.number) 0 obj\n".utf8)
        var head = PDFDictionary([
            ("Type", .name("Sig")), ("Filter", .name("Adobe.PPKLite")), ("SubFilter", .name("ETSI.CAdES.detached")),
            ("M", .literal(Self.pdfDate(options.signingTime))),
        ])
        if let reason = options.reason { head["Reason"] = Self.textString(reason) }
        if let location = options.location { head["Location"] = Self.textString(location) }
        var headBytes: [UInt8] = []
        head.write(into: &headBytes)
        out += headBytes.dropLast(2)  // without ">>"
        out += Array("/ByteRange ".utf8)
        let placeholderStart = out.count
        out += Array("[0 0000000000 0000000000 0000000000]".utf8)
        byteRangePlaceholder = placeholderStart..<out.count
        out += Array("/Contents ".utf8)
        let contentsStart = out.count
        out.append(0x3C)
        out += [UInt8](repeating: 0x30, count: options.totalReservedSize * 2)
        out.append(0x3E)
        contentsRange = contentsStart..<out.count
        out += Array(">>\nendobj\n".utf8)

        // The cross-reference section, in the form of the file's newest one.
        var trailer = PDFDictionary()
        trailer["Root"] = .reference(rootReference)
        if let info = file.trailer["Info"] { trailer["Info"] = info }
        var random = SystemRandomNumberGenerator()
        let newID = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }
        let firstID = file.trailer["ID"]?.array?.first ?? Self.hexString(newID)
        trailer["ID"] = .array([firstID, Self.hexString(newID)])
        trailer["Prev"] = .integer(file.startXRef)
        let xrefOffset: Int
        if file.usesXRefStreams {
            let xrefNumber = next
            next += 1
            xrefOffset = out.count
            offsets[xrefNumber] = (xrefOffset, 0)
            guard out.count < 1 << 32 else { throw PDFSignatureError(.malformedPDF, "the file exceeds 4 GiB") }
            var rows: [UInt8] = []
            var index: [PDFObject] = []
            for run in Self.runs(offsets.keys.sorted()) {
                index += [.integer(run.lowerBound), .integer(run.count)]
                for number in run {
                    let (offset, generation) = offsets[number] ?? (0, 0)
                    rows.append(1)
                    rows += (0..<4).reversed().map { UInt8((offset >> ($0 * 8)) & 0xFF) }
                    rows += [UInt8((generation >> 8) & 0xFF), UInt8(generation & 0xFF)]
                }
            }
            trailer["Type"] = .name("XRef")
            trailer["Size"] = .integer(next)
            trailer["W"] = .array([.integer(1), .integer(4), .integer(2)])
            trailer["Index"] = .array(index)
            out += Array("\(xrefNumber) 0 obj\n".utf8)
            PDFObject.stream(trailer, rows).write(into: &out)
            out += Array("\nendobj\n".utf8)
        } else {
            xrefOffset = out.count
            out += Array("xref\n".utf8)
            for run in Self.runs(offsets.keys.sorted()) {
                out += Array("\(run.lowerBound) \(run.count)\n".utf8)
                for number in run {
                    let (offset, generation) = offsets[number] ?? (0, 0)
                    out += Array((Self.padded(offset, 10) + " " + Self.padded(generation, 5) + " n\r\n").utf8)
                }
            }
            trailer["Size"] = .integer(next)
            out += Array("trailer\n".utf8)
            PDFObject.dictionary(trailer).write(into: &out)
            out += Array("\n".utf8)
        }
        out += Array("startxref\n\(xrefOffset)\n%%EOF\n".utf8)

        // The byte range is known now: everything but the /Contents string.
        let ranges = [0, contentsRange.lowerBound, contentsRange.upperBound, out.count - contentsRange.upperBound]
        var text = Array("[\(ranges.map(String.init).joined(separator: " "))".utf8)
        guard text.count < byteRangePlaceholder.count else {
            throw PDFSignatureError(.malformedPDF, "the byte range does not fit its placeholder")
        }
        text += [UInt8](repeating: 0x20, count: byteRangePlaceholder.count - text.count - 1) + [0x5D]
        out.replaceSubrange(byteRangePlaceholder, with: text)
        bytes = out
        reservedSize = options.totalReservedSize
    }

    /// The bytes the signature covers: all but the `/Contents` string.
    func signedBytes() -> [UInt8] {
        Array(bytes[..<contentsRange.lowerBound]) + Array(bytes[contentsRange.upperBound...])
    }

    /// Writes the CMS signature into `/Contents` and returns the signed PDF.
    mutating func finish(signature: [UInt8]) throws(PDFSignatureError) -> [UInt8] {
        guard signature.count <= reservedSize else {
            throw PDFSignatureError(
                .signatureTooLarge, "\(signature.count) bytes of signature, \(reservedSize) reserved")
        }
        let digits = Array("0123456789ABCDEF".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(signature.count * 2)
        for byte in signature { hex += [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]] }
        let start = contentsRange.lowerBound + 1
        bytes.replaceSubrange(start..<(start + hex.count), with: hex)
        return bytes
    }

    // MARK: - Helpers

    /// The first page (depth first through /Kids) and its reference.
    static func firstPage(of catalog: PDFDictionary, in file: inout PDFFile) throws(PDFSignatureError)
        -> (PDFReference, PDFDictionary)
    {
        guard var reference = catalog["Pages"]?.reference else {
            throw PDFSignatureError(.malformedPDF, "the catalog has no /Pages")
        }
        for _ in 0..<64 {
            guard let node = try file.object(reference).dictionary else {
                throw PDFSignatureError(.malformedPDF, "page tree node \(reference) is not a dictionary")
            }
            if node["Type"]?.name == "Page" { return (reference, node) }
            guard let kid = try file.resolve(node["Kids"])?.array?.first?.reference else {
                throw PDFSignatureError(.malformedPDF, "the document has no page")
            }
            reference = kid
        }
        throw PDFSignatureError(.malformedPDF, "the page tree is too deep")
    }

    /// Page `number` (from 1) in document order, and its reference.
    static func page(_ number: Int, of catalog: PDFDictionary, in file: inout PDFFile) throws(PDFSignatureError)
        -> (PDFReference, PDFDictionary)
    {
        guard let root = catalog["Pages"]?.reference else {
            throw PDFSignatureError(.malformedPDF, "the catalog has no /Pages")
        }
        var pending: [(reference: PDFReference, depth: Int)] = [(root, 0)]
        var seen = 0
        var visited = 0
        while let next = pending.popLast() {
            let (reference, depth) = (next.reference, next.depth)
            visited += 1
            guard depth < 64, visited < 1_000_000 else {
                throw PDFSignatureError(.malformedPDF, "the page tree is too deep or loops")
            }
            guard let node = try file.object(reference).dictionary else {
                throw PDFSignatureError(.malformedPDF, "page tree node \(reference) is not a dictionary")
            }
            if node["Type"]?.name == "Page" {
                seen += 1
                if seen == number { return (reference, node) }
                continue
            }
            let kids = try file.resolve(node["Kids"])?.array?.compactMap(\.reference) ?? []
            pending += kids.reversed().map { ($0, depth + 1) }
        }
        throw PDFSignatureError(
            .invalidAppearance, "page \(number) was asked for, but the document has \(seen) page\(seen == 1 ? "" : "s")"
        )
    }

    /// The appearance stream's content: a thin frame, "Digitally signed by" the signer, and the time (UTC), in
    /// Helvetica sized to fit the rectangle.
    static func appearanceContent(width: Double, height: Double, signer: Certificate?, time: Date) -> [UInt8] {
        var name = "(signer)"
        if let signer {
            // A JPKI signing certificate's subject is an identifier: the holder's name is in its subjectAltName.
            let commonName = signer.subject.flatMap { $0 }.first { $0.type == .RDNAttributeType.commonName }
            name =
                JPKIPersonalAttributes(certificate: signer)?.name
                ?? commonName.flatMap { DirectoryString.text(of: $0.value) } ?? ""
            if name.isEmpty || !name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value <= 0x7E }) {
                // Helvetica's WinAnsi encoding has no kanji: the certificate's serial number names the signer.
                let serial = signer.serialNumber.bytes.map { String($0, radix: 16, uppercase: true) }
                    .map { $0.count == 1 ? "0" + $0 : $0 }.joined()
                name = "certificate serial " + serial
            }
        }
        let stamp = pdfDate(time)
        let parts = [stamp.dropFirst(2).prefix(4), stamp.dropFirst(6).prefix(2), stamp.dropFirst(8).prefix(2)]
        let clock = [stamp.dropFirst(10).prefix(2), stamp.dropFirst(12).prefix(2), stamp.dropFirst(14).prefix(2)]
        let lines = [
            "Digitally signed by", name,
            "Date: " + parts.joined(separator: "-") + " " + clock.joined(separator: ":")
                + " UTC",
        ]
        let longest = Double(lines.map(\.count).max() ?? 1)
        let size = max(1, min(height / (Double(lines.count) * 1.25 + 0.5), (width - 4) / (longest * 0.56), 12))
        var text = "q 0.2 0.2 0.6 RG 0.5 w 0.25 0.25 \(number(width - 0.5)) \(number(height - 0.5)) re S Q\n"
        text += "BT /Helv \(number(size)) Tf 0 0 0.4 rg \(number(size * 1.25)) TL "
        text += "2 \(number(height - size - 1)) Td\n"
        for line in lines {
            var escaped = ""
            for character in line.unicodeScalars {
                if character == "(" || character == ")" || character == "\\" { escaped += "\\" }
                escaped.unicodeScalars.append(character)
            }
            text += "(\(escaped)) Tj T*\n"
        }
        text += "ET"
        return Array(text.utf8)
    }

    /// A number as PDF writes a real: at most two decimals, no exponent.
    static func number(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let sign = hundredths < 0 ? "-" : ""
        let magnitude = abs(hundredths)
        let fraction = magnitude % 100
        let decimals = fraction == 0 ? "" : fraction % 10 == 0 ? "." + String(fraction / 10) : "." + padded(fraction, 2)
        return sign + String(magnitude / 100) + decimals
    }

    /// Consecutive runs of sorted numbers.
    static func runs(_ numbers: [Int]) -> [ClosedRange<Int>] {
        var runs: [ClosedRange<Int>] = []
        for number in numbers {
            if let last = runs.last, last.upperBound + 1 == number {
                runs[runs.count - 1] = last.lowerBound...number
            } else {
                runs.append(number...number)
            }
        }
        return runs
    }

    static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    static func hexString(_ bytes: [UInt8]) -> PDFObject {
        let digits = Array("0123456789ABCDEF".utf8)
        var raw: [UInt8] = [0x3C]
        for byte in bytes { raw += [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]] }
        raw.append(0x3E)
        return .string(bytes: bytes, raw: raw)
    }

    /// A text string: ASCII as a literal, anything else UTF-16BE with its byte order mark (ISO 32000-1 §7.9.2.2).
    static func textString(_ text: String) -> PDFObject {
        if text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return .literal(text) }
        var bytes: [UInt8] = [0xFE, 0xFF]
        for unit in text.utf16 { bytes += [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
        return hexString(bytes)
    }

    /// `D:YYYYMMDDHHmmSSZ` in UTC (ISO 32000-1 §7.9.4).
    static func pdfDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let parts = [
            (c.year ?? 0, 4), (c.month ?? 0, 2), (c.day ?? 0, 2), (c.hour ?? 0, 2), (c.minute ?? 0, 2),
            (c.second ?? 0, 2),
        ]
        return "D:" + parts.map { padded($0.0, $0.1) }.joined() + "Z"
    }

    /// Reads a PDF date (`D:YYYYMMDDHHmmSS` with an optional `Z` or `±HH'mm'`), or `nil`.
    static func date(fromPDF text: String) -> Date? {
        var digits = Substring(text)
        if digits.hasPrefix("D:") { digits = digits.dropFirst(2) }
        let numbers = digits.prefix { $0.isASCII && $0.isNumber }
        guard numbers.count >= 4 else { return nil }
        func field(_ start: Int, _ length: Int, _ fallback: Int) -> Int {
            let characters = Array(numbers)
            guard characters.count >= start + length else { return fallback }
            return Int(String(characters[start..<(start + length)])) ?? fallback
        }
        var components = DateComponents(
            year: field(0, 4, 0), month: field(4, 2, 1), day: field(6, 2, 1), hour: field(8, 2, 0),
            minute: field(10, 2, 0), second: field(12, 2, 0))
        var offset = 0
        let rest = digits.dropFirst(numbers.count)
        if let sign = rest.first, sign == "+" || sign == "-" {
            let tail = rest.dropFirst().filter { $0.isNumber }
            let hours = Int(String(tail.prefix(2))) ?? 0
            let minutes = Int(String(tail.dropFirst(2).prefix(2))) ?? 0
            offset = (hours * 3600 + minutes * 60) * (sign == "-" ? -1 : 1)
        }
        components.timeZone = TimeZone(secondsFromGMT: offset)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar.date(from: components)
    }
}
