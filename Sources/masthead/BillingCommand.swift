import ArgumentParser
import Foundation
import Masthead

/// `masthead billing sync-plans`: creates the plans' prices at Stripe.
struct BillingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "billing",
        abstract: "Look after billing.",
        subcommands: [SyncPlans.self]
    )

    struct SyncPlans: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync-plans",
            abstract: "Create at Stripe the products and prices of plans that have no Stripe price yet, and record their ids."
        )

        func run() async throws {
            let settings = try Settings.fromEnvironment()
            guard settings.billing.stripe != nil else { throw StripePlanSync.Failure.notConfigured }
            let app = try await MastheadApp.make(settings: settings)
            do {
                try await MastheadApp.migrate(app, settings: settings)
                let created = try await StripePlanSync.run(app: app, settings: settings) { progress in
                    Terminal.progress(done: progress.done, total: progress.total, label: progress.label)
                }
                await MastheadApp.stop(app)
                Terminal.say(created == 0 ? "Every plan price already has its Stripe price." : "Created \(created) Stripe \(created == 1 ? "price" : "prices").")
            } catch {
                await MastheadApp.stop(app)
                throw error
            }
        }
    }
}
