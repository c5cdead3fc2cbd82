/// Runs `body` with `companion` beside it (a lease's heartbeat), then stops the companion and
/// waits for it to end, however `body` ends: what the companion does (renewing the lease in the
/// database) never outlives the call, nor runs on into a shutdown that closes the database.
func alongside<T>(_ companion: Task<Void, Never>, _ body: () async throws -> T) async throws -> T {
    let outcome: Result<T, any Error>
    do {
        outcome = .success(try await body())
    } catch {
        outcome = .failure(error)
    }
    companion.cancel()
    await companion.value
    return try outcome.get()
}
