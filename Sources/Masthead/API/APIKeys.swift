import Fluent
import Foundation
import Synchronization

/// Content API keys: made and revoked by staff, and resolved on every API request. A key's
/// integration is remembered for a few seconds so that a busy app does not cost a database
/// read per request; a revoked key stops working here at once and on other instances within
/// `memory` seconds.
public final class APIKeys: Sendable {
    public struct Integration: Sendable, Equatable {
        public let id: UUID
        public let name: String
        public let access: APIIntegration.Access
    }

    static let prefix = "mhk_"
    let memory: TimeInterval

    private let remembered = Mutex<[String: (integration: Integration?, until: Date)]>([:])
    /// Moves on with every revocation, so a lookup that began before one never stores its answer.
    private let revocations = Atomic<Int>(0)

    public init(memory: TimeInterval = 10) {
        self.memory = memory
    }

    /// A new integration and its key, which is never shown again.
    public static func create(name: String, access: APIIntegration.Access, by staff: Staff?, on database: any Database) async throws -> (APIIntegration, key: String) {
        let key = prefix + SecretToken.generate()
        let integration = APIIntegration()
        integration.name = name
        integration.keyHash = SecretToken.digest(key)
        integration.keyHint = String(key.suffix(4))
        integration.access = access
        integration.$createdBy.id = staff?.id
        try await integration.create(on: database)
        return (integration, key)
    }

    public static func revoke(_ integration: APIIntegration, on database: any Database) async throws {
        integration.revokedAt = Date()
        try await integration.save(on: database)
    }

    /// Drops what this instance remembers of a key, once its revocation is committed.
    public func forget(_ integration: APIIntegration) {
        revocations.add(1, ordering: .sequentiallyConsistent)
        _ = remembered.withLock { $0.removeValue(forKey: integration.keyHash) }
    }

    /// The live integration a key belongs to, or nil for an unknown or revoked key.
    func integration(forKey key: String, on database: any Database, now: Date = Date()) async throws -> Integration? {
        guard key.hasPrefix(Self.prefix), key.utf8.count < 100 else { return nil }
        let digest = SecretToken.digest(key)
        if let known = remembered.withLock({ $0[digest] }), known.until > now { return known.integration }
        let revocationsBefore = revocations.load(ordering: .sequentiallyConsistent)
        let found = try await APIIntegration.query(on: database)
            .filter(\.$keyHash == digest).filter(\.$revokedAt == nil).first()
            .flatMap { row in row.id.map { Integration(id: $0, name: row.name, access: row.access) } }
        remembered.withLock { keys in
            guard revocations.load(ordering: .sequentiallyConsistent) == revocationsBefore else { return }
            // Unknown keys are remembered too, so repeating a guess costs no database read. When
            // the memory is full, the unknown and the expired go first, never a live key.
            if keys.count >= 10_000 { keys = keys.filter { $0.value.integration != nil && $0.value.until > now } }
            if keys.count < 10_000 { keys[digest] = (found, now.addingTimeInterval(memory)) }
        }
        return found
    }
}
