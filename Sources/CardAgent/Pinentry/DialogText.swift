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
        PINDialog(
            title: title,
            description: """
                \(origin) asks to \(operation(purpose)).

                Card: \(card)
                Enter \(pinName). \(tries(triesLeft, pin: pinName))
                """,
            prompt: "PIN:", policy: policy)
    }

    static func lastTry(origin: PortalOrigin, purpose: EvidencePurpose, pinName: String, card: String)
        -> ConsentDialog
    {
        ConsentDialog(
            title: title,
            description: """
                \(origin) asks to \(operation(purpose)).

                Card: \(card)
                Only one try is left for \(pinName), so it is not sent unless you allow the last try: a wrong PIN \
                then blocks it (閉塞). Make sure of the PIN before you go on.
                """,
            ok: "Allow the last try", cancel: "Cancel")
    }
}
