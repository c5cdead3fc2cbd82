import Foundation

/// The pages a payment provider sends a reader back to: its webhook may come before or after
/// them, so they look a few times, a quarter of a second apart, before saying it is on its way.
enum ProviderConfirmation {
    /// What `look` found once it found something, or nil when `wait` ran out first.
    static func await<T>(for wait: Duration, _ look: () async throws -> T?) async throws -> T? {
        let deadline = ContinuousClock.now + wait
        while true {
            if let found = try await look() { return found }
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(250))
        }
    }
}
