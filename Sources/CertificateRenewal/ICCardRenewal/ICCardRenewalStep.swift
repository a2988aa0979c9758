/// Where an IC card renewal stands: what the front end shows and asks next.
public enum ICCardRenewalStep: Sendable, Hashable, CustomStringConvertible {
    /// 古いICカードの確認: insert the current card, then call ``ICCardRenewal/readCurrentCard()``.
    case insertCurrentCard
    /// PIN番号の入力 for the current card: call ``ICCardRenewal/verifyCurrentPIN(_:allowLastTry:)``.
    /// `triesLeft` is what the card says (nil when it does not say).
    case enterCurrentPIN(triesLeft: Int?)
    /// 新しいICカードの確認: take the current card out, insert the new one in the same reader, then call
    /// ``ICCardRenewal/swapCards()``.
    case swapCards
    /// PIN番号の入力 for the new card: call ``ICCardRenewal/verifyNewPIN(_:allowLastTry:)``.
    case enterNewPIN(triesLeft: Int?)
    /// 電子証明書更新確認: show the confirmation, then ``ICCardRenewal/update()`` (更新) or
    /// ``ICCardRenewal/back()`` (戻る).
    case confirm(RenewalConfirmation)
    /// 電子証明書更新結果: the renewal is committed.
    case completed(RenewalCompletion)

    /// The names of the steps, as errors and logs name them.
    public enum Name: String, LifecycleStepName {
        /// The name of `ICCardRenewalStep.insertCurrentCard`.
        case insertCurrentCard
        /// The name of `ICCardRenewalStep.enterCurrentPIN`.
        case enterCurrentPIN
        /// The name of `ICCardRenewalStep.swapCards`.
        case swapCards
        /// The name of `ICCardRenewalStep.enterNewPIN`.
        case enterNewPIN
        /// The name of `ICCardRenewalStep.confirm`.
        case confirm
        /// The name of `ICCardRenewalStep.completed`.
        case completed
    }

    /// The step's name, as errors name it.
    public var name: Name {
        switch self {
        case .insertCurrentCard: .insertCurrentCard
        case .enterCurrentPIN: .enterCurrentPIN
        case .swapCards: .swapCards
        case .enterNewPIN: .enterNewPIN
        case .confirm: .confirm
        case .completed: .completed
        }
    }

    /// What the screen tells the person, in the manuals' words.
    public var prompt: String {
        switch self {
        case .insertCurrentCard:
            "現在使用しているICカードをICカードリーダーに挿入し、OKボタンをクリックしてください。"
        case .enterCurrentPIN:
            "「PIN番号」に現在使用しているICカードの暗証番号を入力し、OKボタンをクリックしてください。"
        case .swapCards:
            "ICカードリーダーに挿入しているICカードを新しいICカードに差し替え、OKボタンをクリックしてください。"
        case .enterNewPIN:
            "「PIN番号」に新しいICカードの暗証番号を入力し、OKボタンをクリックしてください。"
        case .confirm:
            "この内容でよろしければ更新ボタンを押してください。"
        case .completed:
            RenewalCompletion.message
        }
    }

    /// The name, with the tries left where the step has them.
    public var description: String {
        switch self {
        case .enterCurrentPIN(let tries?), .enterNewPIN(let tries?): "\(name) (\(tries) tries left)"
        default: name.rawValue
        }
    }
}
