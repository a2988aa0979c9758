import Foundation
import Testing

@testable import Registration

@Suite("Input fields: each validated, with the manual's label in the error")
struct FieldsTests {
    @Test("郵便番号: seven half-width digits, kept as NNN-NNNN")
    func postalCode() throws {
        #expect(try PostalCode("1000013").text == "100-0013")
        #expect(try PostalCode(" 100-0013 ").text == "100-0013")
        for bad in ["100-001", "10000134", "１００-００１３", "100 0013", "1000-013", ""] {
            #expect(throws: RegistrationError.self, "\(bad)") { try PostalCode(bad) }
        }
        let error = #expect(throws: RegistrationError.self) { try PostalCode("１００００１３") }
        #expect(error?.description.contains("全角") == true)
        #expect(error?.description.contains("郵便番号") == true)
    }

    @Test("電話番号 and FAX番号: 10 or 11 digits from 0, half-width, hyphens between digits")
    func phone() throws {
        #expect(try PhoneNumber("03-1234-5678").digits == "0312345678")
        #expect(try PhoneNumber("090-1234-5678").digits == "09012345678")
        #expect(try PhoneNumber("0120123456").text == "0120123456")
        for bad in ["3-1234-5678", "03-1234-567", "03--1234-5678", "-0312345678", "03(1234)5678", "0312345678901"] {
            #expect(throws: RegistrationError.self, "\(bad)") { try PhoneNumber(bad) }
        }
        let fax = #expect(throws: RegistrationError.self) { try PhoneNumber("abc", field: "FAX番号") }
        #expect(fax?.description.hasPrefix("FAX番号") == true)
    }

    @Test("メールアドレス: ASCII local@domain with RFC 5321 limits; the domain kept in lower case")
    func mail() throws {
        #expect(try MailAddress("Taro.Nyusatsu@Example.CO.JP").text == "Taro.Nyusatsu@example.co.jp")
        #expect(try MailAddress("a+tag@mail.example.jp").localPart == "a+tag")
        for bad in [
            "taro", "taro@", "@example.jp", "taro@@example.jp", "taro..n@example.jp", ".taro@example.jp",
            "taro@example", "taro@-example.jp", "太郎@example.jp", "taro @example.jp", "taro@exa_mple.jp",
            String(repeating: "a", count: 65) + "@example.jp",
        ] {
            #expect(throws: RegistrationError.self, "\(bad)") { try MailAddress(bad) }
        }
    }

    @Test("free text: required, no control characters, a maximum length; full-width spaces trimmed")
    func text() throws {
        let user = try UserInformation(
            title: "\u{3000}営業部長\u{3000}", name: "代理 花子", postalCode: "1000013", address: "東京都千代田区",
            phone: "03-1234-5678", mail: "hanako@example.co.jp")
        #expect(user.title == "営業部長")
        #expect(user.fax == nil)
        #expect(throws: RegistrationError.invalidField(field: "氏名", reason: "it is required (必須)")) {
            try UserInformation(
                title: "部長", name: " ", postalCode: "1000013", address: "東京都", phone: "03-1234-5678",
                mail: "a@example.jp")
        }
        #expect(throws: RegistrationError.self) {
            try UserInformation(
                title: "部長", name: "入札\n太郎", postalCode: "1000013", address: "東京都", phone: "03-1234-5678",
                mail: "a@example.jp")
        }
        #expect(throws: RegistrationError.self) {
            try BusinessInformation(
                name: String(repeating: "株", count: 101), postalCode: "1000013", address: "東京都",
                representativeTitle: "代表取締役", representativeName: "入札 太郎", corporateNumber: nil,
                phone: "03-1234-5678")
        }
        #expect(throws: RegistrationError.corporateNumberCheckDigit) {
            try BusinessInformation(
                name: "株式会社テスト", postalCode: "1000013", address: "東京都", representativeTitle: "代表取締役",
                representativeName: "入札 太郎", corporateNumber: "5011001098993", phone: "03-1234-5678")
        }
    }

    @Test(
        "a digit with a combining mark is not a digit: 郵便番号, 電話番号 and FAX番号 refuse it",
        arguments: ["100-001\u{0301}3", "1\u{20DD}000013", "100-0013\u{0308}"])
    func combiningDigits(input: String) {
        #expect(throws: RegistrationError.self) { try PostalCode(input) }
        let phone = input.replacingOccurrences(of: "100-00", with: "03-1234-5")
        #expect(throws: RegistrationError.self, "\(phone.unicodeScalars.map(\.value))") { try PhoneNumber(phone) }
        #expect(throws: RegistrationError.self) { try PhoneNumber("03-1234-567\u{0301}8", field: "FAX番号") }
    }

    @Test(
        "free text refuses what a person cannot see, or sees otherwise than it reads",
        arguments: [
            ("入札\u{202E}郎太", "U+202E"),  // right-to-left override: the name shows reversed
            ("入札\u{200B}太郎", "U+200B"),  // zero-width space
            ("\u{FEFF}入札 太郎", "U+FEFF"),  // byte-order mark
            ("入札\u{2028}太郎", "U+2028"),  // line separator
            ("入札\u{2029}太郎", "U+2029"),  // paragraph separator
            ("入札\u{00A0}太郎", "U+00A0"),  // no-break space
            ("\u{0301}\u{0308}\u{0323}", "U+0301"),  // combining marks alone
            ("入札 \u{0301}太郎", "U+0301"),  // a combining mark on a space
            ("入札\u{E000}太郎", "U+E000"),  // private use (外字)
            ("入札\u{FFFD}太郎", "U+FFFD"),  // what invalid UTF-8 became
        ])
    func invisibleCharacters(input: String, code: String) {
        let error = #expect(throws: RegistrationError.self) {
            try UserInformation(
                title: "部長", name: input, postalCode: "1000013", address: "東京都", phone: "03-1234-5678",
                mail: "a@example.jp")
        }
        #expect(error?.description.hasPrefix("氏名") == true, "\(String(describing: error))")
        #expect(error?.description.contains(code) == true, "\(String(describing: error))")
        #expect(throws: RegistrationError.self) {
            try BusinessInformation(
                name: input, postalCode: "1000013", address: "東京都", representativeTitle: "代表取締役",
                representativeName: "入札 太郎", corporateNumber: nil, phone: "03-1234-5678")
        }
    }

    @Test("free text keeps full-width letters, half-width katakana, the full-width space and kana in NFC")
    func acceptedText() throws {
        let business = try BusinessInformation(
            name: "ＡＢＣ商事ｶﾌﾞｼｷｶﾞｲｼｬ", postalCode: "1000013", address: "東京都千代田区　霞が関１－１－１",
            representativeTitle: "代表取締役", representativeName: "葛\u{E0100}飾 太郎", corporateNumber: nil,
            phone: "03-1234-5678")
        #expect(business.name == "ＡＢＣ商事ｶﾌﾞｼｷｶﾞｲｼｬ")
        // An ideographic variation selector after its kanji stays (異体字).
        #expect(business.representativeName.unicodeScalars.contains("\u{E0100}"))
        // か + combining voiced mark (NFD, as some systems type it) is kept as が.
        let user = try UserInformation(
            title: "部長", name: "入札 はなか\u{3099}", postalCode: "1000013", address: "東京都", phone: "03-1234-5678",
            mail: "a@example.jp")
        #expect(user.name == "入札 はなが")
    }

    @Test("identifiers carry their kind's prefix and are random")
    func identifiers() {
        let a = UserID.random()
        let b = UserID.random()
        #expect(a.rawValue.hasPrefix("U-") && a.rawValue.count == 12)
        #expect(a != b)
        #expect(BusinessID.random().rawValue.hasPrefix("B-"))
    }

    @Test("the NFC quick check passes only text that normalizing leaves as it is")
    func plainlyNFC() throws {
        let samples = [
            "ABC商事", "株式会社　調達", "ｶﾌﾞｼｷｶﾞｲｼｬ", "ＡＢＣ", "がぎぐ", "ゞヾ", "Café", "東京都千代田区霞が関1-1-1",
            "か\u{3099}", "e\u{301}", "\u{F900}", "\u{212B}", "\u{AC00}", "\u{302A}x",
        ]
        for text in samples where Field.isPlainlyNFC(text) {
            let normalized = text.precomposedStringWithCanonicalMapping
            #expect(Array(normalized.unicodeScalars) == Array(text.unicodeScalars), "\(text)")
        }
        #expect(Field.isPlainlyNFC("株式会社ｶﾌﾞｼｷ ABC"))
        for decomposed in ["か\u{3099}", "e\u{301}", "\u{F900}", "\u{212B}"] {
            #expect(!Field.isPlainlyNFC(decomposed))
            let checked = try Field.text(decomposed, field: "氏名", maximum: 50)
            let expected = decomposed.precomposedStringWithCanonicalMapping
            #expect(Array(checked.unicodeScalars) == Array(expected.unicodeScalars))
        }
    }

    @Test("the scalars that the printable check passes without their properties are ones its rules pass")
    func plainlyPrintable() throws {
        var passed = 0
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value), Field.isPlainlyPrintable(scalar) else { continue }
            passed += 1
            let category = scalar.properties.generalCategory
            let refused: Set<Unicode.GeneralCategory> = [
                .control, .lineSeparator, .paragraphSeparator, .format, .privateUse, .unassigned, .surrogate,
                .nonspacingMark, .spacingMark, .enclosingMark,
            ]
            #expect(!refused.contains(category), "U+\(String(value, radix: 16)) \(category)")
            #expect(category != .spaceSeparator || scalar == " " || scalar == "\u{3000}")
            #expect(scalar != "\u{FFFD}")
            // A scalar of the set after a space is fine too (the set holds no combining mark).
            try Field.requirePrintable(" \(scalar)", field: "氏名")
        }
        #expect(passed > 20_000)
    }

    /// The mail check and the telephone check as they were written on Characters and Strings, before they read
    /// bytes: the same inputs must give the same text or the same reason.
    private static func referenceMail(_ input: String) -> Result<String, RegistrationError> {
        let field = "メールアドレス"
        let trimmed = input.trimmingSpaces
        guard trimmed.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            return .failure(.invalidField(field: field, reason: "use half-width characters only, with no spaces"))
        }
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .failure(.invalidField(field: field, reason: "it needs exactly one @")) }
        let local = parts[0]
        let domain = parts[1].lowercased()
        guard (1...64).contains(local.count) else {
            return .failure(.invalidField(field: field, reason: "the part before @ must have 1 to 64 characters"))
        }
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~")
        guard
            local.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ word in
                !word.isEmpty && word.allSatisfy { atext.contains($0) }
            })
        else {
            return .failure(
                .invalidField(
                    field: field,
                    reason: "the part before @ has a character mail servers refuse, or dots next to "
                        + "each other or at an end"))
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, domain.count <= 253,
            labels.allSatisfy({ label in
                (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCIIDigit || ("a"..."z").contains($0) || $0 == "-" }
            })
        else {
            return .failure(
                .invalidField(field: field, reason: "the domain after @ is not a valid host name, as example.co.jp"))
        }
        guard trimmed.count <= 254 else {
            return .failure(.invalidField(field: field, reason: "it is longer than 254 characters"))
        }
        return .success("\(local)@\(domain)")
    }

    private static func referencePhone(_ input: String) -> Result<String, RegistrationError> {
        let field = "電話番号"
        let trimmed = input.trimmingSpaces
        do { try Field.rejectFullWidthDigits(trimmed, field: field) } catch { return .failure(error) }
        guard trimmed.unicodeScalars.allSatisfy({ $0.isASCIIDigit || $0 == "-" }) else {
            return .failure(.invalidField(field: field, reason: "use half-width digits and hyphens only"))
        }
        guard !trimmed.hasPrefix("-"), !trimmed.hasSuffix("-"), !trimmed.contains("--") else {
            return .failure(.invalidField(field: field, reason: "a hyphen may only stand between digits"))
        }
        let digits = trimmed.unicodeScalars.filter(\.isASCIIDigit)
        guard digits.first == "0" else {
            return .failure(
                .invalidField(field: field, reason: "a Japanese number starts with 0 (市外局番 or 0120, 090 …)"))
        }
        guard (10...11).contains(digits.count) else {
            return .failure(
                .invalidField(field: field, reason: "it has \(digits.count) digits; a number has 10 or 11"))
        }
        return .success(trimmed)
    }

    @Test("the mail and telephone checks on bytes decide as the checks on Characters did, reason for reason")
    func byteChecksMatchTheCharacterChecks() {
        var generator = SystemRandomNumberGenerator()
        let mailAlphabet = Array("aZ09.-@_+!~ \u{3000}é\u{301}Ａ")
        let phoneAlphabet = Array("0123-９ a\u{301}")
        let fixed = [
            "", "@", "a@b", "a@b.c", "Taro.Nyusatsu@Example.CO.JP", ".a@b.jp", "a.@b.jp", "a..b@c.jp", "a@-b.jp",
            "a@b-.jp", "a@b..jp", String(repeating: "a", count: 64) + "@b.jp",
            String(repeating: "a", count: 65) + "@b.jp",
            "a@" + Array(repeating: String(repeating: "b", count: 63), count: 4).joined(separator: "."),
            " a@b.jp\u{3000}", "a@@b.jp", "03-1234-5678", "-03-1234-5678", "03--1234-5678", "03-1234-5678-",
            "0312345678", "031234567", "031234567890", "3-1234-5678", "", "-", "０３-1234-5678", " 03-1234-5678\t",
        ]
        func random(_ alphabet: [Character]) -> String {
            String(
                (0..<Int.random(in: 0...16, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
        }
        let mails = fixed + (0..<20_000).map { _ in random(mailAlphabet) }
        for input in mails {
            let new = Result { () throws(RegistrationError) in try MailAddress(input).text }
            #expect("\(new)" == "\(Self.referenceMail(input))", "\(input.unicodeScalars.map(\.value))")
        }
        let phones = fixed + (0..<20_000).map { _ in random(phoneAlphabet) }
        for input in phones {
            let new = Result { () throws(RegistrationError) in try PhoneNumber(input).text }
            #expect("\(new)" == "\(Self.referencePhone(input))", "\(input.unicodeScalars.map(\.value))")
        }
    }
}
