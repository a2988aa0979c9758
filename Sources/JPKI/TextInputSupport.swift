public import CardCredentials
import ISO7816

/// What the text-input-support application (券面事項入力補助 AP) holds: the individual number (個人番号) and the
/// four basic facts (基本4情報) printed on the card.
///
/// ```swift
/// let pin = try SecretPIN(typed, policy: .textInputSupport)
/// let info = try await card.textInputSupportInfo(pin: pin)
/// print(info.name, info.address)
/// ```
///
/// The individual number is sensitive: show it only where the person asked for it, and never log it.
public struct TextInputSupportInfo: Sendable, Hashable {
    /// Sex as the card codes it.
    public enum Sex: String, Sendable, Hashable, CustomStringConvertible {
        /// `1`.
        case male = "1"
        /// `2`.
        case female = "2"
        /// `9`: not applicable.
        case notApplicable = "9"

        /// The word in English with the Japanese term (男性, 女性, 適用不能).
        public var description: String {
            switch self {
            case .male: "male (男性)"
            case .female: "female (女性)"
            case .notApplicable: "not applicable (適用不能)"
            }
        }
    }

    /// The 12-digit individual number (個人番号), ASCII digits.
    public var individualNumber: String
    /// The name (氏名); family and given name separated by an ideographic space U+3000.
    public var name: String
    /// The address (住所).
    public var address: String
    /// The date of birth (生年月日), Gregorian, `YYYYMMDD`.
    public var dateOfBirth: String
    /// Sex (性別).
    public var sex: Sex

    /// Makes the record from its fields.
    public init(individualNumber: String, name: String, address: String, dateOfBirth: String, sex: Sex) {
        self.individualNumber = individualNumber
        self.name = name
        self.address = address
        self.dateOfBirth = dateOfBirth
        self.sex = sex
    }

    /// Reads the record from the bytes of the application's two EFs.
    ///
    /// - Parameters:
    ///   - individualNumberFile: EF `0001`: `FF 10 0C` and 12 ASCII digits (padding `FF` after it is ignored).
    ///   - basicFourFactsFile: EF `0002`: `FF 20 L { DF21 offsets | DF22 name | DF23 address | DF24 YYYYMMDD |
    ///     DF25 sex }`.
    /// - Throws: ``JPKIError/malformedTextInputSupportData(_:)`` naming what is wrong.
    public init(individualNumberFile: [UInt8], basicFourFactsFile: [UInt8]) throws(JPKIError) {
        self.individualNumber = try Self.individualNumber(from: individualNumberFile)
        let facts: TLV
        do {
            guard let found = try BERTLV.decode(basicFourFactsFile, lenient: true).first(0xFF20) else {
                throw JPKIError.malformedTextInputSupportData("EF 0002 has no FF20 template")
            }
            facts = found
        } catch let error as JPKIError {
            throw error
        } catch {
            throw .malformedTextInputSupportData("EF 0002 is not BER-TLV: \(error)")
        }
        func text(_ tag: TLV.Tag, _ field: String) throws(JPKIError) -> String {
            guard let value = facts.first(tag)?.value else {
                throw .malformedTextInputSupportData("EF 0002 has no \(field) (\(tag))")
            }
            guard let string = String(validating: value, as: UTF8.self) else {
                throw .malformedTextInputSupportData("the \(field) in EF 0002 is not UTF-8")
            }
            return string
        }
        self.name = try text(0xDF22, "name")
        self.address = try text(0xDF23, "address")
        let birth = try text(0xDF24, "date of birth")
        guard birth.utf8.count == 8, birth.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw .malformedTextInputSupportData("the date of birth in EF 0002 is not YYYYMMDD")
        }
        self.dateOfBirth = birth
        let code = try text(0xDF25, "sex")
        guard let sex = Sex(rawValue: code) else {
            throw .malformedTextInputSupportData("the sex code in EF 0002 is not 1, 2 or 9")
        }
        self.sex = sex
    }

    private static func individualNumber(from file: [UInt8]) throws(JPKIError) -> String {
        let objects: [TLV]
        do {
            objects = try BERTLV.decode(file, lenient: true)
        } catch {
            throw .malformedTextInputSupportData("EF 0001 is not BER-TLV: \(error)")
        }
        guard let digits = objects.first(0xFF10)?.value else {
            throw .malformedTextInputSupportData("EF 0001 has no FF10 object")
        }
        guard digits.count == 12, digits.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw .malformedTextInputSupportData("the individual number in EF 0001 is not 12 digits")
        }
        return String(decoding: digits, as: UTF8.self)
    }
}

extension MyNumberCard {
    /// Reads the text-input-support application after its PIN: SELECT AP, SELECT `0011`, tries-left query, VERIFY,
    /// then SELECT and READ BINARY of EFs `0001` and `0002` (eight APDUs).
    ///
    /// - Parameters:
    ///   - pin: The text-input-support PIN (4 digits).
    ///   - allowLastTry: Whether the PIN's last try may be spent.
    /// - Throws: the PIN errors of ``verifyPIN(_:for:allowLastTry:)``,
    ///   ``JPKIError/malformedTextInputSupportData(_:)``, or a link error.
    public func textInputSupportInfo(pin: SecretPIN, allowLastTry: Bool = false) async throws(JPKIError)
        -> TextInputSupportInfo
    {
        try await perform(pin: .textInputSupport) {
            try await self.verifyInSession(pin, for: .textInputSupport, allowLastTry: allowLastTry)
            let number = try await self.readFile(0x0001, operation: "the individual number EF (0001)")
            let facts = try await self.readFile(0x0002, operation: "the basic four facts EF (0002)")
            return try TextInputSupportInfo(individualNumberFile: number, basicFourFactsFile: facts)
        }
    }
}
