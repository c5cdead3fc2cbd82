import Fluent

/// The one, append-only sequence of migrations. New ones go at the end, in a new numbered folder.
enum MastheadMigrations {
    static let all: [any Migration] = [
        CreatePublishing(),
        IndexPublishing(),
        CreateMembers(),
        CreateMeterReads(),
        CreateStaff(),
        CreateStaffSessions(),
        CreateEditorial(),
        CreateStaffSignInAttempts(),
        AddSessionGeneration(),
        MoveGatedTextApart(),
        CreateBilling(),
        AddComplimentaryAccess(),
        CreateOutbox(),
        CreateGifts(),
        AddPlanTranslations(),
        CreateNewsletters(),
        CreateAPIIntegrations(),
        CreateStaffAPITokens(),
        CreateSearchIndex(),
        KeySearchIndexByTime(),
        IndexNewsletterQueues(),
        IndexScheduledArticles(),
        ListSearchTerms(),
        RecordSearchRebuilds(),
        CreateJobLeases(),
        CreateImportRecords(),
        CreatePages(),
        CreateLiveCoverage(),
        CreateBreakingNews(),
        CreateComments(),
        AddCommentCounters(),
        CreateCDNPurges(),
    ]
}
