/// The role of a user of a business (調達ポータル, seed 002).
public enum Role: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// 代表者: the business's representative.
    case representative
    /// 代理人等: an agent, and others who act for the business.
    case agent

    /// The manual's Japanese name.
    public var japaneseName: String {
        switch self {
        case .representative: "代表者"
        case .agent: "代理人"
        }
    }

    public var description: String {
        switch self {
        case .representative: "representative (代表者)"
        case .agent: "agent (代理人)"
        }
    }
}

/// A kind of change to a registration, as the update screen groups them.
public enum ChangeKind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// 事業者基本情報: 商号又は名称, 所在地, 代表者, 法人番号 …
    case businessBasicInformation
    /// 利用者基本情報: 役職名, 住所, 郵便番号, 電話番号, FAX番号, メールアドレス.
    case userBasicInformation
    /// 資格情報: qualifications, added from a selection or deleted.
    case qualifications
    /// 電子証明書情報: certificates, added (after choosing the type) or deleted.
    case certificates

    /// The manual's Japanese label.
    public var japaneseLabel: String {
        switch self {
        case .businessBasicInformation: "事業者基本情報"
        case .userBasicInformation: "利用者基本情報"
        case .qualifications: "資格情報"
        case .certificates: "電子証明書情報"
        }
    }

    public var description: String {
        switch self {
        case .businessBasicInformation: "the business basic information (事業者基本情報)"
        case .userBasicInformation: "the user information (利用者基本情報)"
        case .qualifications: "the qualifications (資格情報)"
        case .certificates: "the certificates (電子証明書情報)"
        }
    }
}

/// The rights matrix of the 調達ポータル manual (seed 002), in one place:
///
/// | change | 代表者 | 代理人等 |
/// |---|---|---|
/// | 事業者基本情報 | yes | no |
/// | 利用者基本情報 | yes | own record only |
/// | 資格情報 | yes | no |
/// | 電子証明書情報 | yes | own certificates only |
public enum Rights {
    /// Checks that a user of `role` may make `change` on a record.
    ///
    /// - Parameters:
    ///   - role: The role of the user making the change.
    ///   - change: What is changed.
    ///   - onOwnRecord: Whether the record (user information or certificates) is the acting user's own; business
    ///     information and qualifications belong to the business, not to a user.
    /// - Throws: ``RegistrationError/notPermitted(role:change:)`` or ``RegistrationError/notOwnRecord(change:)``.
    public static func check(_ role: Role, may change: ChangeKind, onOwnRecord: Bool) throws(RegistrationError) {
        switch (role, change) {
        case (.representative, _):
            return
        case (.agent, .businessBasicInformation), (.agent, .qualifications):
            throw .notPermitted(role: role, change: change)
        case (.agent, .userBasicInformation), (.agent, .certificates):
            guard onOwnRecord else { throw .notOwnRecord(change: change) }
        }
    }

    /// Whether a user of `role` may make `change`, without saying why not (the labels are ``check(_:may:onOwnRecord:)``'s).
    public static func permits(_ role: Role, may change: ChangeKind, onOwnRecord: Bool) -> Bool {
        (try? check(role, may: change, onOwnRecord: onOwnRecord)) != nil
    }

    /// Whether a user of `role` may make `change`: the earlier spelling of ``permits(_:may:onOwnRecord:)``.
    @available(*, deprecated, renamed: "permits(_:may:onOwnRecord:)")
    public static func permits(_ role: Role, _ change: ChangeKind, onOwnRecord: Bool) -> Bool {
        permits(role, may: change, onOwnRecord: onOwnRecord)
    }
}
