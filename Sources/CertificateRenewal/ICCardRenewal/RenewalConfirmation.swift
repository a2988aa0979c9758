public import CardCredentials
public import Registration

/// The wording of the confirmation screen: the two manuals label the same rows differently.
public enum RenewalWording: Sendable, Hashable, CaseIterable {
    /// Seed 000 (熊本市): 業者名称, 所在地, ICカード業者名称, ICカード取得者氏名, ICカード取得者所在地, ….
    case businessName
    /// Seed 001 (札幌市): 商号又は名称, 所在地, ICカード商号又は名称, ICカード取得者氏名, ICカード取得者業者所在地, ….
    case tradeName

    /// The eight labels, in the screen's order.
    public var labels: [String] {
        switch self {
        case .businessName:
            ["業者名称", "所在地", "ICカード業者名称", "ICカード取得者氏名", "ICカード取得者所在地", "証明書シリアル番号", "証明書発行者", "証明書有効期限"]
        case .tradeName:
            ["商号又は名称", "所在地", "ICカード商号又は名称", "ICカード取得者氏名", "ICカード取得者業者所在地", "証明書シリアル番号", "証明書発行者", "証明書有効期限"]
        }
    }
}

/// One card's block of the confirmation screen: the registered business, then what the card's certificate says.
public struct RenewalCardDetails: Sendable, Hashable {
    /// Which card: its heading is ``RenewalCardRole/japaneseLabel``.
    public var role: RenewalCardRole
    /// 業者名称 / 商号又は名称: the registered business name.
    public var businessName: String
    /// 所在地: the registered business address.
    public var businessAddress: String
    /// What the card's certificate says (ICカード業者名称, 取得者氏名, 取得者所在地, serial, issuer, expiry).
    public var certificate: CertificateSummary
    /// The SHA-256 fingerprint of the card's certificate (what identifies it in the registration).
    public var fingerprint: String
    /// The eight rows in the manuals' order, labelled with the wording chosen.
    public var rows: [ScreenRow]

    init(
        role: RenewalCardRole, business: BusinessInformation, certificate: CertificateSummary, fingerprint: String,
        wording: RenewalWording
    ) {
        self.role = role
        businessName = business.name
        businessAddress = business.address
        self.certificate = certificate
        self.fingerprint = fingerprint
        let values = [
            business.name, business.address, certificate.value(of: .companyName), certificate.value(of: .holderName),
            certificate.value(of: .holderAddress), certificate.value(of: .serialNumber),
            certificate.value(of: .issuer), certificate.value(of: .expiry),
        ]
        rows = zip(wording.labels, values).map { ScreenRow(label: $0, value: $1) }
    }

    /// The heading of the block: `現在使用しているICカード` or `新規に使用するICカード`.
    public var heading: String { role.japaneseLabel }

    /// The value of the row labelled `label`, if the block has one.
    public func value(of label: String) -> String? {
        rows.first { $0.label == label }?.value
    }
}

/// The confirmation screen of an IC card renewal (電子証明書更新確認): the current card and the new card, each
/// with the registered business and its certificate's fields, and the notes the manuals print under them.
public struct RenewalConfirmation: Sendable, Hashable {
    /// The screen's title.
    public static let title = "電子証明書更新確認"
    /// 現在使用しているICカード.
    public var current: RenewalCardDetails
    /// 新規に使用するICカード.
    public var new: RenewalCardDetails
    /// The notes under the two blocks (check the company name; press 更新 to update).
    public var notes: [String]

    init(current: RenewalCardDetails, new: RenewalCardDetails, wording: RenewalWording) {
        self.current = current
        self.new = new
        let name = wording == .businessName ? "業者名称" : "商号又は名称"
        let cardName = wording == .businessName ? "ICカード業者名称" : "ICカード商号又は名称"
        notes = [
            "新規に使用するICカードの\(name)と\(cardName)が厳正の\(name)であることを確認してください。",
            "この内容でよろしければ更新ボタンを押してください。",
            "ICカードの更新を行うと、旧カードではログインできなくなります。",
        ]
    }

    /// The two blocks in screen order.
    public var blocks: [RenewalCardDetails] { [current, new] }
}

/// The completion screen of an IC card renewal (電子証明書更新結果): what was committed.
public struct RenewalCompletion: Sendable, Hashable {
    /// The message of the completion screen.
    public static let message = "電子証明書の更新が完了いたしました。"
    /// The change's identifier (受付番号), also the key of its GEPS hand-over and mail.
    public var changeID: ChangeID
    /// The binding of the current card, now superseded (it can no longer log in).
    public var supersededBindingID: BindingID
    /// The binding of the new card, now active.
    public var newBindingID: BindingID
    /// The registration after the renewal.
    public var registration: BusinessRegistration
    /// The confirmation screen that was accepted.
    public var confirmation: RenewalConfirmation
    /// The hand-over to GEPS and the completion mail written with the change.
    public var outbox: [OutboxMessage]
}
