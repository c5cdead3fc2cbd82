import Fluent
import Foundation
import Testing
@testable import Masthead

/// A new reader pays in test mode, the way the demo runs: no Stripe key, Masthead's own
/// checkout page, the same events and ledger as Stripe's webhooks.
@Suite("Paying in test mode", .serialized)
struct TestModeJourneyTests {
    static let publicURL = "https://news.example"

    @Test("from a paid article's paywall: choose the yearly plan, sign up by email, pay, read in full", arguments: TestDatabase.available)
    func payFromThePaywall(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let articlePath = "/articles/\(article.slug)"
            let browser = TestBrowser(site: site)

            let paywalled = try await browser.get(articlePath)
            let joinLink = try #require(HTML.attributeValues("href", of: "a", in: paywalled.body).first { $0.hasPrefix("/join?") })
            let plans = try await browser.get(joinLink)
            #expect(plans.status == .ok)
            #expect(plans.body.contains("<h2 class=\"plan__name\">Yearly</h2>\n<p class=\"plan__price\"><span class=\"plan__amount\">$100</span> per year</p>"))
            #expect(plans.body.contains("<h2 class=\"plan__name\">Monthly</h2>\n<p class=\"plan__price\"><span class=\"plan__amount\">$10</span> per month</p>"))
            #expect(plans.body.contains("Already a member? Sign in"))
            #expect(plans.body.contains("No card is charged and no money moves"))

            let choose = try #require(HTML.section(of: plans.body, from: "<h2 class=\"plan__name\">Yearly</h2>", to: "</form>"))
            let fields = zip(HTML.attributeValues("name", of: "input", in: choose), HTML.attributeValues("value", of: "input", in: choose))
            let query = fields.map { "\($0.0)=\(MemberURL.encode($0.1))" }.joined(separator: "&")
            let signUpStep = try await browser.get("/join/checkout?\(query)")
            #expect(signUpStep.body.contains("Subscribe: Yearly"))
            #expect(try await browser.submit(signUpStep, action: "/join", ["email": "new.reader@example.com"]).status == .ok)

            let confirm = try await browser.get(try DevelopmentMail.latestPath(site, containing: "/signin/verify"))
            let signedIn = try await browser.submit(confirm, action: "/signin/verify")
            let checkoutStep = try #require(signedIn.headers.first(name: .location))
            #expect(checkoutStep.hasPrefix("/join/checkout?plan=yearly"))
            let toCheckout = try await browser.submit(try await browser.get(checkoutStep), action: "/join/checkout")
            let checkoutURL = try #require(toCheckout.headers.first(name: .location))
            #expect(checkoutURL.hasPrefix(Self.publicURL + "/billing/test-checkout/"))

            let checkoutPath = String(checkoutURL.dropFirst(Self.publicURL.count))
            let checkoutPage = try await browser.get(checkoutPath)
            #expect(checkoutPage.body.contains("no money moves"))
            let paid = try await browser.submit(checkoutPage, action: checkoutPath, ["outcome": "pay"])
            let returned = try await browser.get(try #require(paid.headers.first(name: .location)))
            #expect(returned.headers.first(name: .location) == articlePath)

            let full = try await browser.get(articlePath)
            #expect(!full.body.contains("class=\"paywall\""))
            let text = HTML.text(of: full.body)
            for sentence in DemoArticles.gatedSentences(of: article) { #expect(text.contains(sentence)) }

            let member = try #require(try await MemberAccounts(database: site.app.db).find(email: "new.reader@example.com"))
            let subscription = try #require(try await Subscription.query(on: site.app.db).filter(\.$member.$id == member.requireID()).first())
            #expect(subscription.status == .active && subscription.provider == "test")
            #expect(member.paidUntil == subscription.currentPeriodEnd)
            #expect(subscription.currentPeriodEnd > Date().addingTimeInterval(364 * 86_400))
        }
    }

    @Test("a declined card charges nothing and gives nothing", arguments: [TestDatabase.sqlite])
    func declined(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let browser = try await Self.signedInReader(site, email: "declined@example.com")
            let checkoutPath = try await Self.startCheckout(browser, plan: "monthly")
            let declined = try await browser.submit(try await browser.get(checkoutPath), action: checkoutPath, ["outcome": "decline"])
            #expect(declined.status == .paymentRequired)
            #expect(declined.body.contains("The card was declined"))
            let member = try #require(try await MemberAccounts(database: site.app.db).find(email: "declined@example.com"))
            #expect(member.paidUntil == nil)
            #expect(try await Subscription.query(on: site.app.db).count() == 0)
        }
    }

    @Test("a cancelled subscription keeps access to the end of the period, and loses it after", arguments: TestDatabase.available)
    func cancel(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let browser = try await Self.signedInReader(site, email: "leaving@example.com")
            let checkoutPath = try await Self.startCheckout(browser, plan: "monthly")
            _ = try await browser.submit(try await browser.get(checkoutPath), action: checkoutPath, ["outcome": "pay"])

            let account = try await browser.get("/account")
            #expect(account.body.contains("Renews on"))
            let portal = try await browser.get(try #require(try await browser.submit(account, action: "/account/billing").headers.first(name: .location)).replacingOccurrences(of: Self.publicURL, with: ""))
            #expect(portal.body.contains("Cancel at the end of the period"))
            _ = try await browser.submit(portal, action: "/billing/test-portal", ["cancel": "yes"])

            let cancelled = try await browser.get("/account")
            #expect(cancelled.body.contains("Ends on"))
            let member = try #require(try await MemberAccounts(database: site.app.db).find(email: "leaving@example.com"))
            let periodEnd = try #require(member.paidUntil)
            #expect(member.viewer(at: Date()) == .paidMember)
            #expect(member.viewer(at: periodEnd.addingTimeInterval(1)) == .freeMember)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            #expect(!(try await browser.get("/articles/\(article.slug)")).body.contains("class=\"paywall\""))
        }
    }

    @Test("the plans page is right to left in Arabic, with a choice of currency", arguments: [TestDatabase.sqlite])
    func arabicPlans(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let plans = try await site.get("/ar/join")
            #expect(plans.status == .ok)
            #expect(plans.body.contains("<html lang=\"ar\" dir=\"rtl\""))
            #expect(plans.body.contains("سنويًا"))
            let euros = try await site.get("/ar/join?currency=eur")
            #expect(euros.body.contains("95"))
            #expect(euros.body.contains("aria-current=\"true\">EUR</a>"))
        }
    }

    @Test("with neither Stripe nor test mode configured, nobody can pay and nothing is given away", arguments: [TestDatabase.sqlite])
    func noPayments(database: TestDatabase) async throws {
        try await withSite(on: database, configure: { $0.billing = BillingSettings() }) { site in
            let plans = try await site.get("/join")
            #expect(plans.status == .ok)
            #expect(plans.body.contains("Paid membership is not open yet"))
            #expect(!plans.body.contains("plan__name"))
            #expect(try await site.get("/join/checkout?plan=yearly&currency=usd&return=/").status == .notFound)
            #expect(try await site.get("/billing/test-checkout/\(UUID())").status == .notFound)
        }
    }

    static func signedInReader(_ site: TestSite, email: String) async throws -> TestBrowser {
        let browser = TestBrowser(site: site)
        _ = try await browser.submit(try await browser.get("/signin"), action: "/signin", ["email": email])
        _ = try await browser.submit(try await browser.get(try DevelopmentMail.latestPath(site, containing: "/signin/verify")), action: "/signin/verify")
        return browser
    }

    /// Chooses a plan as a signed-in reader and returns the test-mode checkout page's path.
    static func startCheckout(_ browser: TestBrowser, plan: String) async throws -> String {
        let plans = try await browser.get("/join?return=/")
        let response = try await browser.post("/join/checkout", form: [
            "plan": plan, "currency": "usd", "return": "/",
            "csrf": HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: plans.body).first ?? "",
        ])
        guard let location = response.headers.first(name: .location) else { throw TestSupportError("no checkout: \(response.status)") }
        return String(location.dropFirst(publicURL.count))
    }
}
