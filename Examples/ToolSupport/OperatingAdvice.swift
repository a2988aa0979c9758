// What a person can do about a PC/SC failure on this system: the library says what happened, the tools say what to
// do about it (start pcscd, plug in a reader), since that depends on how the system is run.

import PCSC

/// The advice to print after a PC/SC failure, or `nil` when the error's own sentence says enough.
public func operatingAdvice(for error: any Error) -> String? {
    let startService = "Start the smart card service (sudo systemctl start pcscd.socket, or sudo pcscd) and try again."
    if let error = error as? PCSCError {
        switch error.code {
        case .noService, .serviceStopped, .communicationError:
            return startService
        case .internalError, .waitedTooLong, .unknownError:
            return "Restart the smart card service (sudo systemctl restart pcscd) and try again."
        case .noReadersAvailable:
            return
                "Plug in a card reader (or start the virtual readers: sudo apt-get install vsmartcard-vpcd, then "
                + "restart pcscd) and try again."
        case .unknownReader:
            return "List the readers (cardtool readers) and use one of those names."
        case .sharingViolation:
            return "Close the other application that holds the card (or wait for it to finish) and try again."
        case .noSmartcard:
            return "Insert the card and try again."
        case .removedCard:
            return "Insert the card again and retry the whole operation."
        case .unresponsiveCard, .invalidATR, .notTransacted, .communicationDataLost, .unpoweredCard:
            return "Reinsert the card (chip first, contacts up) and try again."
        case .readerUnavailable:
            return "Reconnect the reader and try again."
        case .resetCard:
            return "Try again; the application must be selected and the PIN entered again."
        case .serverTooBusy, .notReady:
            return "Wait a moment and try again."
        default:
            return nil
        }
    }
    if error.cardTransportFailure == .serviceUnavailable { return startService }
    return nil
}
