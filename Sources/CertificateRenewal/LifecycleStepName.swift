/// The names of a flow's steps: one enum per flow — ``ICCardRenewalStep/Name`` for the in-process IC card renewal,
/// ``ICCardRenewalState/Step`` for the server's — whose raw values are the names errors, logs and the HTTP API use
/// (`insertCurrentCard`, `current-card`, `confirm`).
///
/// A front end switches over a flow's step names exhaustively, and reads a refusal's steps back as the same type:
///
/// ```swift
/// catch let error where error.code == .notAtStep {
///     if error.currentStep(as: ICCardRenewalStep.Name.self) == .swapCards { showSwapScreen() }
/// }
/// ```
public protocol LifecycleStepName: RawRepresentable, Hashable, Sendable, CaseIterable, CustomStringConvertible
where RawValue == String {}

extension LifecycleStepName {
    /// The name (the raw value).
    public var description: String { rawValue }
}

extension LifecycleError {
    /// The call does not belong to the flow's current step `current`; it needs `expected`.
    public static func notAtStep<Step: LifecycleStepName>(expected: Step, current: Step) -> LifecycleError {
        .notAtStep(expected: expected.rawValue, current: current.rawValue)
    }

    /// The call does not belong to the flow's current step `current`; it needs one of `expected` (named as
    /// "a, b or c").
    public static func notAtStep<Step: LifecycleStepName>(anyOf expected: [Step], current: Step) -> LifecycleError {
        let names = expected.map(\.rawValue)
        let text =
            names.count > 1
            ? names.dropLast().joined(separator: ", ") + " or " + names[names.count - 1] : names.joined()
        return .notAtStep(expected: text, current: current.rawValue)
    }

    /// The steps the call needs, as the flow's type of step names; empty unless the code is
    /// ``Code-swift.struct/notAtStep`` of a flow with that type.
    public func expectedSteps<Step: LifecycleStepName>(as type: Step.Type) -> [Step] {
        guard let expectedStep else { return [] }
        let names = expectedStep.split(separator: " or ").flatMap { $0.split(separator: ", ") }
        let steps = names.compactMap { Step(rawValue: String($0)) }
        return steps.count == names.count ? steps : []
    }

    /// The step the flow is at, as the flow's type of step names; nil unless the code is
    /// ``Code-swift.struct/notAtStep`` of a flow with that type.
    public func currentStep<Step: LifecycleStepName>(as type: Step.Type) -> Step? {
        currentStep.flatMap { Step(rawValue: $0) }
    }
}
