import ISO7816

/// What went wrong while making, persisting or serving a simulated card or the test certification authority.
///
/// Cards themselves never throw: a command they cannot carry out gets the status word a real card would give.
/// These errors come from setting up: generating keys, issuing certificates, reading or writing state files.
public enum CardSimulatorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// OpenSSL refused an operation on a key (generation, parsing, signing); `operation` names the call.
    case cryptographyFailed(operation: String)
    /// A key or certificate in PEM or DER could not be read.
    case malformedKey(String)
    /// A certificate could not be built or parsed.
    case certificateFailed(String)
    /// A file in a state directory could not be read or written.
    case fileAccessFailed(path: String, reason: String)
    /// A state file exists but does not hold what the simulator wrote there.
    case corruptState(path: String, reason: String)
    /// No certificate with this serial number was issued by the test certification authority.
    case unknownSerialNumber(String)
    /// A PIN value does not fit its card's PIN rules (length or characters).
    case pinDoesNotFitPolicy(String)
    /// A value given to set up a card is out of range (for example an individual number that is not 12 digits).
    case invalidParameter(String)

    /// What happened and what to do next, in one sentence.
    public var description: String {
        switch self {
        case .cryptographyFailed(let operation):
            return "OpenSSL could not carry out \(operation); check that OpenSSL 3 is installed and try again."
        case .malformedKey(let reason):
            return "The key could not be read: \(reason). Give an RSA private key in PEM (PKCS#1 or PKCS#8)."
        case .certificateFailed(let reason):
            return "The certificate could not be made or read: \(reason)."
        case .fileAccessFailed(let path, let reason):
            return "The simulator could not access \(path): \(reason). Check the directory exists and is writable."
        case .corruptState(let path, let reason):
            return "The simulator state in \(path) is damaged (\(reason)); delete the directory to start afresh."
        case .unknownSerialNumber(let serial):
            return "The test certification authority issued no certificate with serial number \(serial)."
        case .pinDoesNotFitPolicy(let rule):
            return "The PIN does not fit the card's rules: \(rule). Choose another test PIN."
        case .invalidParameter(let reason):
            return "A card parameter is invalid: \(reason)."
        }
    }
}
