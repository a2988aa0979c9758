public import Foundation
import Logging

/// Delivers the outbox at least once: leases the messages that are due, hands GEPS its hand-overs and the mail
/// relay its completion mails, and records each outcome in the store.
///
/// - A message is delivered, retried later with exponential ``Backoff`` when the error
///   ``RegistrationError/isRetryable``, or marked failed for a person to look at (a permanent refusal, a payload
///   that cannot be read, or ``maxAttempts`` tries).
/// - A completion mail waits for its hand-over (``OutboxMessage/after``): the store leases it only once GEPS has
///   taken the hand-over, so the mail goes out on a later ``deliverDue(now:limit:)`` than the hand-over. When the
///   hand-over fails for good, the mails waiting on it are marked failed too, saying why.
/// - Delivery is at least once: when the process stops between sending and recording, the lease runs out and the
///   message is sent again with the same idempotency key (GEPS recognises it; a mail keeps its Message-ID).
///
/// Run ``deliverDue(now:limit:)`` from a timer (every few seconds); the time is a parameter so tests drive it.
///
/// ```swift
/// let dispatcher = OutboxDispatcher(store: store, mail: smtp, geps: geps)
/// let report = try await dispatcher.deliverDue()
/// ```
public struct OutboxDispatcher: Sendable {
    /// When to try a failed delivery again: ``initial`` × 2^(attempts made before), at most ``maximum``, made
    /// earlier by up to ``jitter`` of itself so that many dispatchers do not retry in step.
    public struct Backoff: Sendable, Hashable {
        /// The wait after the first failure.
        public var initial: Duration
        /// The longest wait.
        public var maximum: Duration
        /// The fraction (0…1) of a wait that may be taken off at random; 0 for exact waits.
        public var jitter: Double

        /// A backoff policy.
        public init(initial: Duration = .seconds(30), maximum: Duration = .seconds(3600), jitter: Double = 0) {
            self.initial = initial
            self.maximum = maximum
            self.jitter = min(1, max(0, jitter))
        }

        /// The wait before the next try of a message that had made `attempts` tries before the one that failed.
        public func delay(afterAttempts attempts: Int) -> Duration {
            let exponent = min(max(0, attempts), 40)
            let full = Self.seconds(initial) * pow(2, Double(exponent))
            let capped = min(full, Self.seconds(maximum))
            let taken = jitter > 0 ? Double.random(in: 0...jitter) * capped : 0
            return .milliseconds(Int64(((capped - taken) * 1000).rounded()))
        }

        static func seconds(_ duration: Duration) -> Double {
            let components = duration.components
            return Double(components.seconds) + Double(components.attoseconds) / 1e18
        }
    }

    /// Where the outbox is kept.
    public var store: any RegistrationStore
    /// The mail relay.
    public var mail: any MailTransport
    /// The hand-over to GEPS.
    public var geps: any GEPSGateway
    /// When failed deliveries are tried again.
    public var backoff: Backoff
    /// After this many tries a message is marked failed even when its error is retryable.
    public var maxAttempts: Int
    /// How long a leased message is held by this dispatcher before another may take it (longer than a delivery
    /// can take).
    public var lease: Duration

    private let logger = Logger(label: "ProcurementIdentity.Outbox")

    /// A dispatcher over `store` that sends through `mail` and `geps`.
    public init(
        store: any RegistrationStore, mail: any MailTransport, geps: any GEPSGateway, backoff: Backoff = Backoff(),
        maxAttempts: Int = 20, lease: Duration = .seconds(300)
    ) {
        self.store = store
        self.mail = mail
        self.geps = geps
        self.backoff = backoff
        self.maxAttempts = max(1, maxAttempts)
        self.lease = lease
    }

    /// Delivers up to `limit` messages that are due at `now`, one after another, and records each outcome.
    ///
    /// Messages are leased one at a time, just before they are sent, so a slow receiver does not let the leases of
    /// the messages behind it run out; a mail whose hand-over GEPS took earlier in the same call goes out in that
    /// call. When a receiver cannot be reached (``RegistrationError/mailServerUnreachable(_:)``,
    /// ``RegistrationError/gepsUnavailable(_:)``), the call stops after recording the retry, rather than wait for
    /// the same timeout on every message behind it; the next call goes on.
    ///
    /// - Parameters:
    ///   - now: The time the messages are due at and outcomes are recorded at (tests drive it).
    ///   - limit: The most messages to try in this call.
    /// - Returns: What happened to each message.
    /// - Throws: ``RegistrationError/storeFailure(_:)`` when the store fails; a message sent but not recorded is
    ///   sent again after its lease, with the same idempotency key (at least once).
    public func deliverDue(now: Date = Date(), limit: Int = 50) async throws(RegistrationError) -> DeliveryReport {
        let clock = ContinuousClock()
        let started = clock.now
        var report = DeliveryReport(lines: [])
        while report.lines.count < limit {
            // The lease counts from when the message is taken, not from the start of the call.
            let elapsed = Backoff.seconds(started.duration(to: clock.now))
            let leaseUntil = now.addingTimeInterval(elapsed + Backoff.seconds(lease))
            guard let message = try await store.leaseDueMessages(at: now, limit: 1, leaseUntil: leaseUntil).first
            else { break }
            let (outcome, unreachable) = await attempt(message, now: now)
            try await store.record(outcome, for: message.id, at: now)
            log(outcome, of: message)
            report.lines.append(DeliveryReport.Line(message: message, attempt: message.attempts + 1, outcome: outcome))
            if message.kind == .gepsHandOver, case .failed(let reason) = outcome {
                report.lines += try await failMessages(waitingOn: message, reason: reason, now: now)
            }
            if unreachable {
                logger.notice("stopping this delivery run: a receiver could not be reached")
                break
            }
        }
        return report
    }

    /// Sends one message; returns the outcome to record, and whether its receiver could not be reached.
    private func attempt(_ message: OutboxMessage, now: Date) async -> (DeliveryOutcome, Bool) {
        do throws(RegistrationError) {
            switch message.kind {
            case .gepsHandOver:
                let receipt = try await geps.handOver(
                    GEPSHandOver(idempotencyKey: message.idempotencyKey, document: message.payload))
                if receipt.wasDuplicate {
                    logger.info(
                        "GEPS had already taken this hand-over (an earlier answer was lost)",
                        metadata: ["key": "\(message.idempotencyKey)", "reference": "\(receipt.reference)"])
                }
                return (.delivered(receipt: receipt.reference), false)
            case .mail:
                let mailMessage: MailMessage
                do {
                    mailMessage = try JSONDecoder().decode(MailMessage.self, from: Data(message.payload))
                } catch {
                    let failure =
                        "The outbox message's payload is not a mail (\(error)); nothing was sent. Check the "
                        + "service that wrote it."
                    return (.failed(error: failure), false)
                }
                logger.debug(
                    "sending mail",
                    metadata: ["key": "\(message.idempotencyKey)", "subject": "\(mailMessage.subject)"])
                logger.trace(
                    "mail body", metadata: ["key": "\(message.idempotencyKey)", "body": "\(mailMessage.body)"])
                try await mail.send(mailMessage)
                return (.delivered(receipt: nil), false)
            }
        } catch {
            let unreachable: Bool
            switch error {
            case .mailServerUnreachable, .gepsUnavailable: unreachable = true
            default: unreachable = false
            }
            let attempts = message.attempts + 1
            if error.isRetryable, attempts < maxAttempts {
                let wait = backoff.delay(afterAttempts: message.attempts)
                let next = now.addingTimeInterval(Backoff.seconds(wait))
                return (.retry(error: error.description, nextAttempt: next), unreachable)
            }
            if error.isRetryable {
                let failure =
                    "Gave up after \(attempts) attempts; the last one failed: \(Self.reason(error)). Check the "
                    + "receiving service, then deliver the message again."
                return (.failed(error: failure), unreachable)
            }
            return (.failed(error: error.description), unreachable)
        }
    }

    /// What went wrong, without the sentence about trying again that the error's description ends with.
    private static func reason(_ error: RegistrationError) -> String {
        switch error {
        case .mailRejected(let code, let message): "the mail server answered \(code) \(message)"
        case .mailServerUnreachable(let reason): "the mail server could not be reached (\(reason))"
        case .gepsRejected(let status, let message): "GEPS (政府電子調達システム) answered HTTP \(status): \(message)"
        case .gepsUnavailable(let reason): "GEPS (政府電子調達システム) could not be reached (\(reason))"
        default: error.description
        }
    }

    /// Marks failed the pending messages that wait on `message` (the mails of a hand-over that failed for good).
    private func failMessages(waitingOn message: OutboxMessage, reason: String, now: Date)
        async throws(RegistrationError) -> [DeliveryReport.Line]
    {
        let waiting = try await store.outbox(state: .pending).filter { $0.after == message.id }
        var lines: [DeliveryReport.Line] = []
        for dependent in waiting {
            let outcome = DeliveryOutcome.failed(
                error: "Not sent: the GEPS hand-over \(message.idempotencyKey) it waits for failed. \(reason)")
            try await store.record(outcome, for: dependent.id, at: now)
            log(outcome, of: dependent)
            lines.append(DeliveryReport.Line(message: dependent, attempt: dependent.attempts + 1, outcome: outcome))
        }
        return lines
    }

    private func log(_ outcome: DeliveryOutcome, of message: OutboxMessage) {
        let metadata: Logger.Metadata = [
            "key": "\(message.idempotencyKey)", "message": "\(message.id)", "attempt": "\(message.attempts + 1)",
        ]
        switch outcome {
        case .delivered(let receipt):
            logger.info("delivered \(message.kind.rawValue)\(receipt.map { " (\($0))" } ?? "")", metadata: metadata)
        case .retry(let error, let next):
            logger.warning(
                "will retry \(message.kind.rawValue) at \(next.ISO8601Format()): \(error)", metadata: metadata)
        case .failed(let error):
            logger.error("\(message.kind.rawValue) failed for good: \(error)", metadata: metadata)
        }
    }
}

/// What one ``OutboxDispatcher/deliverDue(now:limit:)`` did: one line per message.
public struct DeliveryReport: Sendable, Hashable, CustomStringConvertible {
    /// One message's attempt.
    public struct Line: Sendable, Hashable, CustomStringConvertible {
        /// The message.
        public var id: OutboxMessageID
        /// A hand-over or a mail.
        public var kind: OutboxMessage.Kind
        /// The message's idempotency key.
        public var idempotencyKey: String
        /// Which try this was (1 for the first).
        public var attempt: Int
        /// What happened.
        public var outcome: DeliveryOutcome

        init(message: OutboxMessage, attempt: Int, outcome: DeliveryOutcome) {
            id = message.id
            kind = message.kind
            idempotencyKey = message.idempotencyKey
            self.attempt = attempt
            self.outcome = outcome
        }

        /// `<key> try N: delivered (reference)`, `… retry at <time>: <error>` or `… failed: <error>`.
        public var description: String {
            let head = "\(idempotencyKey) try \(attempt): "
            switch outcome {
            case .delivered(let receipt): return head + "delivered" + (receipt.map { " (\($0))" } ?? "")
            case .retry(let error, let next): return head + "retry at \(next.ISO8601Format()): \(error)"
            case .failed(let error): return head + "failed: \(error)"
            }
        }
    }

    /// One line per message, in the order they were tried.
    public var lines: [Line]

    /// How many messages were delivered.
    public var delivered: Int {
        lines.count(where: {
            if case .delivered = $0.outcome { true } else { false }
        })
    }
    /// How many messages will be tried again.
    public var retried: Int {
        lines.count(where: {
            if case .retry = $0.outcome { true } else { false }
        })
    }
    /// How many messages failed for good.
    public var failed: Int {
        lines.count(where: {
            if case .failed = $0.outcome { true } else { false }
        })
    }

    /// A summary line, then one line per message.
    public var description: String {
        (["delivered \(delivered), to retry \(retried), failed \(failed)"] + lines.map { "  \($0)" })
            .joined(separator: "\n")
    }
}
