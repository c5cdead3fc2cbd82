import Fluent

/// Jobs that must run on one instance at a time, on a schedule (a backup): who holds each one
/// until when, when it last started and finished, what it is doing, and whether staff asked for
/// it to run now.
struct CreateJobLeases: AsyncMigration {
    var name: String { "024_CreateJobLeases" }

    func prepare(on database: any Database) async throws {
        try await database.schema(JobLease.schema)
            .field("name", .string, .required)
            .field("holder", .uuid)
            .field("held_until", .datetime)
            .field("started_at", .datetime)
            .field("finished_at", .datetime)
            .field("requested_at", .datetime)
            .field("requested_by", .string)
            .field("status", .string)
            .field("outcome", .string)
            .unique(on: "name")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(JobLease.schema).delete()
    }
}
