/// Something that sends a ``MailMessage``: an SMTP relay (``SMTPMailTransport``), or a fake in tests.
///
/// A transport either hands the whole message over (the receiving server took responsibility for it) or throws;
/// the ``OutboxDispatcher`` retries on ``RegistrationError/isRetryable`` errors, so a transport must not retry on
/// its own.
public protocol MailTransport: Sendable {
    /// Sends `message` to all its recipients.
    ///
    /// - Throws: ``RegistrationError/mailRejected(code:message:)`` when the server refused it (4xx: try again later;
    ///   5xx: for good), ``RegistrationError/mailServerUnreachable(_:)`` when the server could not be reached or
    ///   the connection broke, ``RegistrationError/invalidField(field:reason:)`` when the message is not valid.
    func send(_ message: MailMessage) async throws(RegistrationError)
}
