import ISO7816

/// The person a simulated My Number card belongs to: what the text-input-support application (券面事項入力補助 AP)
/// holds and what the signing certificate carries.
public struct JPKIHolder: Sendable, Hashable, Codable {
    /// Sex as the card codes it.
    public enum Sex: String, Sendable, Hashable, Codable {
        /// `1`.
        case male = "1"
        /// `2`.
        case female = "2"
        /// `9` (not applicable).
        case notApplicable = "9"
    }

    /// The 12-digit individual number (個人番号), ASCII digits.
    public var individualNumber: String
    /// The name, family and given name separated by an ideographic space U+3000 (`山田　太郎`).
    public var name: String
    /// The address as printed on the card (UTF-8).
    public var address: String
    /// The date of birth, Gregorian, `YYYYMMDD`.
    public var dateOfBirth: String
    /// Sex.
    public var sex: Sex
    /// The prefecture of residence, for the signing certificate's first `L` attribute.
    public var prefecture: String
    /// The city of residence, for the signing certificate's second `L` attribute.
    public var city: String

    /// Makes a holder; the fields are checked when a card is made from them.
    public init(
        individualNumber: String, name: String, address: String, dateOfBirth: String, sex: Sex,
        prefecture: String, city: String
    ) {
        self.individualNumber = individualNumber
        self.name = name
        self.address = address
        self.dateOfBirth = dateOfBirth
        self.sex = sex
        self.prefecture = prefecture
        self.city = city
    }

    /// A fictitious holder for tests and demonstrations.
    public static let example = JPKIHolder(
        individualNumber: "123456789018", name: "試験\u{3000}花子", address: "東京都千代田区霞が関二丁目１番２号",
        dateOfBirth: "19850401", sex: .female, prefecture: "東京都", city: "千代田区")

    func validated() throws(CardSimulatorError) -> JPKIHolder {
        guard individualNumber.utf8.count == 12, individualNumber.utf8.allSatisfy({ (0x30...0x39).contains($0) })
        else { throw .invalidParameter("the individual number must be 12 ASCII digits") }
        guard dateOfBirth.utf8.count == 8, dateOfBirth.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw .invalidParameter("the date of birth must be YYYYMMDD")
        }
        guard !name.isEmpty, !address.isEmpty else { throw .invalidParameter("name and address must not be empty") }
        return self
    }

    /// EF `0001` of the text-input-support application: `FF 10 0C` + the 12 digits + `FF FF`.
    public var individualNumberFile: [UInt8] {
        [0xFF, 0x10, 0x0C] + Array(individualNumber.utf8) + [0xFF, 0xFF]
    }

    /// EF `0002` of the text-input-support application: `FF 20 L { DF21 offsets | DF22 name | DF23 address |
    /// DF24 date of birth | DF25 sex }`, the offsets (2 bytes each) pointing at the DF22…DF25 tags from the
    /// file's start.
    public var basicFourFactsFile: [UInt8] {
        let fields: [(UInt8, [UInt8])] = [
            (0x22, Array(name.utf8)), (0x23, Array(address.utf8)), (0x24, Array(dateOfBirth.utf8)),
            (0x25, Array(sex.rawValue.utf8)),
        ]
        let encodedFields = fields.map { tag, value in [0xDF, tag] + BERTLV.encodeLength(value.count) + value }
        let offsetsLength = 3 + 8  // DF21 08 + four offsets
        let bodyLength = offsetsLength + encodedFields.reduce(0) { $0 + $1.count }
        let header = [0xFF, 0x20] + BERTLV.encodeLength(bodyLength)
        var offsets: [UInt8] = []
        var position = header.count + offsetsLength
        for field in encodedFields {
            offsets += [UInt8(position >> 8), UInt8(position & 0xFF)]
            position += field.count
        }
        return header + [0xDF, 0x21, 0x08] + offsets + encodedFields.flatMap { $0 }
    }
}
