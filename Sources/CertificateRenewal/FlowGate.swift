/// The step guard every flow keeps: one call at a time, and a call that 戻る (or a restart after an error)
/// overtook while it waited — for a card, the card's answer, the registration desk — does not write its result.
///
/// A call takes a token when it begins, checks it after each wait, and gives it back when it ends:
///
/// ```swift
/// let token = try gate.begin(atStep: step == .insertCard, else: .notAtStep(expected: .insertCard, current: step.name))
/// defer { gate.end(token) }
/// let card = try await slot.connect()      // a wait: 戻る may have run meanwhile
/// try gate.check(token)                   // … then this throws flowRestarted, and nothing is written
/// ```
struct FlowGate: Sendable {
    private var generation = 0
    private var running: Int?
    /// Whether a commit is under way. A commit cannot be taken back, so 戻る is refused until it ends.
    var isCommitting = false

    /// Whether a call is running.
    var isBusy: Bool { running != nil }

    /// Begins a call.
    ///
    /// - Parameters:
    ///   - atStep: Whether the flow is at the call's step.
    ///   - refusal: The error when it is not.
    /// - Returns: The call's token.
    /// - Throws: ``LifecycleError/stepInProgress`` while another call runs, else `refusal` when not `atStep`.
    mutating func begin(atStep: Bool = true, else refusal: @autoclosure () -> LifecycleError = .stepInProgress)
        throws(LifecycleError) -> Int
    {
        guard running == nil else { throw .stepInProgress }
        guard atStep else { throw refusal() }
        running = generation
        return generation
    }

    /// Ends the call of `token` (a call overtaken by a restart has nothing to end).
    mutating func end(_ token: Int) {
        if running == token { running = nil }
    }

    /// Throws ``LifecycleError/flowRestarted`` when the flow went back to its start since the call of `token`
    /// began.
    func check(_ token: Int) throws(LifecycleError) {
        guard token == generation else { throw .flowRestarted }
    }

    /// Throws ``LifecycleError/stepInProgress`` while a commit is under way (戻る must wait for it).
    func refuseWhileCommitting() throws(LifecycleError) {
        guard !isCommitting else { throw .stepInProgress }
    }

    /// Back to the start: the running call's token, and every older one, become stale.
    mutating func restart() {
        generation += 1
        running = nil
    }
}
