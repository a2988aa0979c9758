/// 資格情報: a qualification of the business, added from a selection (全省庁統一資格: the kind and the grade).
public struct Qualification: Sendable, Hashable, Codable, CustomStringConvertible {
    /// 資格の種類: the kinds of the unified qualification of all ministries (全省庁統一資格).
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// 物品の製造.
        case manufacturing
        /// 物品の販売.
        case sales
        /// 役務の提供等.
        case services
        /// 物品の買受け.
        case purchase

        /// The manual's Japanese label.
        public var japaneseLabel: String {
            switch self {
            case .manufacturing: "物品の製造"
            case .sales: "物品の販売"
            case .services: "役務の提供等"
            case .purchase: "物品の買受け"
            }
        }
    }

    /// 等級: the grade, A (highest) to D.
    public enum Grade: String, Sendable, Hashable, Codable, CaseIterable {
        case a = "A", b = "B", c = "C", d = "D"
    }

    /// The kind.
    public var kind: Kind
    /// The grade.
    public var grade: Grade

    /// A qualification from the selection.
    public init(kind: Kind, grade: Grade) {
        self.kind = kind
        self.grade = grade
    }

    /// Every qualification the selection offers.
    public static var selection: [Qualification] {
        Kind.allCases.flatMap { kind in Grade.allCases.map { Qualification(kind: kind, grade: $0) } }
    }

    /// As the screen shows it, e.g. `物品の販売 A`.
    public var description: String { "\(kind.japaneseLabel) \(grade.rawValue)" }
}
