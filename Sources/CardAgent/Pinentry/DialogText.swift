import CardCredentials

/// The texts of the agent's dialogs. Each names the origin that asks and the operation; a PIN dialog also says
/// how many tries are left, in the `jpki` tool's words ("3 tries are left before it is blocked (閉塞)", "Only
/// one try is left for …: a wrong PIN then blocks it (閉塞)").
enum DialogText {
    static let title = "ProcurementIdentity card agent"

    /// What a purpose asks the card for, as a person reads it.
    static func operation(_ purpose: EvidencePurpose) -> String {
        switch (purpose.flow, purpose.step) {
        case ("login", _): "sign you in with your card (ログイン)"
        case ("ic-card-renewal", "current-card"): "confirm your current IC card for its renewal (ICカード更新)"
        case ("ic-card-renewal", "new-card"): "register your new IC card (ICカード更新)"
        case ("certificate-update", "current-certificate"):
            "read your registered certificate for its update (電子証明書更新)"
        case ("certificate-update", "new-certificate"): "register your new certificate (電子証明書更新)"
        case ("power-of-attorney", "renewal-card"): "renew your power of attorney (マイナンバーカード電子委任状更新)"
        case ("power-of-attorney", "deletion-card"): "delete your user information as an agent (利用者情報削除)"
        case ("revocation-request", "card"): "show that you hold the IC card you ask to revoke (失効申込)"
        default: "confirm your card for \(purpose.flow), step \(purpose.step)"
        }
    }

    /// The tries-left sentence of a PIN not yet blocked.
    static func tries(_ triesLeft: Int?, pin: String) -> String {
        switch triesLeft {
        case nil: "The card did not say how many tries are left."
        case 1?: "Only one try is left for \(pin): a wrong PIN then blocks it (閉塞)."
        case let n?: "\(n) tries are left before it is blocked (閉塞)."
        }
    }

    static func pin(
        origin: PortalOrigin, purpose: EvidencePurpose, pinName: String, card: String, triesLeft: Int?,
        policy: PINPolicy
    ) -> PINDialog {
        pin(
            origin: origin, operation: operation(purpose), pinName: pinName, card: card, triesLeft: triesLeft,
            policy: policy)
    }

    static func pin(
        origin: PortalOrigin, operation: String, pinName: String, card: String, triesLeft: Int?, policy: PINPolicy
    ) -> PINDialog {
        PINDialog(
            title: title,
            description: """
                \(origin) asks to \(operation).

                Card: \(card)
                Enter \(pinName). \(tries(triesLeft, pin: pinName))
                """,
            prompt: "PIN:", policy: policy)
    }

    static func lastTry(origin: PortalOrigin, purpose: EvidencePurpose, pinName: String, card: String)
        -> ConsentDialog
    {
        lastTry(origin: origin, operation: operation(purpose), pinName: pinName, card: card)
    }

    static func lastTry(origin: PortalOrigin, operation: String, pinName: String, card: String) -> ConsentDialog {
        ConsentDialog(
            title: title,
            description: """
                \(origin) asks to \(operation).

                Card: \(card)
                Only one try is left for \(pinName), so it is not sent unless you allow the last try: a wrong PIN \
                then blocks it (閉塞). Make sure of the PIN before you go on.
                """,
            ok: "Allow the last try", cancel: "Cancel")
    }

    /// The consent to a document signature, shown before any PIN: the document's name, size and SHA-256 digest,
    /// so the person can compare it with what the portal's page shows.
    static func document(origin: PortalOrigin, name: String, size: Int, digest: String, card: String)
        -> ConsentDialog
    {
        let grouped = stride(from: 0, to: digest.count, by: 8).map { offset -> String in
            let start = digest.index(digest.startIndex, offsetBy: offset)
            return String(digest[start..<digest.index(start, offsetBy: min(8, digest.count - offset))])
        }
        return ConsentDialog(
            title: title,
            description: """
                \(origin) asks to sign a document with your signing key (電子署名).

                Document: \(name) (\(size) bytes)
                SHA-256: \(grouped.joined(separator: " "))
                Card: \(card)
                Sign only if this is the document you mean to sign: compare the digest with the one the page shows.
                """,
            ok: "Sign", cancel: "Do not sign")
    }
}
