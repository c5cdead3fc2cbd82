import Fluent

/// A plan's name and description in each edition's language, so the Arabic plans page does not
/// offer "Yearly": a small JSON object per plan, read with the plan wherever it is shown.
struct AddPlanTranslations: AsyncMigration {
    var name: String { "014_AddPlanTranslations" }

    func prepare(on database: any Database) async throws {
        try await database.schema("plans").field("translations", .string, .required, .sql(.default("{}"))).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("plans").deleteField("translations").update()
    }
}
