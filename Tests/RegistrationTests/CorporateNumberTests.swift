import Testing

@testable import Registration

@Suite("法人番号 (corporate number)")
struct CorporateNumberTests {
    @Test(
        "valid numbers from the 省令's rule are accepted",
        arguments: ["4011001098993", "7123456789012", "1180301018771", "2120901007402"])
    func valid(text: String) throws {
        let number = try CorporateNumber(text)
        #expect(number.digits == text)
        #expect(number.checkDigit == Int(text.prefix(1)))
    }

    @Test("a wrong check digit is refused")
    func wrongCheckDigit() {
        #expect(throws: RegistrationError.corporateNumberCheckDigit) { try CorporateNumber("5011001098993") }
        // Every other first digit of a valid number is wrong.
        for digit in 0...9 where digit != 4 {
            #expect(throws: RegistrationError.corporateNumberCheckDigit) {
                try CorporateNumber("\(digit)011001098993")
            }
        }
    }

    @Test("spaces and hyphens between digits are allowed")
    func separators() throws {
        #expect(try CorporateNumber("4-0110-0109-8993").digits == "4011001098993")
        #expect(try CorporateNumber("4 0110 0109 8993").digits == "4011001098993")
    }

    @Test(
        "wrong forms say what is wrong",
        arguments: ["401100109899", "40110010989930", "", "401100109899A", "４011001098993"])
    func wrongForm(text: String) {
        let error = #expect(throws: RegistrationError.self) { try CorporateNumber(text) }
        guard case .corporateNumberFormat = error else {
            Issue.record("expected a format error, got \(String(describing: error))")
            return
        }
        #expect(error.map { "\($0)".contains("法人番号") } == true)
    }

    @Test("the check digit of a base, as the rule computes it")
    func checkDigitOfBase() {
        #expect(CorporateNumber.checkDigit(base: [0, 1, 1, 0, 0, 1, 0, 9, 8, 9, 9, 3]) == 4)
        #expect(CorporateNumber.checkDigit(base: [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]) == 7)
    }
}
