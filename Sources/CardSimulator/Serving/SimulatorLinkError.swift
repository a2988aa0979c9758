public import ISO7816

/// What can go wrong on the link between a virtual card and the program using it (in process, or through vpcd).
public enum SimulatorLinkError: Error, Sendable, Hashable, CustomStringConvertible, CardTransportError {
    /// No vpcd reader listens where the card was to be inserted.
    case readerNotListening(host: String, port: UInt16)
    /// The host is not an IPv4 or IPv6 address.
    case invalidHost(String)
    /// A socket call failed.
    case socket(operation: String, errno: Int32)
    /// The simulated slot holds no card (never inserted, or pulled).
    case cardRemoved
    /// The card stayed silent and was then pulled.
    case cardUnresponsive

    public var failure: CardTransportFailure {
        switch self {
        case .cardRemoved: .cardRemoved
        case .cardUnresponsive: .cardUnresponsive
        case .readerNotListening, .invalidHost, .socket: .readerUnavailable
        }
    }

    public var description: String {
        switch self {
        case .readerNotListening(let host, let port):
            return "No vpcd reader listens on \(host):\(port). Start pcscd with the vsmartcard-vpcd driver "
                + "(sudo apt-get install pcscd vsmartcard-vpcd, then sudo pcscd) and try again."
        case .invalidHost(let host):
            return "\(host) is not an IP address; give the vpcd host as an address such as 127.0.0.1."
        case .socket(let operation, let code):
            return "The virtual card's link failed in \(operation) (errno \(code)); check pcscd is still running."
        case .cardRemoved:
            return "The card was removed from the simulated slot; insert a card and try again."
        case .cardUnresponsive:
            return "The card did not answer and was pulled; insert it again and retry."
        }
    }
}
