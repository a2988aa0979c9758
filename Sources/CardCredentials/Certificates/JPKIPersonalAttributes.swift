public import X509

/// The Japanese imperial era (元号) digit that leads a JPKI date of birth.
public enum JapaneseEra: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Not known (0).
    case unknown = 0
    /// 明治 (1).
    case meiji = 1
    /// 大正 (2).
    case taisho = 2
    /// 昭和 (3).
    case showa = 3
    /// 平成 (4).
    case heisei = 4
    /// 令和 (5).
    case reiwa = 5

    /// The era's name in kanji (`"昭和"`), empty for ``unknown``.
    public var description: String {
        switch self {
        case .unknown: ""
        case .meiji: "明治"
        case .taisho: "大正"
        case .showa: "昭和"
        case .heisei: "平成"
        case .reiwa: "令和"
        }
    }
}

/// A date of birth as a JPKI signing certificate writes it: `EYYYYMMDD`, an era digit then a Gregorian date.
public struct JPKIDateOfBirth: Sendable, Hashable, CustomStringConvertible {
    /// The era of the date (the digit before the Gregorian date).
    public var era: JapaneseEra
    /// The Gregorian year.
    public var year: Int
    /// The month, 1–12.
    public var month: Int
    /// The day, 1–31.
    public var day: Int

    /// Reads `EYYYYMMDD` (`"319800217"`: 昭和, 1980-02-17); `nil` when the text has another form.
    public init?(_ text: String) {
        let digits = Array(text.utf8)
        guard digits.count == 9, digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + Int(digits[$1] - 0x30) } }
        guard let era = JapaneseEra(rawValue: number(0..<1)) else { return nil }
        let month = number(5..<7)
        let day = number(7..<9)
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        self.era = era
        self.year = number(1..<5)
        self.month = month
        self.day = day
    }

    /// `"1980-02-17"` (ISO 8601).
    public var description: String {
        func pad(_ n: Int, _ width: Int) -> String {
            let text = String(n)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }
}

/// The person a JPKI signing certificate (署名用電子証明書) names: the four basic facts (基本4情報) carried as
/// otherName entries of its subjectAltName (OIDs `1.2.392.200149.8.5.5.1`–`.6`).
public struct JPKIPersonalAttributes: Sendable, Hashable {
    /// The OID arc under which JPKI puts the attributes.
    public static let oidPrefix = "1.2.392.200149.8.5.5."

    /// 氏名 (`.1`): family and given name separated by a full-width space (U+3000).
    public var name: String?
    /// 性別 (`.3`): the code as written (`"1"` male, `"2"` female, `"3"` not stated).
    public var sexCode: String?
    /// 生年月日 (`.4`), decoded from `EYYYYMMDD`.
    public var dateOfBirth: JPKIDateOfBirth?
    /// The date of birth exactly as written, for forms the decoder does not know.
    public var dateOfBirthText: String?
    /// 住所 (`.5`).
    public var address: String?
    /// Positions of characters replaced by substitutes in the name (代替文字, `.2`), as written.
    public var nameSubstitutePositions: String?
    /// Positions of characters replaced by substitutes in the address (`.6`), as written.
    public var addressSubstitutePositions: String?

    /// 性別 in Japanese (`"男"`, `"女"`), or `nil` for another code.
    public var sexLabel: String? {
        switch sexCode {
        case "1": "男"
        case "2": "女"
        case "3": "その他"
        default: nil
        }
    }

    /// Reads the attributes from `certificate`'s subjectAltName; `nil` when it carries none of them (an
    /// authentication certificate, or not a JPKI certificate).
    public init?(certificate: Certificate) {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return nil }
        var found = false
        for case .otherName(let other) in names {
            let oid = other.typeID.description
            guard oid.hasPrefix(Self.oidPrefix), let value = other.value,
                let text = DirectoryString.text(of: value)
            else { continue }
            found = true
            switch oid.dropFirst(Self.oidPrefix.count) {
            case "1": name = text
            case "2": nameSubstitutePositions = text
            case "3": sexCode = text
            case "4":
                dateOfBirthText = text
                dateOfBirth = JPKIDateOfBirth(text)
            case "5": address = text
            case "6": addressSubstitutePositions = text
            default: break
            }
        }
        guard found else { return nil }
    }
}
