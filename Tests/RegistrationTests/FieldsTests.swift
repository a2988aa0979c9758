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

    @Test("identifiers carry their kind's prefix and are random")
    func identifiers() {
        let a = UserID.random()
        let b = UserID.random()
        #expect(a.rawValue.hasPrefix("U-") && a.rawValue.count == 12)
        #expect(a != b)
        #expect(BusinessID.random().rawValue.hasPrefix("B-"))
    }
}
