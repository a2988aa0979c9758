public import CardCredentials
public import Registration

/// The certificate type chosen on 更新する電子証明書の種別選択 (seed 002).
public enum CertificateUpdateType: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// 民間電子証明書(ICカード・ファイルタイプ): a private CA's IC card or PKCS#12 file; the new certificate is read
    /// too.
    case privateCertificate
    /// マイナンバーカード: the My Number card's signing certificate; the new one is obtained from JPKI.
    case myNumberCard

    /// The label of the selection.
    public var japaneseLabel: String {
        switch self {
        case .privateCertificate: "民間電子証明書(ICカード・ファイルタイプ)"
        case .myNumberCard: "マイナンバーカード"
        }
    }

    /// The English name with the Japanese label.
    public var description: String {
        switch self {
        case .privateCertificate: "a private certificate (\(japaneseLabel))"
        case .myNumberCard: "the My Number card (\(japaneseLabel))"
        }
    }
}

/// Where a certificate update (電子証明書更新) stands: what the front end shows and asks next.
public enum CertificateUpdateStep: Sendable, Hashable, CustomStringConvertible {
    /// 更新する電子証明書の種別選択: call ``CertificateUpdate/choose(_:)``.
    case chooseType
    /// 読込 of the registered certificate of the chosen type: ``CertificateUpdate/readCurrentICCard(pin:allowLastTry:)``
    /// or ``CertificateUpdate/readCurrentFile(_:password:)`` for a private certificate,
    /// ``CertificateUpdate/readMyNumberCard(signingPIN:consent:allowLastTry:)`` for the My Number card.
    case readCurrent(CertificateUpdateType)
    /// 更新する電子証明書の読み込み (private certificates only): ``CertificateUpdate/readNewICCard(pin:allowLastTry:)``
    /// (the card swapped in the same reader) or ``CertificateUpdate/readNewFile(_:password:)``.
    case readNew
    /// 電子証明書の更新確認: show it, then ``CertificateUpdate/update()`` (更新実行) or ``CertificateUpdate/back()``.
    case confirm(CertificateUpdateConfirmation)
    /// 電子証明書更新完了: committed.
    case completed(CertificateUpdateCompletion)

    /// The names of the steps, as errors and logs name them.
    public enum Name: String, LifecycleStepName {
        /// The name of `CertificateUpdateStep.chooseType`.
        case chooseType
        /// The name of `CertificateUpdateStep.readCurrent`.
        case readCurrent
        /// The name of `CertificateUpdateStep.readNew`.
        case readNew
        /// The name of `CertificateUpdateStep.confirm`.
        case confirm
        /// The name of `CertificateUpdateStep.completed`.
        case completed
    }

    /// The step's name, as errors name it.
    public var name: Name {
        switch self {
        case .chooseType: .chooseType
        case .readCurrent: .readCurrent
        case .readNew: .readNew
        case .confirm: .confirm
        case .completed: .completed
        }
    }

    /// What the screen tells the person, in the manual's words.
    public var prompt: String {
        switch self {
        case .chooseType:
            "電子証明書種別を選択し、[読込]ボタンをクリックしてください。※必ず本システムに登録済みの電子証明書を選択してください。"
        case .readCurrent(.privateCertificate):
            "ICカードをご利用の方はICカードリーダにカードを差し、ファイルタイプをご利用の方は電子証明書を指定して、PINを入力してください。"
        case .readCurrent(.myNumberCard):
            "署名用電子証明書のPIN(半角6~16文字)を入力してください。旧マイナンバーカード情報を公的個人認証サービスより取得し、更新を行います。同意する場合は、本操作を実施ください。"
        case .readNew:
            "更新先の電子証明書をICカードリーダに差しこむか、ファイルを指定して、[読込]ボタンをクリックしてください。"
        case .confirm:
            "更新先電子証明書情報に誤りが無いか確認ください。"
        case .completed:
            CertificateUpdateCompletion.message
        }
    }

    /// The step's name.
    public var description: String { name.rawValue }
}

/// One certificate's block of the update confirmation: 更新元電子証明書情報 or 更新先電子証明書情報.
public struct CertificateUpdateDetails: Sendable, Hashable {
    /// 更新元電子証明書情報 or 更新先電子証明書情報.
    public var heading: String
    /// The credential that holds it.
    public var kind: CredentialKind
    /// What the certificate says.
    public var certificate: CertificateSummary
    /// The SHA-256 fingerprint of the certificate.
    public var fingerprint: String
    /// The rows in screen order: 電子証明書種別, 商号又は名称 (private certificates), 氏名, 証明書シリアル番号,
    /// 証明書発行者, 証明書有効期限.
    public var rows: [ScreenRow]

    init(heading: String, kind: CredentialKind, certificate: CertificateSummary, fingerprint: String) {
        self.heading = heading
        self.kind = kind
        self.certificate = certificate
        self.fingerprint = fingerprint
        var rows = [ScreenRow(label: "電子証明書種別", value: kind.japaneseLabel)]
        if kind != .myNumberCard {
            rows.append(ScreenRow(label: "商号又は名称", value: certificate.value(of: .companyName)))
        }
        rows += [
            ScreenRow(label: "氏名", value: Self.holderName(of: certificate) ?? ""),
            ScreenRow(label: "証明書シリアル番号", value: certificate.serialNumber),
            ScreenRow(label: "証明書発行者", value: certificate.issuer),
            ScreenRow(label: "証明書有効期限", value: certificate.expiryText),
        ]
        self.rows = rows
    }

    /// The holder's name: the JPKI name of a My Number certificate, else the subject's common name.
    static func holderName(of summary: CertificateSummary) -> String? {
        summary.jpkiPersonalAttributes?.name ?? summary.holderName
    }

    /// The value of the row labelled `label`, if the block has one.
    public func value(of label: String) -> String? {
        rows.first { $0.label == label }?.value
    }
}

/// The confirmation screen of a certificate update (電子証明書の更新確認): the old certificate, the new one, and
/// the business they belong to.
public struct CertificateUpdateConfirmation: Sendable, Hashable {
    /// The screen's title.
    public static let title = "電子証明書の更新確認"
    /// The registration the certificate belongs to.
    public var businessID: BusinessID
    /// The user whose certificate is updated.
    public var userID: UserID
    /// 更新元電子証明書情報.
    public var current: CertificateUpdateDetails
    /// 更新先電子証明書情報.
    public var new: CertificateUpdateDetails
    /// 事業者情報: 商号又は名称, 所在地, 代表者, and the user (利用者氏名, 役割).
    public var business: [ScreenRow]
    /// The notes under the blocks.
    public var notes: [String]

    init(
        registration: BusinessRegistration, user: User, current: CertificateUpdateDetails,
        new: CertificateUpdateDetails
    ) {
        businessID = registration.id
        userID = user.id
        self.current = current
        self.new = new
        let information = registration.business
        business = [
            ScreenRow(label: "商号又は名称", value: information.name),
            ScreenRow(label: "所在地", value: information.address),
            ScreenRow(label: "代表者", value: "\(information.representativeTitle) \(information.representativeName)"),
            ScreenRow(label: "利用者氏名", value: user.information.name),
            ScreenRow(label: "利用者区分", value: user.role.japaneseName),
        ]
        notes = [
            "更新先電子証明書情報に誤りが無いか確認ください。",
            "更新後は、更新元の電子証明書ではログインできなくなります。",
            "更新した電子証明書情報は政府電子調達システム(GEPS)に連携され、連携が完了した際に登録完了のメールが送信されます。",
        ]
    }

    /// The three blocks' headings and rows in screen order (更新元, 更新先, 事業者情報).
    public var sections: [(heading: String, rows: [ScreenRow])] {
        [(current.heading, current.rows), (new.heading, new.rows), ("事業者情報", business)]
    }
}

/// The completion of a certificate update (電子証明書更新完了): what was committed.
public struct CertificateUpdateCompletion: Sendable, Hashable {
    /// The message of the completion screen.
    public static let message = "電子証明書の更新が完了しました。"
    /// The change's identifier, also the key of its GEPS hand-over and mail.
    public var changeID: ChangeID
    /// The old binding, now superseded.
    public var supersededBindingID: BindingID
    /// The new binding, now active.
    public var newBindingID: BindingID
    /// The registration after the update.
    public var registration: BusinessRegistration
    /// The confirmation that was accepted.
    public var confirmation: CertificateUpdateConfirmation
    /// The hand-over to GEPS and the completion mail written with the change.
    public var outbox: [OutboxMessage]
}
