import Testing

/// Every test that uses the PC/SC test bench (pcscd and the two vpcd readers) lives in an extension of this
/// suite, so they run one at a time: the readers are shared.
///
/// ```swift
/// extension EndToEnd {
///     @Suite struct MyCardTests { @Test func something() async throws { … } }
/// }
/// ```
@Suite(.serialized)
enum EndToEnd {}
