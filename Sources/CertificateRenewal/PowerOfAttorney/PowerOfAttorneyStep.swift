public import Registration

/// Where the flow for an expired power of attorney stands (マイナンバーカード電子委任状更新 / 利用者情報削除).
public enum PowerOfAttorneyStep: Sendable, Hashable, CustomStringConvertible {
    /// Nothing read yet: call ``PowerOfAttorneyFlow/open()``.
    case start
    /// マイナンバーカード電子委任状失効画面: ``PowerOfAttorneyFlow/chooseRenewal()`` (電子委任状更新) or
    /// ``PowerOfAttorneyFlow/chooseDeletion()`` (代理人情報削除).
    case expired(PowerOfAttorneyExpiredNotice)
    /// Read the My Number card with the signing PIN: ``PowerOfAttorneyFlow/readCardForRenewal(signingPIN:allowLastTry:)``.
    case readCardForRenewal
    /// マイナンバーカード電子委任状取得依頼: ``PowerOfAttorneyFlow/request(applicationNumber:)`` (取得依頼).
    case requestPowerOfAttorney
    /// マイナンバーカード電子委任状確認: ``PowerOfAttorneyFlow/renew()`` (電子委任状更新) or ``PowerOfAttorneyFlow/back()``.
    case confirmRenewal(PowerOfAttorneyConfirmation)
    /// マイナンバーカード電子委任状更新完了.
    case renewed(PowerOfAttorneyCompletion)
    /// Read the My Number card with the user-authentication PIN:
    /// ``PowerOfAttorneyFlow/readCardForDeletion(authenticationPIN:allowLastTry:)``.
    case readCardForDeletion
    /// 利用者情報削除確認(代理人・マイナンバーカード): ``PowerOfAttorneyFlow/delete(acknowledgingIrreversible:)``
    /// (削除) or ``PowerOfAttorneyFlow/back()``.
    case confirmDeletion(AgentDeletionConfirmation)
    /// 利用者情報削除完了(代理人・マイナンバーカード).
    case deleted(PowerOfAttorneyCompletion)

    /// The names of the steps, as errors and logs name them.
    public enum Name: String, LifecycleStepName {
        /// The name of `PowerOfAttorneyStep.start`.
        case start
        /// The name of `PowerOfAttorneyStep.expired`.
        case expired
        /// The name of `PowerOfAttorneyStep.readCardForRenewal`.
        case readCardForRenewal
        /// The name of `PowerOfAttorneyStep.requestPowerOfAttorney`.
        case requestPowerOfAttorney
        /// The name of `PowerOfAttorneyStep.confirmRenewal`.
        case confirmRenewal
        /// The name of `PowerOfAttorneyStep.renewed`.
        case renewed
        /// The name of `PowerOfAttorneyStep.readCardForDeletion`.
        case readCardForDeletion
        /// The name of `PowerOfAttorneyStep.confirmDeletion`.
        case confirmDeletion
        /// The name of `PowerOfAttorneyStep.deleted`.
        case deleted
    }

    /// The step's name, as errors name it.
    public var name: Name {
        switch self {
        case .start: .start
        case .expired: .expired
        case .readCardForRenewal: .readCardForRenewal
        case .requestPowerOfAttorney: .requestPowerOfAttorney
        case .confirmRenewal: .confirmRenewal
        case .renewed: .renewed
        case .readCardForDeletion: .readCardForDeletion
        case .confirmDeletion: .confirmDeletion
        case .deleted: .deleted
        }
    }

    /// What the screen tells the person, in the manual's words.
    public var prompt: String {
        switch self {
        case .start: "マイナンバーカード電子委任状の状態を確認します。"
        case .expired: PowerOfAttorneyExpiredNotice.message
        case .readCardForRenewal: "マイナンバーカードを読込みます。署名用電子証明書のPIN(半角6~16文字)を入力してください。"
        case .requestPowerOfAttorney: "電子委任状取扱事業者へマイナンバーカード電子委任状情報の再取得を依頼するための必要情報を入力し、[取得依頼]ボタンをクリックしてください。"
        case .confirmRenewal: "画面に表示された内容を確認し、[電子委任状更新]ボタンをクリックしてください。"
        case .renewed: PowerOfAttorneyCompletion.renewedMessage
        case .readCardForDeletion: "マイナンバーカードを読込みます。利用者認証用のPIN(半角数字4文字)を入力してください。"
        case .confirmDeletion: "削除した利用者情報を元に戻すことはできませんので、内容を確認して[削除]ボタンをクリックしてください。"
        case .deleted: PowerOfAttorneyCompletion.deletedMessage
        }
    }

    /// The step's name.
    public var description: String { name.rawValue }
}

/// マイナンバーカード電子委任状失効画面: the agent and the expired power of attorney, with the two choices.
public struct PowerOfAttorneyExpiredNotice: Sendable, Hashable {
    /// The screen's message.
    public static let message =
        "調達ポータルに登録済みのマイナンバーカード電子委任状が失効しています。電子委任状を更新するか、利用者情報を削除してください。"
    /// The agent.
    public var agentID: UserID
    /// The agent's name (氏名).
    public var agentName: String
    /// The expired power of attorney.
    public var powerOfAttorney: PowerOfAttorney
    /// The two buttons: 電子委任状更新 and 代理人情報削除.
    public var choices: [String] { ["電子委任状更新", "代理人情報削除"] }
}

/// マイナンバーカード電子委任状確認: the power of attorney obtained, before it is stored.
public struct PowerOfAttorneyConfirmation: Sendable, Hashable {
    /// The screen's title.
    public static let title = "マイナンバーカード電子委任状確認"
    /// 委任者情報.
    public var principal: [ScreenRow]
    /// 受任者情報.
    public var agent: [ScreenRow]
    /// 代理権情報: the authority, the validity period and the provider.
    public var authority: [ScreenRow]
    /// The power of attorney that will be stored.
    public var powerOfAttorney: PowerOfAttorney
    /// The registration desk's confirmation (before and after).
    public var review: ChangeReview

    init(powerOfAttorney: PowerOfAttorney, business: BusinessInformation, agent: User, review: ChangeReview) {
        self.powerOfAttorney = powerOfAttorney
        self.review = review
        principal = [
            ScreenRow(label: "委任者", value: powerOfAttorney.principal),
            ScreenRow(label: "商号又は名称", value: business.name),
            ScreenRow(label: "法人番号", value: business.corporateNumber?.digits ?? ""),
        ]
        self.agent = [
            ScreenRow(label: "受任者", value: powerOfAttorney.agent),
            ScreenRow(label: "利用者氏名", value: agent.information.name),
        ]
        authority =
            powerOfAttorney.authority.map { ScreenRow(label: "代理権", value: $0) } + [
                ScreenRow(
                    label: "有効期間",
                    value: powerOfAttorney.labeledFields.first { $0.label == "有効期間" }?.value ?? ""),
                ScreenRow(label: "電子委任状取扱事業者", value: powerOfAttorney.provider),
            ]
    }

    /// The three blocks' headings and rows in screen order.
    public var sections: [(heading: String, rows: [ScreenRow])] {
        [("委任者情報", principal), ("受任者情報", agent), ("代理権情報", authority)]
    }
}

/// 利用者情報削除確認(代理人・マイナンバーカード): what the deletion removes.
public struct AgentDeletionConfirmation: Sendable, Hashable {
    /// The screen's title.
    public static let title = "利用者情報削除確認(代理人・マイナンバーカード)"
    /// 利用者基本情報(利用者情報).
    public var user: [ScreenRow]
    /// 電子証明書情報.
    public var certificates: [ScreenRow]
    /// 電子委任状情報.
    public var powerOfAttorney: [ScreenRow]
    /// The irreversible notice and what does not carry over.
    public var notes: [String]
    /// The registration desk's confirmation.
    public var review: ChangeReview

    init(user: User, bindings: [CertificateBinding], attorney: PowerOfAttorney?, review: ChangeReview) {
        self.user = user.information.labeledFields.map { ScreenRow(label: $0.label, value: $0.value) }
        certificates = bindings.flatMap { binding in
            [
                ScreenRow(label: "証明書の種類", value: binding.kind.japaneseLabel),
                ScreenRow(label: "証明書シリアル番号", value: binding.serialNumber),
                ScreenRow(label: "証明書発行者", value: binding.issuer),
            ]
        }
        powerOfAttorney = (attorney?.labeledFields ?? []).map { ScreenRow(label: $0.label, value: $0.value) }
        notes = [
            "削除した利用者情報を元に戻すことはできません。",
            "削除した利用者は新規登録を行うことで再度登録できますが、以前のレコメンド、お知らせなどの通知は引き継がれません。",
            "削除した利用者情報は政府電子調達システム(GEPS)に連携されます。",
        ]
        self.review = review
    }

    /// The three blocks' headings and rows in screen order.
    public var sections: [(heading: String, rows: [ScreenRow])] {
        [("利用者基本情報(利用者情報)", user), ("電子証明書情報", certificates), ("電子委任状情報", powerOfAttorney)]
    }
}

/// What a renewal or a deletion committed.
public struct PowerOfAttorneyCompletion: Sendable, Hashable {
    /// マイナンバーカード電子委任状更新完了.
    public static let renewedMessage = "マイナンバーカード電子委任状の更新が完了しました。"
    /// 利用者情報削除完了.
    public static let deletedMessage = "利用者情報の削除が完了しました。"
    /// The change's identifier, also the key of its GEPS hand-over and mail.
    public var changeID: ChangeID
    /// The registration after the change.
    public var registration: BusinessRegistration
    /// The hand-over to GEPS (and mail) written with the change.
    public var outbox: [OutboxMessage]
}
