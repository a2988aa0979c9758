import Testing

@testable import Registration

@Suite("The rights matrix (seed 002)")
struct RightsTests {
    /// The matrix as the manual states it: (role, change, own record) → permitted.
    static let expected: [(Role, ChangeKind, Bool, Bool)] = [
        (.representative, .businessBasicInformation, true, true),
        (.representative, .businessBasicInformation, false, true),
        (.representative, .userBasicInformation, true, true),
        (.representative, .userBasicInformation, false, true),
        (.representative, .qualifications, true, true),
        (.representative, .qualifications, false, true),
        (.representative, .certificates, true, true),
        (.representative, .certificates, false, true),
        (.agent, .businessBasicInformation, true, false),
        (.agent, .businessBasicInformation, false, false),
        (.agent, .userBasicInformation, true, true),
        (.agent, .userBasicInformation, false, false),
        (.agent, .qualifications, true, false),
        (.agent, .qualifications, false, false),
        (.agent, .certificates, true, true),
        (.agent, .certificates, false, false),
    ]

    @Test("every role, every kind of change, own record or not")
    func everyCell() {
        #expect(Self.expected.count == Role.allCases.count * ChangeKind.allCases.count * 2)
        for (role, change, own, permitted) in Self.expected {
            #expect(Rights.permits(role, may: change, onOwnRecord: own) == permitted, "\(role) \(change) own: \(own)")
        }
    }

    @Test("refusals say why, with the manual's terms")
    func refusals() {
        let business = #expect(throws: RegistrationError.self) {
            try Rights.check(.agent, may: .businessBasicInformation, onOwnRecord: true)
        }
        #expect(business == .notPermitted(role: .agent, change: .businessBasicInformation))
        #expect(business.map { "\($0)".contains("事業者基本情報") && "\($0)".contains("代表者") } == true)
        #expect(business.map { "\($0)".hasPrefix("An agent (代理人) may not change") } == true)
        let other = #expect(throws: RegistrationError.self) {
            try Rights.check(.agent, may: .certificates, onOwnRecord: false)
        }
        #expect(other == .notOwnRecord(change: .certificates))
        #expect(other.map { "\($0)".contains("own record") } == true)
    }

    @Test("the manual's Japanese labels")
    func labels() {
        #expect(Role.representative.japaneseName == "代表者")
        #expect(Role.agent.japaneseName == "代理人")
        #expect(ChangeKind.allCases.map(\.japaneseLabel) == ["事業者基本情報", "利用者基本情報", "資格情報", "電子証明書情報"])
    }
}
