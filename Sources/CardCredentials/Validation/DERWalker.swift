import Foundation

/// A minimal DER reader over a buffer: just enough to walk a large CRL in one pass without allocating.
struct DERWalker {
    struct Element {
        var tag: UInt8
        var start: Int  // first byte of the tag
        var contentStart: Int
        var end: Int  // one past the last content byte
    }

    let bytes: UnsafeBufferPointer<UInt8>

    /// Reads the element that starts at `offset` and must end by `limit`.
    func element(at offset: Int, limit: Int, what: @autoclosure () -> String) throws(CardCredentialsError)
        -> Element
    {
        guard offset < limit, limit <= bytes.count else { throw .malformedCRL("\(what()) is missing") }
        let tag = bytes[offset]
        // Only single-byte tags occur in CRLs.
        guard tag & 0x1F != 0x1F else { throw .malformedCRL("\(what()) has a multi-byte tag") }
        var i = offset + 1
        guard i < limit else { throw .malformedCRL("\(what()) is truncated") }
        let first = bytes[i]
        i += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            let count = Int(first & 0x7F)
            guard (1...4).contains(count) else { throw .malformedCRL("\(what()) has an invalid length") }
            guard i + count <= limit else { throw .malformedCRL("\(what()) is truncated") }
            for _ in 0..<count {
                length = length << 8 | Int(bytes[i])
                i += 1
            }
        }
        guard length <= limit - i else { throw .malformedCRL("\(what()) runs past its end") }
        return Element(tag: tag, start: offset, contentStart: i, end: i + length)
    }

    /// Reads an element and checks its tag.
    func expect(
        _ tag: UInt8, at offset: Int, limit: Int, what: @autoclosure () -> String
    ) throws(CardCredentialsError) -> Element {
        let element = try element(at: offset, limit: limit, what: what())
        guard element.tag == tag else {
            throw .malformedCRL(
                "\(what()) has tag \(String(element.tag, radix: 16)), expected \(String(tag, radix: 16))")
        }
        return element
    }

    /// Decodes a UTCTime (`17`) or GeneralizedTime (`18`) element.
    func time(_ element: Element, what: @autoclosure () -> String) throws(CardCredentialsError) -> Date {
        guard let date = DERTime.decode(bytes, tag: element.tag, from: element.contentStart, to: element.end) else {
            throw .malformedCRL("\(what()) is not a valid UTCTime or GeneralizedTime")
        }
        return date
    }
}

/// UTCTime and GeneralizedTime as RFC 5280 writes them (`YYMMDDHHMMSSZ`, `YYYYMMDDHHMMSS[.fff]Z`).
enum DERTime {
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, tag: UInt8, from start: Int, to end: Int) -> Date? {
        var i = start
        func digits(_ n: Int) -> Int? {
            guard i + n <= end else { return nil }
            var value = 0
            for _ in 0..<n {
                let c = bytes[i]
                guard (0x30...0x39).contains(c) else { return nil }
                value = value * 10 + Int(c - 0x30)
                i += 1
            }
            return value
        }
        let year: Int
        switch tag {
        case 0x17:
            guard let yy = digits(2) else { return nil }
            year = yy < 50 ? 2000 + yy : 1900 + yy  // RFC 5280 §4.1.2.5.1
        case 0x18:
            guard let yyyy = digits(4) else { return nil }
            year = yyyy
        default:
            return nil
        }
        guard let month = digits(2), let day = digits(2), let hour = digits(2), let minute = digits(2),
            let second = digits(2)
        else { return nil }
        var fraction = 0.0
        if tag == 0x18, i < end, bytes[i] == 0x2E {
            i += 1
            var scale = 0.1
            while i < end, (0x30...0x39).contains(bytes[i]) {
                fraction += Double(bytes[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
        }
        guard i + 1 == end, bytes[i] == 0x5A else { return nil }  // must end in "Z"
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else {
            return nil
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days) * 86400 + Double(hour * 3600 + minute * 60 + second) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
